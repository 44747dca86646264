"""Client credentials, introspection (RFC 7662), revocation (RFC 7009), registration
(RFC 7591), metadata (RFC 8414) and the JWK Set, against the live app."""

from __future__ import annotations

import httpx
import pytest
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from joserfc import jwt
from joserfc.jwk import KeySet

from wuye.federation.models import Role
from wuye.federation.tokens import TokenVerifier
from wuye.platform.problems import Problem

from .conftest import Live
from .oauth import REDIRECT_URI


def _client_token(live: Live, client_id: str, secret: str, scope: str | None = None) -> dict:
    with OAuth2Client(client_id, secret, scope=scope) as oauth:
        return oauth.fetch_token(f"{live.url}/oauth/token", grant_type="client_credentials")


def test_client_credentials_token_carries_the_clients_registered_scopes(live: Live) -> None:
    firm = live.member()
    token = _client_token(live, firm.client_id, firm.client_secret)
    principal = TokenVerifier(live.database, live.settings)(token["access_token"])
    assert principal.subject == firm.client_id and principal.role == "tenant_admin"
    assert "admin" in principal.scopes and principal.host is False
    assert set(token["scope"].split()) == principal.scopes


def test_client_credentials_cannot_ask_beyond_its_registration(live: Live) -> None:
    firm = live.member()
    client_id, secret = live.client(
        firm.tenant_id,
        name="报表",
        redirect_uris=[],
        grant_types=["client_credentials"],
        scopes=["estates:read"],
        role=Role.DEVELOPER,
    )
    with httpx.Client(base_url=live.url) as http:
        answer = http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "scope": "estates:write"},
            auth=(client_id, secret),
        )
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_scope"


def test_wrong_client_secret_is_refused_with_rfc6749_error_json(live: Live) -> None:
    firm = live.member()
    with httpx.Client(base_url=live.url) as http:
        answer = http.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, auth=(firm.client_id, "x")
        )
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json()["error"] == "invalid_client"


def _introspect(live: Live, auth: tuple[str, str], token: str) -> dict:
    with httpx.Client(base_url=live.url) as http:
        answer = http.post("/oauth/introspect", data={"token": token}, auth=auth)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_introspection_describes_an_active_token(live: Live) -> None:
    firm = live.member()
    token = _client_token(live, firm.client_id, firm.client_secret, "estates:read")
    body = _introspect(live, (firm.client_id, firm.client_secret), token["access_token"])
    assert body["active"] is True
    assert body["client_id"] == firm.client_id and body["scope"] == "estates:read"
    assert body["iss"] == live.url and body["tenant_id"] == firm.tenant_id
    assert body["exp"] > body["iat"]


def test_introspection_of_another_tenants_token_reads_inactive(live: Live) -> None:
    ours, theirs = live.member(), live.member()
    token = _client_token(live, theirs.client_id, theirs.client_secret)
    body = _introspect(live, (ours.client_id, ours.client_secret), token["access_token"])
    assert body == {"active": False}


def test_revoked_access_token_is_inactive_and_refused_by_the_api(live: Live) -> None:
    firm = live.member()
    auth = (firm.client_id, firm.client_secret)
    token = _client_token(live, *auth)["access_token"]
    with httpx.Client(base_url=live.url) as http:
        assert http.post("/oauth/revoke", data={"token": token}, auth=auth).status_code == 200
        api = http.get("/api/v1/estates", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 401
    assert api.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert _introspect(live, auth, token) == {"active": False}


def test_revoking_a_refresh_token_revokes_the_access_tokens_of_its_grant(live: Live) -> None:
    from .oauth import authorization_code_flow
    from .test_authorization_code import _code_client, _oauth

    firm = live.member()
    username = live.user(firm.tenant_id)
    client_id, secret = _code_client(live, firm.tenant_id)
    with _oauth(client_id, secret) as oauth:
        token = authorization_code_flow(live, oauth, username)
        oauth.revoke_token(f"{live.url}/oauth/revoke", token=str(token["refresh_token"]))
    with pytest.raises(Problem, match="revoked"):
        TokenVerifier(live.database, live.settings)(str(token["access_token"]))


def test_a_client_cannot_revoke_another_clients_token(live: Live) -> None:
    firm, other = live.member(), live.member()
    token = _client_token(live, firm.client_id, firm.client_secret)["access_token"]
    with httpx.Client(base_url=live.url) as http:
        answer = http.post(
            "/oauth/revoke", data={"token": token}, auth=(other.client_id, other.client_secret)
        )
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"
    TokenVerifier(live.database, live.settings)(token)


def test_registration_needs_an_initial_access_token(live: Live) -> None:
    with httpx.Client(base_url=live.url) as http:
        answer = http.post("/oauth/register", json={"client_name": "x"})
        wrong = http.post(
            "/oauth/register", json={"client_name": "x"}, headers={"Authorization": "Bearer no"}
        )
    for refused in (answer, wrong):
        assert refused.status_code == 401
        assert refused.json()["error"] == "invalid_token"
        assert refused.headers["www-authenticate"].startswith("Bearer")


def _register(live: Live, token: str, metadata: dict) -> httpx.Response:
    with httpx.Client(base_url=live.url) as http:
        return http.post(
            "/oauth/register", json=metadata, headers={"Authorization": f"Bearer {token}"}
        )


def test_registered_client_joins_the_sandbox_and_can_get_tokens(live: Live) -> None:
    answer = _register(
        live,
        live.settings.registration_token.get_secret_value(),
        {
            "client_name": "第三方应用",
            "grant_types": ["client_credentials"],
            "scope": "estates:read",
        },
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["grant_types"] == ["client_credentials"] and body["client_secret"]
    token = _client_token(live, body["client_id"], body["client_secret"])
    principal = TokenVerifier(live.database, live.settings)(token["access_token"])
    assert principal.role == "developer" and principal.scopes == {"estates:read"}


def test_registration_defaults_to_the_authorization_code_grant(live: Live) -> None:
    answer = _register(
        live,
        live.settings.registration_token.get_secret_value(),
        {"redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": "none"},
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["grant_types"] == ["authorization_code"] and body["response_types"] == ["code"]
    assert "client_secret" not in body


@pytest.mark.parametrize(
    ("metadata", "error"),
    [
        ({"grant_types": ["implicit"], "redirect_uris": [REDIRECT_URI]}, "invalid_client_metadata"),
        ({"grant_types": ["password"]}, "invalid_client_metadata"),
        ({"redirect_uris": ["http://example.com/cb"]}, "invalid_redirect_uri"),
        ({"grant_types": ["client_credentials"], "scope": "admin"}, "invalid_client_metadata"),
    ],
)
def test_registration_refuses_what_the_platform_does_not_allow(
    live: Live, metadata: dict, error: str
) -> None:
    answer = _register(live, live.settings.registration_token.get_secret_value(), metadata)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == error


def test_a_tenant_admin_token_registers_clients_into_its_tenant(live: Live) -> None:
    firm = live.member()
    admin_token = _client_token(live, firm.client_id, firm.client_secret, "admin")
    answer = _register(
        live,
        admin_token["access_token"],
        {"grant_types": ["client_credentials"], "scope": "estates:read"},
    )
    assert answer.status_code == 201, answer.text
    token = _client_token(live, answer.json()["client_id"], answer.json()["client_secret"])
    principal = TokenVerifier(live.database, live.settings)(token["access_token"])
    assert principal.tenant_id == firm.tenant_id


def test_metadata_document_is_valid_rfc8414(live: Live) -> None:
    with httpx.Client(base_url=live.url) as http:
        body = http.get("/.well-known/oauth-authorization-server").json()
    AuthorizationServerMetadata(body).validate()
    assert body["issuer"] == live.url
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert body["response_types_supported"] == ["code"]
    assert not {"implicit", "password"} & set(body["grant_types_supported"])


def test_jwks_verifies_the_access_tokens(live: Live) -> None:
    firm = live.member()
    token = _client_token(live, firm.client_id, firm.client_secret)["access_token"]
    with httpx.Client(base_url=live.url) as http:
        jwks = http.get("/oauth/jwks.json").json()
    assert all("d" not in key for key in jwks["keys"])
    decoded = jwt.decode(token, KeySet.import_key_set(jwks), algorithms=["ES256"])
    assert decoded.claims["tenant_id"] == firm.tenant_id


def test_token_endpoint_over_plain_http_to_a_public_host_is_refused_not_crashed(
    settings, sqlite_database
) -> None:
    from fastapi.testclient import TestClient

    from wuye.platform.app import create_app

    with TestClient(create_app(settings, sqlite_database), base_url="http://wuye.example") as c:
        answer = c.post("/oauth/token", data={"grant_type": "client_credentials"})
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"
    assert "HTTPS" in answer.json()["error_description"]
