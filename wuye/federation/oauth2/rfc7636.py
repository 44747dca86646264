"""PKCE (RFC 7636), required for every authorization request, S256 only.

RFC 9700 section 2.1.1: "Authorization servers MUST support PKCE" and "MUST
mitigate PKCE downgrade attacks"; the ``plain`` method only helps where SHA-256
is unavailable, which is nowhere here, so it is refused.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import InvalidRequestError
from authlib.oauth2.rfc7636 import CodeChallenge


class S256CodeChallenge(CodeChallenge):
    """Authlib's ``CodeChallenge`` that insists on ``code_challenge_method=S256``."""

    DEFAULT_CODE_CHALLENGE_METHOD = "S256"
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: missing 'code_challenge'")
        # RFC 7636 section 4.3: a missing method means "plain" - so it must be explicit.
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("'code_challenge_method' must be S256")
        super().validate_code_challenge(grant, redirect_uri)
