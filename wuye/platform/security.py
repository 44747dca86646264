"""Who is calling: the principal behind a request, and the scopes it holds.

The federation package verifies bearer tokens; this module turns the result
into a :class:`Principal` and the :class:`~wuye.platform.db.Scope` that every
database session of the request is limited to.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wuye.platform.db import Scope


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: a user (authorization code) or a client (credentials)."""

    tenant_id: str
    subject: str
    client_id: str | None
    scopes: frozenset[str] = field(default_factory=frozenset)
    role: str | None = None
    host: bool = False  # a principal of the host firm (may use host-only admin routes)
    sandbox: bool = False  # a principal of a developer sandbox (writes to the sandbox ledger)
    token_id: str | None = None

    def has(self, scope: str) -> bool:
        return scope in self.scopes

    @property
    def db_scope(self) -> Scope:
        """Domain routes always see the caller's own tenant, the host firm's included;
        host-only admin routes open a host scope explicitly."""
        return Scope.tenant(self.tenant_id)
