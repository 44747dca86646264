"""FastAPI dependencies shared by every router: the database, the caller, its scopes.

A route declares what it needs with ``Depends(require("estates:read"))`` and
receives a session already limited to the caller's tenant (see ``db.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from fastapi import Depends, Request, Security
from fastapi.security import OAuth2AuthorizationCodeBearer, SecurityScopes
from sqlalchemy.orm import Session

from wuye.federation.scopes import SCOPES
from wuye.platform.db import Database
from wuye.platform.problems import Problem
from wuye.platform.security import Principal

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


@dataclass(slots=True)
class Context:
    """What a route works with: the verified caller and a session limited to its tenant."""

    principal: Principal
    session: Session


def require(*scopes: str) -> Callable[..., Iterator[Context]]:
    """Dependency for a route: the caller must hold every one of ``scopes``.

    Yields a :class:`Context` whose session is one transaction, committed when the
    route returns and before the response is sent (``scope="function"``), or rolled
    back if it raises: a failure writes nothing. Verification and the transaction
    share one dependency, so a request crosses into the thread pool once for them.
    """

    def dependency(
        request: Request,
        token: str | None = Security(oauth2_scheme, scopes=list(scopes)),
    ) -> Iterator[Context]:
        principal = authenticate(request, token, scopes)
        with request.app.state.db.transaction(principal.db_scope) as session:
            yield Context(principal=principal, session=session)

    return dependency


def scoped(*scopes: str) -> Context:
    """``ctx: Context = scoped("estates:read")`` in a route's signature."""
    return Depends(require(*scopes), scope="function")
