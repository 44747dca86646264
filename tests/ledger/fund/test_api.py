"""The fund API on each database against a real ledger node: staff record movements,
owners see their own unit's account and the estate's flows, the disclosure adds up."""

from __future__ import annotations

import csv
import io

import pytest
from pypdf import PdfReader

from tests.factories import make_tenant
from tests.ledger.fund.conftest import make_fund_estate
from wuye.federation.models import Role
from wuye.federation.scopes import ROLE_SCOPES
from wuye.federation.tokens import issue_access_token
from wuye.platform.db import Scope
from wuye.platform.owners.models import Ownership


@pytest.fixture
def fund_app(app, votes_ledger, fund_ledger):
    app.state.votes_ledger = votes_ledger
    app.state.fund_ledger = fund_ledger
    return app


def _owner_token(settings, database, tenant: str, owner_id: str) -> dict[str, str]:
    token = issue_access_token(
        settings=settings,
        database=database,
        tenant_id=tenant,
        subject=f"owner:{owner_id}",
        client_id="test-client",
        scopes=sorted(ROLE_SCOPES[Role.OWNER]),
        role=Role.OWNER,
    )
    return {"Authorization": f"Bearer {token}"}


def _seeded(client, database, headers, tenant):
    with database.transaction(Scope.tenant(tenant)) as session:
        estate, units = make_fund_estate(session)
        estate_id, unit_ids = estate.id, [u.id for u in units]
        owner_of = {
            o.unit_id: o.owner_id
            for o in session.query(Ownership).filter(Ownership.unit_id.in_(unit_ids))
        }
    base = f"/api/v1/fund/estates/{estate_id}"

    def post(path, body):
        r = client.post(base + path, json=body, headers=headers)
        assert r.status_code == 201, r.text
        return r.json()

    post("/purchases", {"period": 202601})
    post("/common-parts", {"period": 202602, "category": "parking", "amount_fen": 90_000})
    post("/common-parts", {"period": 202602, "category": "leasing", "amount_fen": 30_000})
    post(
        "/common-parts",
        {"period": 202602, "category": "other", "income": False, "amount_fen": 20_000},
    )
    post("/interest", {"period": 202602, "amount_fen": 12_345})
    post("/common-income-transfers", {"period": 202602, "amount_fen": 100_000})
    return estate_id, unit_ids, owner_of


def test_staff_record_flows_and_the_monthly_disclosure_adds_up(
    fund_app, client, database, token_for
) -> None:
    tenant = make_tenant(database)
    headers = token_for(tenant)
    estate_id, unit_ids, _ = _seeded(client, database, headers, tenant)
    base = f"/api/v1/fund/estates/{estate_id}"
    summary = client.get(base, headers=headers).json()
    assert summary["accounts"] == 6
    assert summary["totals_fen"]["interest"] == 12_345
    assert summary["common_income_fen"] == 120_000 and summary["common_expense_fen"] == 20_000
    months = client.get(base + "/monthly", headers=headers).json()
    assert [m["period"] for m in months] == [202601, 202602]
    assert months[-1]["closing_balance_fen"] == summary["balance_fen"]
    entries = client.get(base + "/entries?period=202602", headers=headers).json()
    assert {e["kind"] for e in entries["items"]} == {"interest", "common_income"}
    assert client.get(base + "/reconciliation", headers=headers).json()["ok"] is True

    r = client.get(base + "/disclosure.csv?period=202602", headers=headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    units, total = rows[:-1], rows[-1]
    assert len(units) == 6 and total["unit_id"] == "TOTAL"
    for column in ("opening_fen", "credits_fen", "debits_fen", "closing_fen"):
        assert sum(int(u[column]) for u in units) == int(total[column])
    assert int(total["credits_fen"]) == 12_345 + 100_000
    assert int(total["closing_fen"]) == summary["balance_fen"]
    for u in units:
        assert int(u["opening_fen"]) + int(u["credits_fen"]) - int(u["debits_fen"]) == int(
            u["closing_fen"]
        )

    r = client.get(base + "/disclosure.pdf?period=202602", headers=headers)
    assert r.status_code == 200 and r.content.startswith(b"%PDF")
    pdf = PdfReader(io.BytesIO(r.content))
    assert len(pdf.pages) >= 1
    text = pdf.pages[0].extract_text()
    assert "202602" in text or "2026" in text
    assert client.get(base + "/disclosure.pdf?period=202613", headers=headers).status_code == 422


def test_an_owner_sees_only_their_own_units_account(
    fund_app, client, database, settings, token_for
) -> None:
    tenant = make_tenant(database)
    estate_id, unit_ids, owner_of = _seeded(client, database, token_for(tenant), tenant)
    mine, theirs = unit_ids[0], unit_ids[1]
    owner = _owner_token(settings, database, tenant, owner_of[mine])
    r = client.get(f"/api/v1/fund/units/{mine}", headers=owner)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["account"]["balance_fen"] == body["movements"][-1]["balance_after_fen"]
    assert [m["kind"] for m in body["movements"]] == ["purchase", "interest", "common_income"]
    assert client.get(f"/api/v1/fund/units/{theirs}", headers=owner).status_code == 404
    listed = client.get(f"/api/v1/fund/estates/{estate_id}/accounts", headers=owner).json()
    assert [a["unit_id"] for a in listed["items"]] == [mine]
    assert client.get(f"/api/v1/fund/estates/{estate_id}", headers=owner).status_code == 200
    refused = client.post(
        f"/api/v1/fund/estates/{estate_id}/interest",
        json={"period": 202603, "amount_fen": 1},
        headers=owner,
    )
    assert refused.status_code == 403


def test_another_tenants_estate_is_not_found(fund_app, client, database, token_for) -> None:
    tenant, other = make_tenant(database), make_tenant(database)
    estate_id, unit_ids, _ = _seeded(client, database, token_for(tenant), tenant)
    stranger = token_for(other)
    assert client.get(f"/api/v1/fund/estates/{estate_id}", headers=stranger).status_code == 404
    assert client.get(f"/api/v1/fund/units/{unit_ids[0]}", headers=stranger).status_code == 404
    r = client.post(
        f"/api/v1/fund/estates/{estate_id}/purchases", json={"period": 202601}, headers=stranger
    )
    assert r.status_code == 404


@pytest.fixture
def sqlite_client(settings, sqlite_database):
    from fastapi.testclient import TestClient

    from wuye.platform.app import create_app

    with TestClient(create_app(settings, sqlite_database)) as test_client:
        yield test_client


def test_city_rates_are_configurable_per_tenant(sqlite_client, sqlite_database, settings) -> None:
    from wuye.federation.tokens import issue_access_token

    tenant = make_tenant(sqlite_database)
    token = issue_access_token(
        settings=settings,
        database=sqlite_database,
        tenant_id=tenant,
        subject="staff:test",
        client_id="test-client",
        scopes=sorted(ROLE_SCOPES[Role.TENANT_ADMIN]),
        role=Role.TENANT_ADMIN,
    )
    headers = {"Authorization": f"Bearer {token}"}
    client = sqlite_client
    rates = {r["city"]: r for r in client.get("/api/v1/fund/city-rates", headers=headers).json()}
    assert rates["杭州"]["deposit_fen_per_m2"] == 8_000 and rates["杭州"]["source"] == "default"
    r = client.put(
        "/api/v1/fund/city-rates",
        json={"city": "苏州", "deposit_fen_per_m2": 7_500, "threshold_bp": 2500},
        headers=headers,
    )
    assert r.status_code == 200 and r.json()["source"] == "tenant"
    rates = {r["city"]: r for r in client.get("/api/v1/fund/city-rates", headers=headers).json()}
    assert rates["苏州"]["threshold_bp"] == 2500


def test_fund_page_is_served_chinese_first(sqlite_client) -> None:
    r = sqlite_client.get("/fund")
    assert r.status_code == 200 and "专项维修资金" in r.text and "Maintenance fund" in r.text
