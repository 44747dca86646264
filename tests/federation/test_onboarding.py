"""Onboarding (入驻): a firm applies over HTTP or on the web page; the host's admin
approves or rejects; suspension revokes every token at once."""

from __future__ import annotations

import re

import httpx
from authlib.integrations.httpx_client import OAuth2Client
from sqlalchemy import func, select

from wuye.federation.models import Application, OAuthClient, Tenant, User
from wuye.platform.db import Scope

from .conftest import Live, credit_code


def _application(**overrides: object) -> dict:
    body: dict[str, object] = {
        "name": "杭州安居物业服务有限公司",
        "credit_code": credit_code(),
        "contact_name": "王经理",
        "contact_phone": "13812345678",
        "estates": [{"name": "西溪花园", "address": "杭州市西湖区文二西路 1 号"}],
    }
    body.update(overrides)
    return body


def _host_token(live: Live, scope: str = "admin") -> str:
    host = live.host()
    with OAuth2Client(host.client_id, host.client_secret, scope=scope) as oauth:
        return oauth.fetch_token(f"{live.url}/oauth/token", grant_type="client_credentials")[
            "access_token"
        ]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_wrong_check_character_gets_a_problem_naming_the_field(live: Live) -> None:
    code = credit_code()
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    with live.http() as http:
        answer = http.post("/api/v1/onboarding/applications", json=_application(credit_code=wrong))
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["type"] == "/problems/validation-error"
    assert problem["errors"][0]["field"] == "credit_code"
    assert f"position 18 should be {code[17]}" in problem["detail"]


def test_host_admin_approves_and_the_firm_can_use_its_first_client(live: Live) -> None:
    token = _host_token(live)
    with live.http() as http:
        applied = http.post("/api/v1/onboarding/applications", json=_application())
        assert applied.status_code == 201, applied.text
        application = applied.json()
        assert application["status"] == "pending"
        assert application["contact_phone_masked"] == "138****5678"
        pending = http.get("/api/v1/admin/applications?status=pending", headers=_bearer(token))
        assert [a["id"] for a in pending.json()] == [application["id"]]
        approved = http.post(
            f"/api/v1/admin/applications/{application['id']}/approve", headers=_bearer(token)
        )
        assert approved.status_code == 201, approved.text
    result = approved.json()
    with OAuth2Client(result["client_id"], result["client_secret"]) as oauth:
        oauth.fetch_token(f"{live.url}/oauth/token", grant_type="client_credentials")
        assert oauth.get(f"{live.url}/api/v1/estates").status_code == 200
    with live.database.transaction(Scope.for_host()) as session:
        tenant = session.get(Tenant, result["tenant_id"])
        assert tenant is not None and tenant.status == "active"
        users = session.scalars(select(User).where(User.tenant_id == tenant.id)).all()
        assert [u.username for u in users] == [result["admin_username"]]
        assert (
            session.scalar(
                select(func.count())
                .select_from(OAuthClient)
                .where(OAuthClient.tenant_id == tenant.id)
            )
            == 1
        )


def test_the_estates_of_an_approved_application_become_the_firms_estates(live: Live) -> None:
    token = _host_token(live)
    with live.http() as http:
        application = http.post("/api/v1/onboarding/applications", json=_application()).json()
        result = http.post(
            f"/api/v1/admin/applications/{application['id']}/approve", headers=_bearer(token)
        ).json()
    with OAuth2Client(result["client_id"], result["client_secret"]) as oauth:
        oauth.fetch_token(f"{live.url}/oauth/token", grant_type="client_credentials")
        estates = oauth.get(f"{live.url}/api/v1/estates").json()["items"]
    assert [(e["name"], e["address"]) for e in estates] == [
        ("西溪花园", "杭州市西湖区文二西路 1 号")
    ]


def test_approving_twice_is_a_conflict_and_creates_nothing_more(live: Live) -> None:
    token = _host_token(live)
    with live.http() as http:
        application = http.post("/api/v1/onboarding/applications", json=_application()).json()
        url = f"/api/v1/admin/applications/{application['id']}/approve"
        assert http.post(url, headers=_bearer(token)).status_code == 201
        again = http.post(url, headers=_bearer(token))
    assert again.status_code == 409
    with live.database.transaction(Scope.for_host()) as session:
        assert session.scalar(select(func.count()).select_from(Tenant)) == 2  # host + firm


def test_rejected_application_creates_no_tenant_and_the_firm_may_apply_again(live: Live) -> None:
    token = _host_token(live)
    body = _application()
    with live.http() as http:
        application = http.post("/api/v1/onboarding/applications", json=body).json()
        rejected = http.post(
            f"/api/v1/admin/applications/{application['id']}/reject",
            json={"reason": "材料不全 / documents missing"},
            headers=_bearer(token),
        )
        assert rejected.json()["status"] == "rejected"
        assert http.post("/api/v1/onboarding/applications", json=body).status_code == 201
    with live.database.transaction(Scope.for_host()) as session:
        assert session.scalar(select(func.count()).select_from(Tenant)) == 1  # the host


def test_a_second_application_under_review_is_a_conflict(live: Live) -> None:
    body = _application()
    with live.http() as http:
        assert http.post("/api/v1/onboarding/applications", json=body).status_code == 201
        again = http.post("/api/v1/onboarding/applications", json=body)
    assert again.status_code == 409 and again.json()["field"] == "credit_code"


def test_admin_routes_need_a_host_firm_principal(live: Live) -> None:
    firm = live.member()
    with OAuth2Client(firm.client_id, firm.client_secret, scope="admin") as oauth:
        member_admin = oauth.fetch_token(f"{live.url}/oauth/token", grant_type="client_credentials")
    with live.http() as http:
        answer = http.get("/api/v1/admin/tenants", headers=_bearer(member_admin["access_token"]))
    assert answer.status_code == 403 and answer.json()["type"] == "/problems/forbidden"


def test_admin_routes_need_the_admin_scope(live: Live) -> None:
    token = _host_token(live, scope="estates:read")
    with live.http() as http:
        answer = http.get("/api/v1/admin/tenants", headers=_bearer(token))
        anonymous = http.get("/api/v1/admin/tenants")
    assert answer.status_code == 403 and answer.json()["type"] == "/problems/insufficient-scope"
    assert anonymous.status_code == 401


def test_suspending_a_tenant_revokes_all_its_tokens_at_once(live: Live) -> None:
    token = _host_token(live)
    firm = live.member()
    with OAuth2Client(firm.client_id, firm.client_secret) as oauth:
        issued = [
            oauth.fetch_token(f"{live.url}/oauth/token", grant_type="client_credentials")
            for _ in range(2)
        ]
    with live.http() as http:
        suspended = http.post(
            f"/api/v1/admin/tenants/{firm.tenant_id}/suspend", headers=_bearer(token)
        )
        assert suspended.json()["status"] == "suspended"
        for t in issued:
            assert (
                http.get("/api/v1/estates", headers=_bearer(t["access_token"])).status_code == 401
            )
        refused = http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(firm.client_id, firm.client_secret),
        )
        assert refused.json()["error"] == "invalid_client"
        http.post(f"/api/v1/admin/tenants/{firm.tenant_id}/reactivate", headers=_bearer(token))
        for t in issued:
            assert (
                http.get("/api/v1/estates", headers=_bearer(t["access_token"])).status_code == 401
            )
        tenants = http.get("/api/v1/admin/tenants", headers=_bearer(token)).json()
    assert {t["id"]: t["status"] for t in tenants}[firm.tenant_id] == "active"


def test_the_host_firm_cannot_be_suspended(live: Live) -> None:
    token = _host_token(live)
    host_id = live.host().tenant_id
    with live.http() as http:
        answer = http.post(f"/api/v1/admin/tenants/{host_id}/suspend", headers=_bearer(token))
    assert answer.status_code == 409


def _page_csrf(http: httpx.Client) -> str:
    page = http.get("/onboarding")
    assert page.status_code == 200
    assert page.text.index("物业企业入驻申请") < page.text.index("Apply to join the platform")
    assert not re.search(r'(src|href)="(https?:)?//', page.text)  # no CDN
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def _form(**overrides: str) -> dict[str, str]:
    form = {
        "name": "宁波海景物业",
        "credit_code": credit_code(),
        "contact_name": "李女士",
        "contact_phone": "13900001111",
        "estates": "海景苑 | 宁波市鄞州区\n东湖小区 | 宁波市江北区",
    }
    form.update(overrides)
    return form


def test_onboarding_page_submits_an_application(live: Live) -> None:
    with live.http() as http:
        csrf = _page_csrf(http)
        answer = http.post("/onboarding", data={**_form(), "csrf_token": csrf})
    assert answer.status_code == 201 and "申请已提交" in answer.text
    with live.database.transaction(Scope.for_host()) as session:
        application = session.scalars(select(Application)).one()
        assert [e["name"] for e in application.estates] == ["海景苑", "东湖小区"]
        assert application.contact_phone_masked == "139****1111"
        assert b"13900001111" not in (application.contact_phone_sealed or b"")


def test_onboarding_page_names_a_wrong_check_character(live: Live) -> None:
    code = credit_code()
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    with live.http() as http:
        csrf = _page_csrf(http)
        answer = http.post("/onboarding", data={**_form(credit_code=wrong), "csrf_token": csrf})
    assert answer.status_code == 422
    assert "统一社会信用代码" in answer.text and "校验码错误" in answer.text


def test_onboarding_page_refuses_a_form_without_its_csrf_token(live: Live) -> None:
    with live.http() as http:
        _page_csrf(http)
        answer = http.post("/onboarding", data={**_form(), "csrf_token": "forged"})
    assert answer.status_code == 400
    with live.database.transaction(Scope.for_host()) as session:
        assert session.scalar(select(func.count()).select_from(Application)) == 0
