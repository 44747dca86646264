"""The developer portal over plain HTTP: sign up, create an app, read the keys, run the
getting-started examples as shown, and browse the log and usage they produce."""

from __future__ import annotations

import json
import re

import httpx

from tests.sandbox.portal_flow import examples, run_example


def _csrf(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _post(http: httpx.Client, path: str, page: str, **fields: str) -> httpx.Response:
    return http.post(path, data={"csrf_token": _csrf(page), **fields})


def _sign_up(http: httpx.Client, username: str) -> None:
    form = http.get("/developer/signup").text
    r = _post(
        http,
        "/developer/signup",
        form,
        username=username,
        password="s3cret-pass",
        display_name="养老服务科技",
        email="dev@example.com",
    )
    assert r.status_code == 303 and r.headers["location"] == "/developer/apps"


def test_sign_up_to_working_calls_following_only_the_portal(live_with_chain, tmp_path):
    live = live_with_chain
    with live.http(follow_redirects=False) as http:
        assert "开发者门户" in http.get("/developer").text
        _sign_up(http, "carer")
        apps = http.get("/developer/apps").text
        created = _post(http, "/developer/apps", apps, name="居家养老助手", category="elderly-care")
        assert created.status_code == 201
        client_id = re.search(r'<code id="client-id">([^<]+)</code>', created.text).group(1)
        secret = re.search(r'<code id="client-secret">([^<]+)</code>', created.text).group(1)
        registration = re.search(
            r'id="registration-token"[^>]*>([^<]+)</textarea>', created.text
        ).group(1)
        app_path = re.search(r'href="(/developer/apps/\w+)/logs"', created.text).group(1)
        # the secret is shown once
        assert secret not in http.get(app_path).text
        guide = http.get("/developer/guide", params={"app": app_path.rsplit("/", 1)[1]}).text
    # The guide names the sandbox ledger's JSON-RPC, for web3.py and `wuye votes verify`.
    assert f'<code id="sandbox-rpc">{live.settings.sandbox_ledger_url}</code>' in guide
    shown = examples(guide)
    assert set(shown) == {"estates", "workorder", "python", "register", "hpf", "ledger", "reset"}
    assert all(client_id in code for lang, code in shown.values() if "CLIENT_SECRET" in code)
    env = {"CLIENT_SECRET": secret, "REGISTRATION_TOKEN": registration}
    estates = json.loads(run_example(*shown["estates"], env, tmp_path))
    assert estates["items"][0]["code"] == "SANDBOX-01"
    order = json.loads(run_example(*shown["workorder"], env, tmp_path))
    assert order["title"] == "1幢路灯不亮"
    owners = run_example(*shown["python"], env, tmp_path)
    assert "****" in owners and "True" in owners
    registered = json.loads(run_example(*shown["register"], env, tmp_path))
    assert registered["client_id"] and registered["token_endpoint_auth_method"] == "none"
    account = json.loads(run_example(*shown["hpf"], env, tmp_path))
    assert account["status"] == "normal"
    ledger = run_example(*shown["ledger"], env, tmp_path)
    assert re.search(r"已投 cast: [1-9]\d* 账本 ledger: 0x[0-9a-fA-F]{40}/\d+", ledger), ledger
    assert re.search(r"分户 accounts: [1-9]", ledger), ledger
    reset = json.loads(run_example(*shown["reset"], env, tmp_path))
    assert reset["counts"]["work_orders"] == 4  # the new work order is gone again
    assert reset["counts"]["votes_open"] == 1 and reset["counts"]["ballots_cast"] > 0
    with live.http() as http:
        _login(http, "carer")
        logs = http.get(f"{app_path}/logs").text
        usage = http.get(f"{app_path}/usage").text
    assert "/api/v1/workorders" in logs and "/api/v1/sandbox/reset" in logs
    assert secret not in logs
    total = int(re.search(r'<span id="total">(\d+)</span>', usage).group(1))
    assert total == 9  # token, registration and mock calls are not API calls


def _login(http: httpx.Client, username: str) -> None:
    form = http.get("/developer/login").text
    r = _post(http, "/developer/login", form, username=username, password="s3cret-pass")
    assert r.status_code in (200, 303)


def test_another_developer_cannot_see_my_app(live):
    with live.http(follow_redirects=False) as mine:
        _sign_up(mine, "alice")
        created = _post(mine, "/developer/apps", mine.get("/developer/apps").text, name="A")
        app_path = re.search(r'href="(/developer/apps/\w+)/logs"', created.text).group(1)
    with live.http(follow_redirects=False) as theirs:
        _sign_up(theirs, "mallory")
        for suffix in ("", "/logs", "/usage"):
            assert theirs.get(app_path + suffix).status_code == 404
        assert (
            _post(theirs, app_path + "/reset", theirs.get("/developer/apps").text).status_code
            == 404
        )


def test_forms_refuse_a_missing_csrf_token_and_pages_need_sign_in(live):
    with live.http(follow_redirects=False) as http:
        r = http.post("/developer/signup", data={"username": "x", "password": "12345678"})
        assert r.status_code == 400
        assert http.get("/developer/apps").headers["location"] == "/developer/login"


def test_promotion_request_from_the_portal_waits_for_review(live):
    with live.http(follow_redirects=False) as http:
        _sign_up(http, "parker")
        created = _post(http, "/developer/apps", http.get("/developer/apps").text, name="停车")
        app_path = re.search(r'href="(/developer/apps/\w+)/logs"', created.text).group(1)
        bad = _post(
            http,
            app_path + "/promotion",
            created.text,
            redirect_uri="http://evil.example/cb",
            note="",
        )
        assert bad.status_code == 422 and "redirect_uri" in bad.text
        ok = _post(
            http,
            app_path + "/promotion",
            created.text,
            redirect_uri="https://park.example.com/cb",
            note="停车缴费",
        )
        assert ok.status_code == 200 and 'id="promotion-status"' in ok.text


def test_api_reference_is_generated_from_the_platforms_openapi_document(live):
    with live.http() as http:
        page = http.get("/developer/reference").text
        doc = http.get("/openapi.json").json()
    assert f"v{doc['info']['x-contract-version']}" in page
    for path in ("/api/v1/estates", "/api/v1/workorders", "/api/v1/sandbox/reset"):
        assert f"<code>{path}</code>" in page
    assert 'id="schema-EstateOut"' in page
