"""Client credentials end to end: the contract the rest of the platform builds on."""

from __future__ import annotations

from authlib.integrations.httpx_client import OAuth2Client

from .conftest import Live


def test_onboarded_firm_gets_a_token_the_platform_accepts(live: Live) -> None:
    firm = live.member()
    with OAuth2Client(firm.client_id, firm.client_secret, scope="estates:read") as client:
        token = client.fetch_token(f"{live.url}/oauth/token", grant_type="client_credentials")
        assert token["token_type"] == "Bearer"
        assert token["scope"] == "estates:read"
        assert "refresh_token" not in token
        response = client.get(f"{live.url}/api/v1/estates")
    assert response.status_code == 200, response.text
