"""Authorization server metadata (RFC 8414), served at
``/.well-known/oauth-authorization-server``."""

from __future__ import annotations

from typing import Any

from wuye.federation.scopes import SCOPES
from wuye.federation.service import AUTH_METHODS, GRANT_TYPES
from wuye.federation.tokens import issuer
from wuye.platform.settings import Settings

#: Methods confidential clients authenticate with at introspection and revocation.
ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


def metadata(settings: Settings) -> dict[str, Any]:
    """The metadata document. RFC 8414 section 2: "issuer" is REQUIRED and is the URL
    the tokens' ``iss`` claim carries; "response_types_supported" is REQUIRED."""
    base = issuer(settings)
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "jwks_uri": f"{base}/oauth/jwks.json",
        "registration_endpoint": f"{base}/oauth/register",
        "scopes_supported": list(SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": list(GRANT_TYPES),
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "revocation_endpoint": f"{base}/oauth/revoke",
        "revocation_endpoint_auth_methods_supported": [*ENDPOINT_AUTH_METHODS, "none"],
        "introspection_endpoint": f"{base}/oauth/introspect",
        "introspection_endpoint_auth_methods_supported": ENDPOINT_AUTH_METHODS,
        # RFC 9700 section 2.1.1: "Authorization servers MUST support PKCE" - S256 only.
        "code_challenge_methods_supported": ["S256"],
        "ui_locales_supported": ["zh-CN", "en"],
        "service_documentation": f"{base}/docs",
    }
