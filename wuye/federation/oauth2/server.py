"""Authlib's ``AuthorizationServer`` bound to Starlette requests and wuye's database.

Authlib is synchronous and asks for the client by id without a request at hand,
so each OAuth request runs in a worker thread inside :meth:`AuthorizationServer.unit_of_work`:
one host-scoped transaction, reachable as ``server.session`` by every grant and
endpoint. OAuth error responses are answers, not exceptions, so the transaction
commits them too - which is what lets a detected refresh-token replay revoke the
token family even though the request itself fails.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from authlib.oauth2 import AuthorizationServer as _AuthorizationServer
from authlib.oauth2.rfc6749 import InvalidScopeError, JsonRequest, OAuth2Request, TokenMixin
from authlib.oauth2.rfc6749.requests import BasicOAuth2Payload
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from wuye.federation import tokens
from wuye.federation.models import (
    OAuthClient,
    OAuthToken,
    Role,
    Tenant,
    TenantKind,
    TenantStatus,
    User,
    as_utc,
)
from wuye.federation.scopes import ROLE_SCOPES, SCOPES
from wuye.platform.db import Database, Scope
from wuye.platform.settings import Settings

_session: ContextVar[Session | None] = ContextVar("wuye_oauth2_session", default=None)


class _Payload(BasicOAuth2Payload):
    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        datalist: dict[str, list[str]] = {}
        for key, value in pairs:
            datalist.setdefault(key, []).append(value)
        super().__init__({k: v[0] for k, v in datalist.items()})
        self._datalist = datalist


class StarletteOAuth2Request(OAuth2Request):
    """An ``OAuth2Request`` made from a Starlette request whose body was already read.

    The payload is the query merged with the form, as RFC 6749 lets the authorization
    endpoint take either; ``form`` is the body only (the token endpoint's parameters
    MUST be in the body, RFC 6749 section 3.2).
    """

    def __init__(
        self,
        method: str,
        uri: str,
        headers: Headers,
        query: list[tuple[str, str]],
        form: list[tuple[str, str]],
    ) -> None:
        super().__init__(method=method, uri=uri, headers=headers)
        self._query = dict(query)
        self._form = dict(form)
        self.payload = _Payload(query + form)
        #: The token family a grant continues (set by the code and refresh grants).
        self.family_id: str | None = None

    @property
    def args(self) -> dict[str, str]:
        return self._query

    @property
    def form(self) -> dict[str, str]:
        return self._form


class _JsonPayload:
    def __init__(self, data: Any) -> None:
        self.data = data


class StarletteJsonRequest(JsonRequest):
    """A ``JsonRequest`` (RFC 7591 registration) from an already-parsed JSON body."""

    def __init__(self, method: str, uri: str, headers: Headers, data: Any) -> None:
        super().__init__(method, uri, headers)
        self.payload = _JsonPayload(data)


async def read_oauth2_request(request: Request) -> StarletteOAuth2Request:
    form: list[tuple[str, str]] = []
    if request.method == "POST":
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/x-www-form-urlencoded"):
            parsed = await request.form()
            form = [(k, v) for k, v in parsed.multi_items() if isinstance(v, str)]
    return StarletteOAuth2Request(
        request.method,
        str(request.url),
        request.headers,
        list(request.query_params.multi_items()),
        form,
    )


async def read_json_request(request: Request) -> StarletteJsonRequest:
    try:
        data = await request.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        data = {}
    return StarletteJsonRequest(request.method, str(request.url), request.headers, data)


@dataclass(slots=True)
class TokenHandle(TokenMixin):
    """A token found by introspection or revocation: its record, and which of the two
    tokens of the record was presented."""

    record: OAuthToken
    kind: str  # "access_token" or "refresh_token"
    tenant_usable: bool

    def check_client(self, client: Any) -> bool:
        return self.record.client_id == client.get_client_id()

    def get_scope(self) -> str:
        return self.record.scope

    def get_expires_in(self) -> int:
        return self.record.get_expires_in()

    def expires_at(self) -> datetime:
        value = (
            self.record.refresh_expires_at
            if self.kind == "refresh_token"
            else self.record.expires_at
        )
        assert value is not None
        return as_utc(value)

    def is_expired(self) -> bool:
        return self.expires_at() <= datetime.now(UTC)

    def is_revoked(self) -> bool:
        if self.record.revoked_at is not None or not self.tenant_usable:
            return True
        return self.kind == "refresh_token" and self.record.rotated_at is not None

    def get_user(self) -> str | None:
        return self.record.user_id

    def get_client(self) -> Any:  # pragma: no cover - not used by these endpoints
        raise NotImplementedError


def _subject(user: User) -> str:
    """An owner's tokens name the owner (``owner:<id>``), which is what the domain's
    owner checks compare; other users are named by their account id."""
    return f"owner:{user.owner_id}" if user.owner_id else user.id


class AuthorizationServer(_AuthorizationServer):
    """The platform's authorization server (RFC 6749), configured by :meth:`create`."""

    def __init__(self, database: Database, settings: Settings, verifier: tokens.TokenVerifier):
        super().__init__(scopes_supported=list(SCOPES))
        self.database = database
        self.settings = settings
        self.verifier = verifier

    @classmethod
    def create(
        cls, database: Database, settings: Settings, verifier: tokens.TokenVerifier
    ) -> AuthorizationServer:
        """The server with wuye's grants and endpoints registered. Only the authorization
        code (with PKCE), refresh token and client credentials grants exist: RFC 9700
        section 2.4, "The resource owner password credentials grant MUST NOT be used",
        and section 2.1.2, clients "SHOULD NOT use the implicit grant"."""
        from wuye.federation.oauth2 import rfc6749, rfc7009, rfc7591, rfc7636, rfc7662

        server = cls(database, settings, verifier)
        server.register_grant(
            rfc6749.AuthorizationCodeGrant, [rfc7636.S256CodeChallenge(required=True)]
        )
        server.register_grant(rfc6749.RefreshTokenGrant)
        server.register_grant(rfc6749.ClientCredentialsGrant)
        server.register_endpoint(rfc7662.IntrospectionEndpoint)
        server.register_endpoint(rfc7009.RevocationEndpoint)
        server.register_endpoint(rfc7591.ClientRegistrationEndpoint)
        return server

    # -- the request's transaction ----------------------------------------------------

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        with self.database.transaction(Scope.for_host()) as session:
            token = _session.set(session)
            try:
                yield session
            finally:
                _session.reset(token)

    @property
    def session(self) -> Session:
        session = _session.get()
        if session is None:
            raise RuntimeError("OAuth request outside AuthorizationServer.unit_of_work()")
        return session

    # -- what Authlib asks an integration for -----------------------------------------

    def query_client(self, client_id: str) -> OAuthClient | None:
        """Active clients of active tenants only: a suspended firm's clients cannot
        authenticate at all."""
        from wuye.federation import owner_login

        if client_id == owner_login.RESIDENT_CLIENT_ID:
            owner_login.ensure_resident_client(self.session, settings=self.settings)
        return self.session.scalars(
            select(OAuthClient)
            .join(Tenant, Tenant.id == OAuthClient.tenant_id)
            .where(
                OAuthClient.client_id == client_id,
                OAuthClient.active.is_(True),
                Tenant.status == TenantStatus.ACTIVE,
            )
        ).one_or_none()

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Nothing left to do: :func:`wuye.federation.tokens.mint` records each
        issuance in the same transaction as it signs the token."""

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        if isinstance(request, OAuth2Request):
            return request
        raise TypeError("read the request with read_oauth2_request() first")

    def create_json_request(self, request: Any) -> JsonRequest:
        if isinstance(request, JsonRequest):
            return request
        raise TypeError("read the request with read_json_request() first")

    def handle_response(
        self, status: int, body: Any, headers: list[tuple[str, str]] | Mapping[str, str]
    ) -> Response:
        header_map = dict(headers)
        if isinstance(body, dict):
            return JSONResponse(body, status_code=status, headers=header_map)
        return Response(body or b"", status_code=status, headers=header_map)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """Authlib's signal hook: wuye subscribes to none."""

    # -- issuing --------------------------------------------------------------------

    def issue(
        self,
        request: StarletteOAuth2Request,
        *,
        user: User | None,
        scope: str | None,
        include_refresh_token: bool,
    ) -> dict[str, Any]:
        """Sign and record tokens for ``request.client`` (and ``user``), returning the
        RFC 6749 section 5.1 response.

        The scope granted is the one requested (or, if none, everything the client was
        registered for), narrowed to what the client and the role allow - the user's
        role for a user's token, the client's own role for client credentials.
        RFC 6749 section 3.3: "If the issued access token scope is different from the
        one requested by the client, the authorization server MUST include the "scope"
        response parameter" - the response always carries it.
        """
        client: OAuthClient = request.client
        role = Role(user.role) if user is not None else Role(client.role)
        registered = client.scope.split()
        wanted = scope.split() if scope else registered
        granted = [s for s in wanted if s in registered and s in ROLE_SCOPES[role]]
        if not granted:
            raise InvalidScopeError("no requested scope is allowed to this client and role")
        tenant_id = user.tenant_id if user is not None else client.tenant_id
        tenant = self.session.get(Tenant, tenant_id)
        assert tenant is not None
        issued = tokens.mint(
            self.session,
            settings=self.settings,
            tenant_id=tenant_id,
            subject=_subject(user) if user is not None else client.client_id,
            client_id=client.client_id,
            scopes=granted,
            role=role,
            host=tenant.kind is TenantKind.HOST,
            user_id=user.id if user is not None else None,
            family_id=request.family_id,
            with_refresh_token=include_refresh_token,
        )
        return issued.response()

    # -- tokens presented back (introspection, revocation) ------------------------------

    def find_token(self, token: str, hint: str | None) -> TokenHandle | None:
        """The record of an access token (a JWT we signed) or a refresh token."""
        order = ["refresh_token", "access_token"] if hint == "refresh_token" else None
        for kind in order or ["access_token", "refresh_token"]:
            record = self._record(token, kind)
            if record is not None:
                return TokenHandle(record, kind, self._tenant_usable(record))
        return None

    def _record(self, token: str, kind: str) -> OAuthToken | None:
        if kind == "access_token":
            if token.count(".") != 2:
                return None
            try:
                claims = self.verifier.decode(token, check_expiry=False)
            except tokens.InvalidToken:
                return None
            return self.session.get(OAuthToken, claims["jti"])
        return self.session.scalars(
            select(OAuthToken).where(OAuthToken.refresh_token_hash == tokens.digest(token))
        ).one_or_none()

    def _tenant_usable(self, record: OAuthToken) -> bool:
        tenant = self.session.get(Tenant, record.tenant_id)
        if tenant is None or tenant.status is not TenantStatus.ACTIVE:
            return False
        if tenant.tokens_valid_after is None:
            return True
        return as_utc(record.issued_at) > as_utc(tenant.tokens_valid_after)
