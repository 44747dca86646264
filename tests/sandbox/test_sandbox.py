"""The developer sandbox: a tenant of its own per app with synthetic data, keys at once,
isolation from production data, reset, limits, the request log, promotion, mock platforms."""

from __future__ import annotations

import time

import httpx
import pytest
from pydantic import TypeAdapter
from sqlalchemy import select

from tests.factories import make_estate, make_tenant
from tests.sandbox.conftest import new_app
from tests.serving import serving
from wuye.federation.models import OAuthClient, Role, Tenant, TenantKind
from wuye.federation.tokens import issue_access_token
from wuye.platform.app import create_app
from wuye.platform.db import Scope
from wuye.platform.owners.models import IdNumber, Owner
from wuye.sandbox.models import RateCounter, RequestLog, SandboxApp
from wuye.sandbox.synthetic import is_synthetic_id_number


def test_new_app_gets_a_sandbox_tenant_of_its_own_with_synthetic_data(live):
    first = new_app(live, "first")
    second = new_app(live, "second")
    assert first.tenant_id != second.tenant_id
    with live.database.transaction(Scope.for_host()) as s:
        assert s.get(Tenant, first.tenant_id).kind is TenantKind.SANDBOX
        client = s.scalars(select(OAuthClient).where(OAuthClient.client_id == first.client_id))
        registered = client.one()
        assert registered.role is Role.DEVELOPER
        assert registered.client_metadata["software_id"] == "wuye-sandbox"  # via RFC 7591
    with live.http() as http:
        headers = {"Authorization": f"Bearer {live.token(first, 'estates:read')}"}
        estates = http.get("/api/v1/estates", headers=headers).json()
        owners = http.get("/api/v1/owners", params={"limit": 200}, headers=headers).json()
    assert [e["code"] for e in estates["items"]] == ["SANDBOX-01"]
    assert owners["total"] > 20 and all(o["synthetic"] for o in owners["items"])
    with live.database.transaction(Scope.tenant(first.tenant_id)) as s:
        from wuye.platform.pii import PersonalDataCipher

        cipher = PersonalDataCipher(live.settings.secret_bytes())
        people = [o for o in s.scalars(select(Owner)) if o.id_number_encrypted]
        assert people
        for owner in people:
            id_number = cipher.decrypt(owner.id_number_encrypted, field="id_number")
            TypeAdapter(IdNumber).validate_python(id_number)  # passes GB 11643
            assert is_synthetic_id_number(id_number)


def test_sandbox_has_devices_with_simulated_telemetry_and_work_orders(live):
    sandbox = new_app(live)
    with live.http() as http:
        token = live.token(sandbox, "devices:read telemetry:read workorders:read")
        headers = {"Authorization": f"Bearer {token}"}
        devices = http.get("/api/v1/devices", headers=headers).json()["items"]
        assert len(devices) == 4
        latest = http.get(f"/api/v1/devices/{devices[0]['id']}/telemetry/latest", headers=headers)
        orders = http.get("/api/v1/workorders", headers=headers).json()
    assert latest.status_code == 200 and latest.json()
    assert {o["status"] for o in orders["items"]} >= {"assigned", "in_progress", "resolved"}


def test_a_sandbox_token_never_reaches_production_data(live_on_each_backend):
    live = live_on_each_backend
    production = make_tenant(live.database)
    with live.database.transaction(Scope.tenant(production)) as s:
        estate_id = make_estate(s, code="PROD-1", name="真实小区").id
    sandbox = new_app(live)
    headers = {"Authorization": f"Bearer {live.token(sandbox)}"}
    with live.http() as http:
        listed = http.get("/api/v1/estates", headers=headers).json()
        assert estate_id not in {e["id"] for e in listed["items"]}
        assert http.get(f"/api/v1/estates/{estate_id}", headers=headers).status_code == 404
        patched = http.patch(f"/api/v1/estates/{estate_id}", json={"name": "x"}, headers=headers)
        assert patched.status_code == 404
        found = http.get("/api/v1/estates", params={"q": "真实"}, headers=headers).json()
        assert found["total"] == 0
    with live.database.transaction(Scope.tenant(production)) as s:
        from wuye.platform.estates.models import Estate

        assert s.get(Estate, estate_id).name == "真实小区"


def test_reset_returns_the_sandbox_to_its_seed_state_in_one_call(live):
    sandbox = new_app(live)
    headers = {"Authorization": f"Bearer {live.token(sandbox, 'estates:read estates:write')}"}
    with live.http() as http:
        before = http.get("/api/v1/owners", params={"limit": 500}, headers=headers).json()
        http.post("/api/v1/owners", json={"name": "测试新增"}, headers=headers)
        victim = before["items"][0]["id"]
        assert http.delete(f"/api/v1/owners/{victim}", headers=headers).status_code == 204
        reset = http.post("/api/v1/sandbox/reset", headers=headers)
        assert reset.status_code == 200, reset.text
        after = http.get("/api/v1/owners", params={"limit": 500}, headers=headers).json()
    assert after["total"] == before["total"]
    assert sorted(o["name"] for o in after["items"]) == sorted(o["name"] for o in before["items"])
    assert reset.json()["counts"]["units"] == 36


def test_a_production_tenant_cannot_be_reset(live):
    member = make_tenant(live.database)
    with live.database.transaction(Scope.tenant(member)) as s:
        make_estate(s, code="KEEP")
    token = issue_access_token(
        settings=live.settings,
        database=live.database,
        tenant_id=member,
        subject="admin",
        client_id="c",
        scopes=["estates:read", "estates:write"],
        role=Role.TENANT_ADMIN,
    )
    with live.http() as http:
        r = http.post("/api/v1/sandbox/reset", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 403
        assert r.headers["content-type"].startswith("application/problem+json")
        listed = http.get("/api/v1/estates", headers={"Authorization": f"Bearer {token}"})
    assert listed.json()["total"] == 1


def test_rate_limit_holds_across_workers_with_429_and_retry_after(live_on_each_backend):
    live = live_on_each_backend
    sandbox = new_app(live)
    with live.database.transaction(Scope.for_host()) as s:
        s.get(SandboxApp, sandbox.app_id).rate_per_minute = 4
    token = live.token(sandbox)
    headers = {"Authorization": f"Bearer {token}"}
    # a second worker: another app instance over the same database
    other = create_app(live.settings, live.database)
    statuses = []
    with serving(other) as second_url:
        # The limit counts per clock minute: start early in one, so all six share it.
        into_minute = time.time() % 60
        if into_minute > 40:
            time.sleep(60.5 - into_minute)
        for i in range(6):
            url = (live.url if i % 2 == 0 else second_url) + "/api/v1/estates"
            r = httpx.get(url, headers=headers, timeout=20)
            statuses.append(r.status_code)
            if r.status_code == 200:
                assert r.headers["X-RateLimit-Limit"] == "4"
                assert int(r.headers["X-RateLimit-Remaining"]) >= 0
            last = r
    assert statuses == [200, 200, 200, 200, 429, 429]
    assert int(last.headers["Retry-After"]) in range(1, 61)
    assert last.json()["type"] == "/problems/rate-limited"
    with live.database.transaction(Scope.for_host()) as s:
        counted = s.scalars(select(RateCounter).where(RateCounter.client_id == sandbox.client_id))
        assert max(c.count for c in counted) == 6


def test_request_log_has_what_a_developer_needs_and_no_secrets(live):
    sandbox = new_app(live)
    token = live.token(sandbox)
    headers = {"Authorization": f"Bearer {token}"}
    with live.http() as http:
        http.post(
            "/api/v1/owners", json={"name": "日志测试", "phone": "13900009999"}, headers=headers
        )
        http.get("/api/v1/owners", params={"phone": "13900009999"}, headers=headers)
        http.get("/api/v1/estates/nope", headers=headers)
        page = http.get(
            "/api/v1/sandbox/requests", params={"sort": "created_at"}, headers=headers
        ).json()
    rows = page["items"]
    assert [(r["method"], r["status"]) for r in rows[:3]] == [
        ("POST", 201),
        ("GET", 200),
        ("GET", 404),
    ]
    assert rows[1]["path"] == "/api/v1/owners?phone=***"
    assert "13900009999" not in str(rows) and token not in str(rows)
    assert '"phone": "***"' in rows[0]["request_body"]
    assert all(r["latency_ms"] >= 0 for r in rows)
    with live.database.transaction(Scope.for_host()) as s:
        assert {r.tenant_id for r in s.scalars(select(RequestLog))} == {sandbox.tenant_id}


def test_production_credentials_only_after_the_hosts_review(live):
    from tests.federation.conftest import Live as FederationLive

    sandbox = new_app(live)
    host = FederationLive(live.url, live.settings, live.database).host()
    r = httpx.post(
        f"{live.url}/oauth/token",
        auth=(host.client_id, host.client_secret),
        data={"grant_type": "client_credentials", "scope": "admin"},
        timeout=20,
    )
    admin = {"Authorization": f"Bearer {r.json()['access_token']}"}
    from wuye.sandbox import service

    with live.database.transaction(Scope.for_host()) as s:
        with pytest.raises(Exception, match="requested"):
            service.review_promotion(
                session=s,
                app_id=sandbox.app_id,
                reviewer="x",
                approve=True,
                reason="",
                settings=live.settings,
            )
    with live.database.transaction(Scope.for_host()) as s:
        service.request_promotion(
            session=s,
            app_id=sandbox.app_id,
            developer_id=sandbox.developer_id,
            redirect_uri="https://park.example.com/cb",
            note="停车缴费",
        )
    sandbox_token = {"Authorization": f"Bearer {live.token(sandbox, 'estates:read')}"}
    with live.http() as http:
        refused = http.post(
            f"/api/v1/admin/sandbox/apps/{sandbox.app_id}/review",
            json={"approve": True},
            headers=sandbox_token,
        )
        assert refused.status_code == 403
        approved = http.post(
            f"/api/v1/admin/sandbox/apps/{sandbox.app_id}/review",
            json={"approve": True, "reason": "资料齐全"},
            headers=admin,
        )
    assert approved.status_code == 200, approved.text
    production_id = approved.json()["production_client_id"]
    with live.database.transaction(Scope.for_host()) as s:
        client = s.scalars(select(OAuthClient).where(OAuthClient.client_id == production_id)).one()
        assert client.grant_types == ["authorization_code", "refresh_token"]
        app = s.get(SandboxApp, sandbox.app_id)
        secret = service.reveal_production_secret(session=s, app=app, settings=live.settings)
        assert client.check_client_secret(secret)
        assert service.reveal_production_secret(session=s, app=app, settings=live.settings) == ""


def test_mock_platforms_are_served_from_their_documents(live):
    with live.http() as http:
        doc = http.get("/sandbox/mocks/hpf/openapi.json").json()
        assert doc["info"]["title"].startswith("住房公积金")
        ok = http.get(
            "/sandbox/mocks/hpf/v1/accounts/999999198001010016",
            headers={"X-HPF-Key": "hpf-sandbox-key"},
        )
        assert ok.status_code == 200 and ok.json()["status"] == "normal"
        bad = http.get(
            "/sandbox/mocks/hpf/v1/accounts/12345", headers={"X-HPF-Key": "hpf-sandbox-key"}
        )
        assert bad.status_code == 400 and "id_number" in bad.json()["message"]
        assert http.get("/sandbox/mocks/hpf/v1/accounts/999999198001010016").status_code == 401


def test_daily_quota_answers_429_until_the_next_day(live):
    sandbox = new_app(live)
    with live.database.transaction(Scope.for_host()) as s:
        s.get(SandboxApp, sandbox.app_id).daily_quota = 2
    headers = {"Authorization": f"Bearer {live.token(sandbox)}"}
    with live.http() as http:
        answers = [http.get("/api/v1/estates", headers=headers) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[1].headers["X-Quota-Remaining"] == "0"
    assert "daily quota" in answers[2].json()["detail"]
    assert int(answers[2].headers["Retry-After"]) in range(1, 86401)


def test_calls_of_clients_that_are_not_apps_are_neither_limited_nor_logged(live):
    member = make_tenant(live.database)
    token = issue_access_token(
        settings=live.settings,
        database=live.database,
        tenant_id=member,
        subject="admin",
        client_id="firm-console",
        scopes=["estates:read"],
        role=Role.TENANT_ADMIN,
    )
    with live.http() as http:
        r = http.get("/api/v1/estates", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and "X-RateLimit-Limit" not in r.headers
    with live.database.transaction(Scope.for_host()) as s:
        assert s.scalars(select(RequestLog)).first() is None


def test_production_calls_are_limited_but_their_data_never_lands_in_the_sandbox_log(live):
    from wuye.sandbox import service

    sandbox = new_app(live)
    with live.database.transaction(Scope.for_host()) as s:
        service.request_promotion(
            session=s,
            app_id=sandbox.app_id,
            developer_id=sandbox.developer_id,
            redirect_uri="https://care.example.com/cb",
            note="",
        )
        app = service.review_promotion(
            session=s,
            app_id=sandbox.app_id,
            reviewer="host",
            approve=True,
            reason="",
            settings=live.settings,
        )
        production_client = app.production_client_id
    firm = make_tenant(live.database)
    with live.database.transaction(Scope.tenant(firm)) as s:
        make_estate(s, code="FIRM-1", name="颐和家园")
    # what the authorization server issues once a user of the firm consents
    token = issue_access_token(
        settings=live.settings,
        database=live.database,
        tenant_id=firm,
        subject="firm-user",
        client_id=production_client,
        scopes=["estates:read"],
        role=Role.DEVELOPER,
    )
    with live.http() as http:
        r = http.get("/api/v1/estates", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.headers["X-RateLimit-Limit"]
    with live.database.transaction(Scope.for_host()) as s:
        logged = s.scalars(select(RequestLog).where(RequestLog.client_id == production_client))
        row = logged.one()
    assert row.tenant_id == firm and row.response_body == "" and row.status == 200


def test_an_app_whose_registration_is_refused_leaves_nothing_behind(live):
    from wuye.adapters.devices.keys import keyring_for_secret
    from wuye.platform.pii import PersonalDataCipher
    from wuye.platform.problems import Problem
    from wuye.sandbox import service

    with live.database.transaction(Scope.for_host()) as s:
        developer_id = service.sign_up(session=s, username="unlucky", password="correct horse 1").id
        tenants_before = len(s.scalars(select(Tenant)).all())

    def refuse(_token, _metadata):
        raise Problem("bad-request", "registration refused: invalid_client_metadata")

    with pytest.raises(Problem):
        service.create_app(
            database=live.database,
            settings=live.settings,
            cipher=PersonalDataCipher(live.settings.secret_bytes()),
            keyring=keyring_for_secret(live.settings.secret_bytes()),
            register=refuse,
            developer_id=developer_id,
            name="x",
        )
    with live.database.transaction(Scope.for_host()) as s:
        assert len(s.scalars(select(Tenant)).all()) == tenants_before
        assert s.scalars(select(SandboxApp)).first() is None


def test_mock_platform_state_is_shared_by_every_worker(live):
    from wuye.sandbox.mocks.ecommerce import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET

    other = create_app(live.settings, live.database)
    with serving(other) as second:
        token = httpx.post(
            f"{live.url}/sandbox/mocks/ecommerce/oauth/token",
            auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
            data={"grant_type": "client_credentials"},
            timeout=20,
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        order = {"external_ref": "wo-1", "title": "更换门禁卡", "estate_name": "沙箱示范小区"}
        placed = httpx.post(
            f"{live.url}/sandbox/mocks/ecommerce/v1/orders", json=order, headers=headers
        )
        assert placed.status_code == 201, placed.text
        number = placed.json()["order_no"]
        seen = httpx.get(f"{second}/sandbox/mocks/ecommerce/v1/orders/{number}", headers=headers)
        again = httpx.post(
            f"{second}/sandbox/mocks/ecommerce/v1/orders", json=order, headers=headers
        )
    assert seen.status_code == 200 and seen.json()["title"] == "更换门禁卡"
    assert again.status_code == 200 and again.json()["order_no"] == number


def test_old_rate_counters_and_log_entries_are_pruned(live):
    from datetime import UTC, datetime, timedelta

    from wuye.sandbox.limits import AppLimits

    sandbox = new_app(live)
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC).timestamp()
    limits = AppLimits(live.database)
    limits.count(sandbox.client_id, now - 3 * 86400)  # three days ago
    limits.count(sandbox.client_id, now)
    old = datetime.fromtimestamp(now, UTC) - timedelta(days=15)
    for created in (old, datetime.fromtimestamp(now, UTC)):
        with live.database.transaction(Scope.tenant(sandbox.tenant_id)) as s:
            s.add(
                RequestLog(
                    client_id=sandbox.client_id,
                    method="GET",
                    path="/api/v1/estates",
                    status=200,
                    latency_ms=1,
                    created_at=created,
                )
            )
    limits.prune(now)
    with live.database.transaction(Scope.for_host()) as s:
        windows = sorted(c.window for c in s.scalars(select(RateCounter)))
        logged = s.scalars(select(RequestLog)).all()
    assert windows == sorted([f"m:{int(now // 60)}", f"d:{int(now // 86400)}"])
    assert len(logged) == 1
