"""FastAPI dependencies shared by every router: the database, the caller, its scopes.

A route declares what it needs with ``ctx: Context = scoped("estates:read")`` and
works with ``ctx.session``, a session limited to the caller's tenant (see ``db.py``)
in one transaction around the route (see :func:`unit_of_work`).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from fastapi import Depends, Request, Security
from fastapi.routing import APIRoute
from fastapi.security import OAuth2AuthorizationCodeBearer, SecurityScopes
from sqlalchemy.orm import Session

from wuye.federation.scopes import SCOPES
from wuye.platform.db import Database, Scope
from wuye.platform.problems import Problem
from wuye.platform.security import Principal

T = TypeVar("T")

oauth2_scheme = OAuth2AuthorizationCodeBearer(
    authorizationUrl="/oauth/authorize",
    tokenUrl="/oauth/token",
    refreshUrl="/oauth/token",
    scopes=SCOPES,
    auto_error=False,
)


async def get_database(request: Request) -> Database:
    return request.app.state.db


def authenticate(request: Request, token: str | None, scopes: Sequence[str]) -> Principal:
    """The verified caller behind ``token``, holding every one of ``scopes``."""
    if not token:
        raise Problem(
            "unauthorized",
            "missing bearer token",
            headers={"WWW-Authenticate": 'Bearer realm="wuye"'},
        )
    principal: Principal = request.app.state.token_verifier(token)
    missing = [s for s in scopes if not principal.has(s)]
    if missing:
        wanted = " ".join(missing)
        raise Problem(
            "insufficient-scope",
            f"token lacks scope {wanted}",
            headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{wanted}"'},
        )
    request.state.principal = principal
    return principal


def current_principal(
    security_scopes: SecurityScopes,
    request: Request,
    token: str | None = Depends(oauth2_scheme),
) -> Principal:
    """Dependency: the verified caller, holding every scope the route asks for."""
    return authenticate(request, token, security_scopes.scopes)


class Context:
    """What a route works with: the verified caller and a session limited to its tenant.

    ``session`` exists only while the route runs: :func:`unit_of_work` opens it in the
    route's own thread and commits it there before the route's result is serialised.
    """

    __slots__ = ("principal", "database", "scope", "_session")

    def __init__(self, *, principal: Principal, database: Database, scope: Scope) -> None:
        self.principal = principal
        self.database = database
        self.scope = scope
        self._session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError(
                "no transaction: create the route's router with "
                "route_class=wuye.platform.deps.UnitOfWorkRoute"
            )
        return self._session


def require(*scopes: str) -> Callable[..., Context]:
    """Dependency for a route: the caller must hold every one of ``scopes``."""

    def dependency(
        request: Request,
        token: str | None = Security(oauth2_scheme, scopes=list(scopes)),
    ) -> Context:
        principal = authenticate(request, token, scopes)
        return Context(principal=principal, database=request.app.state.db, scope=principal.db_scope)

    return dependency


def scoped(*scopes: str) -> Context:
    """``ctx: Context = scoped("estates:read")`` in a route's signature."""
    return Depends(require(*scopes))


def unit_of_work(endpoint: Callable[..., T]) -> Callable[..., T]:
    """Run a synchronous route inside one transaction, opened and committed in the
    route's own worker thread: a failure writes nothing, and a database connection
    is never held while the request waits for a thread (which could deadlock a
    full pool)."""

    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> T:
        ctx = next((v for v in kwargs.values() if isinstance(v, Context)), None)
        if ctx is None:
            return endpoint(*args, **kwargs)
        with ctx.database.transaction(ctx.scope) as session:
            ctx._session = session
            try:
                return endpoint(*args, **kwargs)
            finally:
                ctx._session = None

    return run


class UnitOfWorkRoute(APIRoute):
    """The route class of every API router: a synchronous route taking a
    :class:`Context` runs as one :func:`unit_of_work`."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if not inspect.iscoroutinefunction(endpoint):
            endpoint = unit_of_work(endpoint)
        super().__init__(path, endpoint, **kwargs)
