"""Token introspection (RFC 7662) for resource servers holding client credentials."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from authlib.oauth2.rfc7662 import IntrospectionEndpoint as _IntrospectionEndpoint

from wuye.federation.models import OAuthClient, Tenant, TenantKind
from wuye.federation.oauth2.rfc8414 import ENDPOINT_AUTH_METHODS
from wuye.federation.tokens import audience, issuer

if TYPE_CHECKING:
    from wuye.federation.oauth2.server import AuthorizationServer, TokenHandle


class IntrospectionEndpoint(_IntrospectionEndpoint):
    """RFC 7662 section 2.1: "the endpoint MUST also require some form of authorization
    to access this endpoint" - a confidential client's credentials. A client may
    introspect tokens of its own tenant (or any, if it belongs to the host firm);
    anything else reads as inactive (section 2.2: "If the introspection call is
    properly authorized but the token is not active, does not exist on this server,
    or the protected resource is not allowed to introspect this particular token,
    then the authorization server MUST return an introspection response with the
    "active" field set to "false"")."""

    CLIENT_AUTH_METHODS = ENDPOINT_AUTH_METHODS
    server: AuthorizationServer

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenHandle | None:
        return self.server.find_token(token_string, token_type_hint)

    def check_permission(self, token: TokenHandle, client: OAuthClient, request: Any) -> bool:
        if token.record.tenant_id == client.tenant_id:
            return True
        tenant = self.server.session.get(Tenant, client.tenant_id)
        return tenant is not None and tenant.kind is TenantKind.HOST

    def introspect_token(self, token: TokenHandle) -> dict[str, Any]:
        record = token.record
        return {
            "active": True,
            "scope": record.scope,
            "client_id": record.client_id,
            "token_type": "Bearer" if token.kind == "access_token" else "refresh_token",
            "exp": int(token.expires_at().timestamp()),
            "iat": int(record.issued_at.timestamp()),
            "sub": record.subject,
            "aud": audience(self.server.settings),
            "iss": issuer(self.server.settings),
            "jti": record.jti,
            "tenant_id": record.tenant_id,
            "role": record.role,
        }
