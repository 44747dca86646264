"""Authorization code with PKCE, driven with Authlib's httpx client against the live app,
the sign-in and consent page driven like a browser."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from sqlalchemy import select

from wuye.federation.models import LoginThrottle, Role
from wuye.federation.tokens import TokenVerifier
from wuye.platform.db import Scope
from wuye.platform.problems import Problem

from .conftest import PASSWORD, Live
from .oauth import REDIRECT_URI, authorization_code_flow, consent_form, sign_in


def _code_client(live: Live, tenant_id: str, **kwargs: object) -> tuple[str, str | None]:
    args: dict[str, object] = dict(
        name="物业管家 App",
        redirect_uris=[REDIRECT_URI],
        grant_types=["authorization_code", "refresh_token"],
        scopes=["estates:read", "estates:write"],
        role=Role.DEVELOPER,
    )
    args.update(kwargs)
    return live.client(tenant_id, **args)


def _oauth(client_id: str, secret: str | None, scope: str = "estates:read") -> OAuth2Client:
    return OAuth2Client(
        client_id,
        secret,
        redirect_uri=REDIRECT_URI,
        scope=scope,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic" if secret else "none",
    )


def _query(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def test_user_signs_in_consents_and_the_client_gets_a_token_for_the_user(live: Live) -> None:
    firm = live.member()
    username = live.user(firm.tenant_id, Role.TENANT_STAFF)
    client_id, secret = _code_client(live, firm.tenant_id)
    with _oauth(client_id, secret) as oauth:
        token = authorization_code_flow(live, oauth, username)
        assert token["scope"] == "estates:read" and token["refresh_token"]
        assert oauth.get(f"{live.url}/api/v1/estates").status_code == 200
    principal = TokenVerifier(live.database, live.settings)(str(token["access_token"]))
    assert (principal.tenant_id, principal.role, principal.client_id) == (
        firm.tenant_id,
        "tenant_staff",
        client_id,
    )


def test_public_client_uses_pkce_instead_of_a_secret(live: Live) -> None:
    firm = live.member()
    username = live.user(firm.tenant_id)
    client_id, secret = _code_client(live, firm.tenant_id, token_endpoint_auth_method="none")
    assert secret is None
    with _oauth(client_id, None) as oauth:
        assert authorization_code_flow(live, oauth, username)["access_token"]


def test_scope_is_narrowed_to_what_the_users_role_allows(live: Live) -> None:
    firm = live.member()
    owner = live.user(firm.tenant_id, Role.OWNER)
    client_id, secret = _code_client(live, firm.tenant_id)
    with _oauth(client_id, secret, scope="estates:read estates:write") as oauth:
        token = authorization_code_flow(live, oauth, owner)
    assert token["scope"] == "estates:read"


def _authorize_url(live: Live, client_id: str, **params: str) -> str:
    from urllib.parse import urlencode

    query = {"response_type": "code", "client_id": client_id, "redirect_uri": REDIRECT_URI}
    query.update(params)
    return f"{live.url}/oauth/authorize?{urlencode(query)}"


def test_authorization_request_without_pkce_is_refused(live: Live) -> None:
    firm = live.member()
    client_id, _ = _code_client(live, firm.tenant_id)
    with live.http() as browser:
        answer = browser.get(_authorize_url(live, client_id, state="s1"))
    assert answer.status_code == 302
    assert _query(answer.headers["location"]) == {
        "error": "invalid_request",
        "error_description": "PKCE is required: missing 'code_challenge'",
        "state": "s1",
    }


def test_plain_pkce_is_refused(live: Live) -> None:
    firm = live.member()
    client_id, _ = _code_client(live, firm.tenant_id)
    challenge = generate_token(48)
    url = _authorize_url(live, client_id, code_challenge=challenge, code_challenge_method="plain")
    with live.http() as browser:
        answer = browser.get(url)
    assert _query(answer.headers["location"])["error"] == "invalid_request"


def test_unregistered_redirect_uri_is_shown_as_an_error_and_never_followed(live: Live) -> None:
    firm = live.member()
    client_id, _ = _code_client(live, firm.tenant_id)
    challenge = create_s256_code_challenge(generate_token(48))
    for redirect in (REDIRECT_URI + "/evil", REDIRECT_URI + "?x=1", "http://127.0.0.1:9/"):
        url = _authorize_url(
            live,
            client_id,
            redirect_uri=redirect,
            code_challenge=challenge,
            code_challenge_method="S256",
        )
        with live.http() as browser:
            answer = browser.get(url)
        assert answer.status_code == 400
        assert "location" not in answer.headers
        assert "授权请求无效" in answer.text and "invalid_request" in answer.text


def test_implicit_grant_is_refused(live: Live) -> None:
    firm = live.member()
    client_id, _ = _code_client(live, firm.tenant_id)
    with live.http() as browser:
        answer = browser.get(_authorize_url(live, client_id, response_type="token"))
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert "access_token" not in location
    assert _query(location)["error"] == "unsupported_response_type"


def test_password_grant_is_refused(live: Live) -> None:
    firm = live.member()
    with live.http() as http:
        answer = http.post(
            "/oauth/token",
            data={"grant_type": "password", "username": firm.admin_username, "password": PASSWORD},
            auth=(firm.client_id, firm.client_secret),
        )
    assert answer.status_code == 400
    assert answer.json()["error"] == "unsupported_grant_type"


def test_denying_consent_redirects_with_access_denied(live: Live) -> None:
    firm = live.member()
    username = live.user(firm.tenant_id)
    client_id, secret = _code_client(live, firm.tenant_id)
    with _oauth(client_id, secret) as oauth:
        url, state = oauth.create_authorization_url(
            f"{live.url}/oauth/authorize", code_verifier=generate_token(48)
        )
    answer = sign_in(live, url, username, decision="deny")
    assert answer.status_code == 302
    query = _query(answer.headers["location"])
    assert (query["error"], query["state"]) == ("access_denied", state)


def test_consent_without_the_csrf_token_is_refused(live: Live) -> None:
    firm = live.member()
    username = live.user(firm.tenant_id)
    client_id, secret = _code_client(live, firm.tenant_id)
    with _oauth(client_id, secret) as oauth:
        url, _ = oauth.create_authorization_url(
            f"{live.url}/oauth/authorize", code_verifier=generate_token(48)
        )
    with live.http() as browser:
        action, _csrf = consent_form(browser, url)
        answer = browser.post(
            action,
            data={
                "csrf_token": "forged",
                "username": username,
                "password": PASSWORD,
                "decision": "allow",
            },
        )
    assert answer.status_code == 400
    assert "location" not in answer.headers


def test_repeated_failed_sign_ins_lock_the_username_for_every_worker(live: Live) -> None:
    firm = live.member()
    username = live.user(firm.tenant_id)
    client_id, secret = _code_client(live, firm.tenant_id)
    with _oauth(client_id, secret) as oauth:
        url, _ = oauth.create_authorization_url(
            f"{live.url}/oauth/authorize", code_verifier=generate_token(48)
        )
    statuses = [sign_in(live, url, username, password="wrong").status_code for _ in range(3)]
    assert statuses == [401, 401, 429]
    locked = sign_in(live, url, username)  # even the right password, while locked
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) > 0
    assert "登录失败次数过多" in locked.text
    with live.database.transaction(Scope.for_host()) as session:
        row = session.scalars(select(LoginThrottle)).one()
        assert (row.key, row.failures) == (f"user:{username}", 3)


def test_refresh_token_rotates_on_every_use(live: Live) -> None:
    firm = live.member()
    username = live.user(firm.tenant_id)
    client_id, secret = _code_client(live, firm.tenant_id)
    with _oauth(client_id, secret) as oauth:
        first = authorization_code_flow(live, oauth, username)
        second = oauth.refresh_token(f"{live.url}/oauth/token")
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["scope"] == "estates:read"
    TokenVerifier(live.database, live.settings)(str(second["access_token"]))


def test_reused_refresh_token_revokes_its_whole_family(live: Live) -> None:
    firm = live.member()
    username = live.user(firm.tenant_id)
    client_id, secret = _code_client(live, firm.tenant_id)
    verifier = TokenVerifier(live.database, live.settings)
    with _oauth(client_id, secret) as oauth:
        first = authorization_code_flow(live, oauth, username)
        second = oauth.refresh_token(f"{live.url}/oauth/token")
    with live.http() as http:
        replay = http.post(
            "/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
            auth=(client_id, secret),
        )
        assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
        latest = http.post(
            "/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": second["refresh_token"]},
            auth=(client_id, secret),
        )
        assert latest.json()["error"] == "invalid_grant"
    for access in (first["access_token"], second["access_token"]):
        with pytest.raises(Problem, match="revoked"):
            verifier(str(access))


def test_replayed_authorization_code_is_refused_and_revokes_its_tokens(live: Live) -> None:
    firm = live.member()
    username = live.user(firm.tenant_id)
    client_id, secret = _code_client(live, firm.tenant_id)
    verifier = generate_token(48)
    with _oauth(client_id, secret) as oauth:
        url, _ = oauth.create_authorization_url(
            f"{live.url}/oauth/authorize", code_verifier=verifier
        )
        location = sign_in(live, url, username).headers["location"]
        token = oauth.fetch_token(
            f"{live.url}/oauth/token", authorization_response=location, code_verifier=verifier
        )
    with live.http() as http:
        replay = http.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": _query(location)["code"],
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
            },
            auth=(client_id, secret),
        )
    assert replay.json()["error"] == "invalid_grant"
    with pytest.raises(Problem, match="revoked"):
        TokenVerifier(live.database, live.settings)(str(token["access_token"]))


def test_wrong_code_verifier_is_refused(live: Live) -> None:
    firm = live.member()
    username = live.user(firm.tenant_id)
    client_id, secret = _code_client(live, firm.tenant_id)
    with _oauth(client_id, secret) as oauth:
        url, _ = oauth.create_authorization_url(
            f"{live.url}/oauth/authorize", code_verifier=generate_token(48)
        )
        location = sign_in(live, url, username).headers["location"]
    with live.http() as http:
        answer = http.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": _query(location)["code"],
                "redirect_uri": REDIRECT_URI,
                "code_verifier": generate_token(48),
            },
            auth=(client_id, secret),
        )
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"
