"""FastAPI dependencies shared by every router: the database, the caller, its scopes.

A route declares what it needs with ``ctx: Context = scoped("estates:read")`` and
works with ``ctx.session``, a session limited to the caller's tenant (see ``db.py``)
in one transaction around the route (see :func:`unit_of_work`).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

from fastapi import Depends, Request, Response, Security
from fastapi.routing import APIRoute
from fastapi.security import OAuth2AuthorizationCodeBearer, SecurityScopes
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from wuye.federation.scopes import SCOPES
from wuye.platform.db import Database, Scope
from wuye.platform.fastpath import RESOLVE_ATTR, compile_plan, effective_route
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
        raise _missing_token()
    principal: Principal = request.app.state.token_verifier(token)
    _check_scopes(principal, scopes)
    request.state.principal = principal
    return principal


def current_principal(
    security_scopes: SecurityScopes,
    request: Request,
    token: str | None = Depends(oauth2_scheme),
) -> Principal:
    """Dependency: the verified caller, holding every scope the route asks for."""
    return authenticate(request, token, security_scopes.scopes)


def _missing_token() -> Problem:
    return Problem(
        "unauthorized",
        "missing bearer token",
        headers={"WWW-Authenticate": 'Bearer realm="wuye"'},
    )


def _check_scopes(principal: Principal, scopes: Sequence[str]) -> None:
    missing = [s for s in scopes if not principal.has(s)]
    if missing:
        wanted = " ".join(missing)
        raise Problem(
            "insufficient-scope",
            f"token lacks scope {wanted}",
            headers={"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{wanted}"'},
        )


class Context:
    """What a route works with: the verified caller and a session limited to its tenant.

    ``session`` exists only while the route runs: :func:`unit_of_work` opens it in the
    route's own thread and commits it there before the route's result is serialised.

    A context made by :func:`scoped` holds a token whose signature and claims are
    checked but whose state (revocation, the tenant's status) is not yet read:
    :func:`unit_of_work` reads it first thing in the route's own transaction, so a
    request costs one thread crossing, one connection and one transaction. Until then
    ``principal`` refuses to answer (fail closed).
    """

    __slots__ = ("_principal", "database", "scope", "_session", "_claims", "_scopes", "_verifier")

    def __init__(self, *, principal: Principal, database: Database, scope: Scope) -> None:
        self._principal: Principal | None = principal
        self.database = database
        self.scope = scope
        self._session: Session | None = None
        self._claims: dict[str, Any] | None = None
        self._scopes: Sequence[str] = ()
        self._verifier: Any = None

    @classmethod
    def unconfirmed(
        cls, *, claims: dict[str, Any], scopes: Sequence[str], verifier: Any, database: Database
    ) -> Context:
        """A context for a token whose state :meth:`confirm` has still to read."""
        ctx = cls.__new__(cls)
        ctx._principal = None
        ctx.database = database
        # Domain routes see the token's own tenant (Principal.db_scope).
        ctx.scope = Scope.tenant(claims["tenant_id"])
        ctx._session = None
        ctx._claims = claims
        ctx._scopes = scopes
        ctx._verifier = verifier
        return ctx

    @property
    def confirmed(self) -> bool:
        return self._principal is not None

    def confirm(self, session: Session) -> Principal:
        """Read the token's state in ``session``'s transaction; then check the scopes."""
        if self._principal is None:
            assert self._claims is not None
            principal: Principal = self._verifier.confirmed(session.connection(), self._claims)
            _check_scopes(principal, self._scopes)
            self._principal = principal
        return self._principal

    def confirm_alone(self) -> Principal:
        """:meth:`confirm` in a short transaction of its own (asynchronous routes)."""
        with self.database.transaction(self.scope) as session:
            return self.confirm(session)

    @property
    def principal(self) -> Principal:
        if self._principal is None:
            raise RuntimeError(
                "token state not read: create the route's router with "
                "route_class=wuye.platform.deps.UnitOfWorkRoute"
            )
        return self._principal

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError(
                "no transaction: create the route's router with "
                "route_class=wuye.platform.deps.UnitOfWorkRoute"
            )
        return self._session


def context_for(request: Request, token: str | None, scopes: Sequence[str]) -> Context:
    """The :class:`Context` of a request bearing ``token``, for a route needing ``scopes``:
    the token's signature and claims checked, its state left to :func:`unit_of_work`."""
    if not token:
        raise _missing_token()
    state = request.app.state
    verifier = state.token_verifier
    return Context.unconfirmed(
        claims=verifier.claims(token), scopes=scopes, verifier=verifier, database=state.db
    )


def require(*scopes: str) -> Callable[..., Any]:
    """Dependency for a route: the caller must hold every one of ``scopes``.

    Asynchronous, so that it costs no thread crossing: it checks only what needs no
    database (the signature against a cached key, the claims). The token's state is
    read by :func:`unit_of_work` in the route's transaction.
    """

    async def dependency(
        request: Request,
        token: str | None = Security(oauth2_scheme, scopes=list(scopes)),
    ) -> Context:
        return context_for(request, token, scopes)

    async def resolve(request: Request) -> Context:
        return context_for(request, await oauth2_scheme(request), scopes)

    # A route's request plan (fastpath.py) resolves the dependency from the request alone.
    setattr(dependency, RESOLVE_ATTR, resolve)
    return dependency


def scoped(*scopes: str) -> Context:
    """``ctx: Context = scoped("estates:read")`` in a route's signature."""
    return Depends(require(*scopes))


def _context_of(kwargs: dict[str, Any]) -> Context | None:
    for value in kwargs.values():
        if isinstance(value, Context):
            return value
    return None


def unit_of_work(endpoint: Callable[..., T]) -> Callable[..., T]:
    """Run a synchronous route inside one transaction, opened and committed in the
    route's own worker thread: a failure writes nothing, and a database connection
    is never held while the request waits for a thread (which could deadlock a
    full pool). The caller's token state is read first, in the same transaction."""

    @functools.wraps(endpoint)
    def run(*args: Any, **kwargs: Any) -> T:
        ctx = _context_of(kwargs)
        if ctx is None:
            return endpoint(*args, **kwargs)
        with ctx.database.transaction(ctx.scope) as session:
            ctx.confirm(session)
            ctx._session = session
            try:
                return endpoint(*args, **kwargs)
            finally:
                ctx._session = None

    return run


def confirmed_first(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """An asynchronous route taking a :class:`Context` runs once its token state is read."""

    @functools.wraps(endpoint)
    async def run(*args: Any, **kwargs: Any) -> Any:
        ctx = _context_of(kwargs)
        if ctx is not None and not ctx.confirmed:
            await run_in_threadpool(ctx.confirm_alone)
        return await endpoint(*args, **kwargs)

    return run


class UnitOfWorkRoute(APIRoute):
    """The route class of every API router: a synchronous route taking a
    :class:`Context` runs as one :func:`unit_of_work`; an asynchronous one first has
    its caller's token state read (:func:`confirmed_first`). Its parameters are solved
    by a request plan where one can be compiled (see ``fastpath.py``)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if inspect.iscoroutinefunction(endpoint):
            endpoint = confirmed_first(endpoint)
        else:
            endpoint = unit_of_work(endpoint)
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        standard = super().get_route_handler()
        plan = compile_plan(effective_route(self))
        return standard if plan is None else plan.handler(standard)
