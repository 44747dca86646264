"""Token revocation (RFC 7009)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from authlib.oauth2.rfc7009 import RevocationEndpoint as _RevocationEndpoint

from wuye.federation import tokens
from wuye.federation.oauth2.rfc8414 import ENDPOINT_AUTH_METHODS
from wuye.platform.db import utcnow

if TYPE_CHECKING:
    from wuye.federation.oauth2.server import AuthorizationServer, TokenHandle


class RevocationEndpoint(_RevocationEndpoint):
    """RFC 7009 section 2.1: the server "first validates the client credentials (in
    case of a confidential client) and then verifies whether the token was issued to
    the client making the revocation request" (Authlib does both). Public clients
    identify themselves with ``client_id``."""

    CLIENT_AUTH_METHODS = [*ENDPOINT_AUTH_METHODS, "none"]
    server: AuthorizationServer

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenHandle | None:
        return self.server.find_token(token_string, token_type_hint)

    def revoke_token(self, token: TokenHandle, request: Any) -> None:
        """A refresh token takes its whole grant with it - RFC 7009 section 2.1: "If the
        particular token is a refresh token and the authorization server supports the
        revocation of access tokens, then the authorization server SHOULD also
        invalidate all access tokens based on the same authorization grant". An access
        token is revoked alone."""
        if token.kind == "refresh_token":
            tokens.revoke_family(self.server.session, token.record.family_id)
        elif token.record.revoked_at is None:
            token.record.revoked_at = utcnow()
