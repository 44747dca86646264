"""The grants of RFC 6749 that wuye offers: authorization code (with PKCE, see
``rfc7636``), refresh token (rotated, with reuse detection) and client credentials.

Each subclasses Authlib's grant and overrides only what storage and policy need.
Tokens are minted by :meth:`AuthorizationServer.issue` so that every grant records
its issuance and keeps the token family of the authorization it continues.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from authlib.oauth2.rfc6749 import InvalidScopeError, grants
from sqlalchemy import select

from wuye.federation import tokens
from wuye.federation.models import (
    AuthorizationCode,
    OAuthClient,
    OAuthToken,
    Role,
    Tenant,
    TenantStatus,
    User,
    as_utc,
)
from wuye.federation.scopes import ROLE_SCOPES
from wuye.platform.db import utcnow

if TYPE_CHECKING:
    from wuye.federation.oauth2.server import AuthorizationServer, StarletteOAuth2Request

#: RFC 6749 section 4.1.2: "A maximum authorization code lifetime of 10 minutes is
#: RECOMMENDED."
CODE_LIFETIME = timedelta(minutes=10)


def _usable_user(server: AuthorizationServer, user_id: str | None) -> User | None:
    if user_id is None:
        return None
    user = server.session.get(User, user_id)
    if user is None or not user.active:
        return None
    tenant = server.session.get(Tenant, user.tenant_id)
    if tenant is None or tenant.status is not TenantStatus.ACTIVE:
        return None
    return user


class _IssuesRecordedTokens:
    """Grant mixin: tokens come from the server's :meth:`issue`, not a bare generator."""

    request: StarletteOAuth2Request
    server: AuthorizationServer

    def generate_token(
        self,
        user: User | None = None,
        scope: str | None = None,
        grant_type: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        return self.server.issue(
            self.request, user=user, scope=scope, include_refresh_token=include_refresh_token
        )


class AuthorizationCodeGrant(_IssuesRecordedTokens, grants.AuthorizationCodeGrant):
    """Authorization code grant (RFC 6749 section 4.1). Public clients authenticate
    with ``none`` and are protected by PKCE, which every request must use."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def create_authorization_response(self, redirect_uri: str, grant_user: Any) -> Any:
        self._redirect_uri = redirect_uri
        return super().create_authorization_response(redirect_uri, grant_user)

    def save_authorization_code(self, code: str, request: Any) -> None:
        """Store the code's digest, bound to the client, the redirect URI, the PKCE
        challenge and the user; the scope is narrowed to what the user's role allows."""
        user: User = request.user
        scope = [s for s in (request.scope or "").split() if s in ROLE_SCOPES[Role(user.role)]]
        if not scope:
            raise InvalidScopeError(
                "none of the requested scopes is allowed to this user",
                redirect_uri=self._redirect_uri,
            )
        data = request.payload.data
        self.server.session.add(
            AuthorizationCode(
                code_hash=tokens.digest(code),
                client_id=request.client.client_id,
                user_id=user.id,
                redirect_uri=request.payload.redirect_uri or "",
                scope=" ".join(scope),
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
                expires_at=utcnow() + CODE_LIFETIME,
            )
        )
        self.server.session.flush()

    def query_authorization_code(self, code: str, client: OAuthClient) -> AuthorizationCode | None:
        """RFC 6749 section 4.1.2: "The client MUST NOT use the authorization code more
        than once. If an authorization code is used more than once, the authorization
        server MUST deny the request and SHOULD revoke (when possible) all tokens
        previously issued based on that authorization code." """
        session = self.server.session
        row = session.scalars(
            select(AuthorizationCode)
            .where(AuthorizationCode.code_hash == tokens.digest(code))
            .with_for_update()
        ).one_or_none()
        if row is None or row.client_id != client.client_id:
            return None
        if row.used_at is not None:
            tokens.revoke_family(session, row.family_id)
            return None
        if as_utc(row.expires_at) <= utcnow():
            return None
        self.request.family_id = row.family_id
        return row

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        # Kept, marked used, so that a replay is recognised (and revokes the family).
        authorization_code.used_at = utcnow()

    def authenticate_user(self, authorization_code: AuthorizationCode) -> User | None:
        return _usable_user(self.server, authorization_code.user_id)


class RefreshTokenGrant(_IssuesRecordedTokens, grants.RefreshTokenGrant):
    """Refresh token grant (RFC 6749 section 6) with rotation and reuse detection.

    RFC 9700 section 4.14.2: refresh tokens for public clients "MUST be sender-
    constrained or use refresh token rotation"; with rotation, if a refresh token
    is presented that was already exchanged, "the authorization server cannot
    determine which party submitted the invalid refresh token, [so it] will revoke
    the active refresh token" - here, every token of the family.
    """

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> OAuthToken | None:
        session = self.server.session
        row = session.scalars(
            select(OAuthToken)
            .where(OAuthToken.refresh_token_hash == tokens.digest(refresh_token))
            .with_for_update()
        ).one_or_none()
        if row is None:
            return None
        if row.rotated_at is not None and row.revoked_at is None:
            tokens.revoke_family(session, row.family_id)  # replay: revoke the whole family
            return None
        if not row.refresh_token_usable():
            return None
        tenant = session.get(Tenant, row.tenant_id)
        if tenant is None or tenant.status is not TenantStatus.ACTIVE:
            return None
        if tenant.tokens_valid_after and as_utc(row.issued_at) <= as_utc(tenant.tokens_valid_after):
            return None
        return row

    def authenticate_user(self, refresh_token: OAuthToken) -> User | None:
        return _usable_user(self.server, refresh_token.user_id)

    def issue_token(self, user: User, refresh_token: OAuthToken) -> dict[str, Any]:
        self.request.family_id = refresh_token.family_id
        return super().issue_token(user, refresh_token)

    def revoke_old_credential(self, refresh_token: OAuthToken) -> None:
        refresh_token.rotated_at = utcnow()


class ClientCredentialsGrant(_IssuesRecordedTokens, grants.ClientCredentialsGrant):
    """Client credentials grant (RFC 6749 section 4.4): the client acts in its own name,
    with the scopes of its registration and role. RFC 6749 section 4.4.3: "A refresh
    token SHOULD NOT be included." """

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def validate_token_request(self) -> None:
        super().validate_token_request()
        requested = (self.request.payload.scope or "").split()
        registered = set(self.request.client.scope.split())
        if any(s not in registered for s in requested):
            raise InvalidScopeError("the client is not registered for the requested scope")
