"""Dynamic client registration (RFC 7591), protected by an initial access token.

Two kinds of initial access token are accepted (RFC 7591 section 3: "The
authorization server MAY be configured to ... require an initial access token"):

* the platform's registration token (``WUYE_REGISTRATION_TOKEN``, or one generated
  once under ``var/``): the client joins the shared developer sandbox tenant;
* an access token of a tenant holding the ``admin`` scope: the client joins that
  tenant.

Either way the client acts with the developer role, so it can never be granted
more than that role allows.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from authlib.oauth2.rfc6750 import InvalidTokenError
from authlib.oauth2.rfc7591 import ClientRegistrationEndpoint as _RegistrationEndpoint
from authlib.oauth2.rfc7591 import InvalidClientMetadataError, InvalidRedirectURIError

from wuye.federation import service
from wuye.federation.models import OAuthClient, Role
from wuye.federation.oauth2.rfc8414 import metadata
from wuye.federation.tokens import InvalidToken
from wuye.platform.problems import Problem
from wuye.platform.settings import Settings

if TYPE_CHECKING:
    from wuye.federation.oauth2.server import AuthorizationServer

#: Client metadata kept for display; the rest is stored in dedicated columns.
_DISPLAY_FIELDS = ("client_uri", "logo_uri", "contacts", "tos_uri", "policy_uri", "software_id")


def registration_token(settings: Settings) -> str:
    """The platform's initial access token: configured, or generated once and kept
    (mode 0600) under ``settings.var_dir``."""
    configured = settings.registration_token.get_secret_value()
    if configured:
        return configured
    path = settings.var_dir / "registration.token"
    if not path.exists():
        settings.var_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


@dataclass(frozen=True, slots=True)
class RegistrationGrant:
    """Who may register, and where the client goes."""

    tenant_id: str | None  # None: the shared sandbox tenant


class ClientRegistrationEndpoint(_RegistrationEndpoint):
    server: AuthorizationServer

    def authenticate_token(self, request: Any) -> RegistrationGrant:
        """RFC 7591 section 3.2.2 refers to RFC 6750 for a bad initial access token:
        401 with ``WWW-Authenticate: Bearer error="invalid_token"``."""
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not value:
            raise InvalidTokenError("an initial access token is required")
        if hmac.compare_digest(value.encode(), registration_token(self.server.settings).encode()):
            return RegistrationGrant(tenant_id=None)
        try:
            principal = self.server.verifier.principal(value)
        except InvalidToken as exc:
            raise InvalidTokenError("the initial access token is not valid") from exc
        if not principal.has("admin"):
            raise InvalidTokenError("the access token lacks the admin scope")
        return RegistrationGrant(tenant_id=principal.tenant_id)

    def get_server_metadata(self) -> dict[str, Any]:
        return metadata(self.server.settings)

    def generate_client_id(self, request: Any) -> str:
        return secrets.token_urlsafe(18)

    def generate_client_secret(self, request: Any) -> str | None:
        if request.payload.data.get("token_endpoint_auth_method") == "none":
            return None  # a public client has no secret
        return secrets.token_urlsafe(32)

    def generate_client_info(self, request: Any) -> dict[str, Any]:
        info = super().generate_client_info(request)
        if info["client_secret"] is None:
            # RFC 7591 section 3.2.1: client_secret is OPTIONAL, and with it goes
            # client_secret_expires_at ("REQUIRED if client_secret is issued").
            del info["client_secret"], info["client_secret_expires_at"]
        return info

    def save_client(
        self, client_info: dict[str, Any], client_metadata: dict[str, Any], request: Any
    ) -> OAuthClient:
        grant: RegistrationGrant = request.credential
        session = self.server.session
        tenant_id = grant.tenant_id or service.sandbox_tenant(session).id
        # RFC 7591 section 2: grant_types "If omitted, the default behavior is that the
        # client will use only the "authorization_code" Grant Type."
        grant_types = client_metadata.get("grant_types") or ["authorization_code"]
        scope = client_metadata.get("scope")
        try:
            spec = service.client_spec(
                role=Role.DEVELOPER,
                redirect_uris=client_metadata.get("redirect_uris") or [],
                grant_types=grant_types,
                scopes=scope.split() if scope else None,
                token_endpoint_auth_method=client_metadata.get(
                    "token_endpoint_auth_method", service.DEFAULT_AUTH_METHOD
                ),
            )
        except ValueError as exc:
            if str(exc).startswith("redirect_uris"):
                raise InvalidRedirectURIError(str(exc)) from exc
            raise InvalidClientMetadataError(str(exc)) from exc
        try:
            client, _ = service.create_client(
                session,
                tenant_id=tenant_id,
                name=client_metadata.get("client_name") or client_info["client_id"],
                redirect_uris=spec.redirect_uris,
                grant_types=spec.grant_types,
                scopes=spec.scope.split(),
                role=Role.DEVELOPER,
                token_endpoint_auth_method=spec.token_endpoint_auth_method,
                metadata={k: client_metadata[k] for k in _DISPLAY_FIELDS if k in client_metadata},
                client_id=client_info["client_id"],
                client_secret=client_info.get("client_secret"),
            )
        except Problem as exc:
            raise InvalidClientMetadataError(exc.detail) from exc
        return client

    def generate_client_registration_info(
        self, client: OAuthClient, request: Any
    ) -> dict[str, Any]:
        """What was actually registered, defaults included. RFC 7591 section 3.2.1: the
        response "MUST contain all registered metadata about the client"."""
        return {
            "client_name": client.name,
            "grant_types": client.grant_types,
            "response_types": client.response_types,
            "scope": client.scope,
            "redirect_uris": client.redirect_uris,
            "token_endpoint_auth_method": client.token_endpoint_auth_method,
        }
