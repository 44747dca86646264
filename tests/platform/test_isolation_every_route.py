"""Every route of the OpenAPI document keeps tenants apart.

Tenant B gets a full object graph; tenant A's administrator, holding every
scope, then calls every ``/api/v1`` route: with B's identifiers in the path it
must get 404 (or 403 on host-only routes), and no collection may return B's
rows, even when asked with B's identifiers as filters. A new route with a
request body needs a sample body below, so it cannot slip past this test.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.factories import make_tenant

SAMPLE_BODIES = {
    "EstatePatch": {"name": "改名"},
    "BuildingIn": {"name": "99幢", "floors": 3},
    "BuildingPatch": {"name": "98幢"},
    "UnitIn": {"number": "999", "floor": 1, "floor_area_m2": "50.00"},
    "UnitPatch": {"number": "998"},
    "OwnerPatch": {"name": "改名"},
    "OwnershipIn": {"owner_id": "{owner_id}"},
    "StaffPatch": {"name": "改名"},
    "RejectIn": {"reason": "资料不全"},
    "DevicePatch": {"name": "改名"},
    "ProvisionIn": {"mode": "psk"},
    "AcknowledgeIn": {"note": "收到"},
    "WorkOrderPatch": {"title": "改名"},
    "TransitionIn": {"status": "cancelled"},
    "DispatchIn": {},
    "PromotionReviewIn": {"approve": False},
    "TrusteesIn": {"dealings": []},
    "CastIn": {
        "unit_id": "{owner_id}",
        "owner_id": "{owner_id}",
        "ballot": {},
        "signature": "00" * 16,
    },
    "ProxyCastIn": {
        "unit_id": "{owner_id}",
        "owner_id": "{owner_id}",
        "ballot": {},
        "signature": "00" * 16,
        "authorisation_base64": "c2lnbmVk",
    },
    "CredentialIn": {"public_key": "04" + "11" * 64},
    "CredentialsIn": {"authority": "居委会", "credentials": {}},
    "SharesIn": {"index": 1, "shares": {}},
    "NominateIn": {"nominee_id": "{owner_id}", "owner_id": "{owner_id}"},
    "ConfirmIn": {"owner_id": "{owner_id}"},
    "TransportKeyIn": {"transport_key": "04" + "11" * 64},
    "DealingIn": {"dealing": {}, "encrypted_shares": {}},
    "ConfirmKeyIn": {"proof": {}},
    "EndorsementIn": {"index": 1, "proof": {}},
    "ComplaintResolutionIn": {"resolution": "已处理"},
    "CommandIn": {"name": "ping"},
    "PeriodIn": {"period": 202601},
    "SimulatedBallotIn": {"unit_id": "{owner_id}", "choice": "agree"},
    "InterestIn": {"period": 202601, "amount_fen": 100},
    "CommonPartIn": {"period": 202601, "category": "parking", "amount_fen": 100},
    "ProjectIn": {
        "title": "修",
        "common_part": "电梯",
        "contractor": "某公司",
        "budget_fen": 100,
        "unit_ids": ["{owner_id}"],
    },
    "VoteIn": {},
    "EmergencyIn": {"reason": "爆管", "evidence": [{"name": "a", "sm3": "0" * 64}]},
    "PaymentIn": {
        "period": 202601,
        "amount_fen": 1,
        "invoice_no": "F1",
        "invoice_sm3": "0" * 64,
        "payee": "0x" + "ab" * 20,
    },
    "CityRateIn": {"city": "杭州", "deposit_fen_per_m2": 8000},
    "BillPaymentIn": {"amount_fen": 1, "method": "cash"},
    "BillCancelIn": {"reason": "开错了"},
}
#: Routes served to the host firm (or to regulators) only: another tenant's principal gets 403.
HOST_ONLY = re.compile(r"^/api/v1/(admin|regulator)/")
#: Public routes with no tenant data (onboarding applications are the applicant's own;
#: published credit scores are public disclosure).
PUBLIC = re.compile(r"^/api/v1/(onboarding|credit/public)/")


def _graph(client, headers) -> dict[str, str]:
    def post(path, body):
        r = client.post(path, json=body, headers=headers)
        assert r.status_code == 201, r.text
        return r.json()["id"]

    ids = {"estate_id": post("/api/v1/estates", {"code": "G", "name": "图"})}
    ids["building_id"] = post(f"/api/v1/estates/{ids['estate_id']}/buildings", {"name": "1幢"})
    ids["unit_id"] = post(
        f"/api/v1/buildings/{ids['building_id']}/units",
        {"number": "101", "floor": 1, "floor_area_m2": "90.00"},
    )
    ids["owner_id"] = post("/api/v1/owners", {"name": "乙", "phone": "13900000099"})
    post(f"/api/v1/units/{ids['unit_id']}/owners", {"owner_id": ids["owner_id"]})
    ids["staff_id"] = post("/api/v1/staff", {"name": "钱师傅", "estate_id": ids["estate_id"]})
    ids["device_id"] = post(
        "/api/v1/devices", {"estate_id": ids["estate_id"], "code": "G-1", "type": "water_pump"}
    )
    ids["alarm_id"] = _alarm_from_telemetry(client, headers, ids["device_id"])
    ids["command_id"] = post(f"/api/v1/devices/{ids['device_id']}/commands", {"name": "ping"})
    ids["work_order_id"] = post(
        "/api/v1/workorders", {"estate_id": ids["estate_id"], "title": "巡检", "dispatch": False}
    )
    ids["complaint_id"] = post(
        "/api/v1/credit/complaints", {"estate_id": ids["estate_id"], "staff_id": ids["staff_id"]}
    )
    ids["election_id"] = post(
        "/api/v1/elections",
        {"estate_id": ids["estate_id"], "title": "表决", "matter": "other_major"},
    )
    ids["bill_id"] = post(
        "/api/v1/bills",
        {"unit_id": ids["unit_id"], "kind": "property_fee", "period": "2026-Q1",
         "amount_fen": 45000, "due_date": "2026-03-31"},
    )  # fmt: skip
    ids["index"] = "1"  # a trustee number: the election above decides whose it is
    ids["project_id"] = _fund_project(client, ids["estate_id"])
    return ids


def _fund_project(client, estate_id) -> str:
    """A repair project row of the estate's tenant (no ledger needed to be refused it)."""
    from wuye.ledger.fund.models import FundProject, ProjectStatus
    from wuye.platform.db import Scope
    from wuye.platform.estates.models import Estate

    db = client.app.state.db
    with db.transaction(Scope.for_host()) as session:
        tenant_id = session.get(Estate, estate_id).tenant_id
    with db.transaction(Scope.tenant(tenant_id)) as session:
        project = FundProject(
            estate_id=estate_id,
            title="电梯大修",
            common_part="1幢电梯",
            contractor="某公司",
            budget_fen=100,
            status=ProjectStatus.PROPOSED,
            chain_project_id=0,
            tx_hash="",
            block_number=0,
        )
        session.add(project)
        session.flush()
        return project.id


def _alarm_from_telemetry(client, headers, device_id) -> str:
    """Provision the device, send it a reading past its limits through the ingest."""
    from wuye.adapters import oscore
    from wuye.adapters.devices.keys import keyring_for_secret
    from wuye.adapters.devices.types import DEVICE_TYPES
    from wuye.adapters.ingest import Pipeline
    from wuye.adapters.thresholds import now_ms
    from wuye.adapters.vendors import VENDORS, Sample

    keys = client.post(f"/api/v1/devices/{device_id}/provision", json={}, headers=headers).json()
    sender, _ = oscore.device_contexts(bytes.fromhex(keys["master_secret"]), keys["code"])
    body = VENDORS["json"].encode(
        [Sample(now_ms(), {"outlet_pressure_mpa": 0.01})], DEVICE_TYPES["water_pump"]
    )
    app = client.app
    pipeline = Pipeline(app.state.db, keyring_for_secret(app.state.settings.secret_bytes()))
    pipeline.process([(keys["telemetry_topic"], sender.protect(body, keys["telemetry_topic"]))])
    alarms = client.get("/api/v1/alarms", params={"device_id": device_id}, headers=headers)
    return alarms.json()["items"][0]["id"]


def _routes(app):
    doc = app.openapi()
    for path, ops in doc["paths"].items():
        if not path.startswith("/api/v1/") or PUBLIC.match(path):
            continue
        for method, op in ops.items():
            yield path, method.upper(), op


def _body_schema(op) -> str | None:
    content = op.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema", {})
    ref = schema.get("$ref", "")
    return ref.rsplit("/", 1)[-1] or None


def _all_strings(value) -> set[str]:
    if isinstance(value, dict):
        return set().union(*(_all_strings(v) for v in value.values()), set())
    if isinstance(value, list):
        return set().union(*(_all_strings(v) for v in value), set())
    return {value} if isinstance(value, str) else set()


@pytest.fixture
def two_tenants(client, database, token_for):
    a, b = make_tenant(database), make_tenant(database)
    headers_a, headers_b = token_for(a), token_for(b)
    ids_a, ids_b = _graph(client, headers_a), _graph(client, headers_b)
    return headers_a, ids_a, ids_b


def test_every_route_with_another_tenants_ids_is_not_found(app, client, two_tenants):
    headers_a, ids_a, ids_b = two_tenants
    checked = 0
    for path, method, op in _routes(app):
        params = re.findall(r"{(\w+)}", path)
        if not params:
            continue
        host_only = bool(HOST_ONLY.match(path))
        missing = [p for p in params if p not in ids_b]
        assert host_only or not missing, f"extend _graph with {missing} for {method} {path}"
        url = path.format(**{p: ids_b.get(p, "0" * 32) for p in params})
        body = None
        schema = _body_schema(op)
        if schema:
            assert schema in SAMPLE_BODIES, f"add a sample body for {schema} ({method} {path})"
            body = json.loads(
                json.dumps(SAMPLE_BODIES[schema]).replace("{owner_id}", ids_a["owner_id"])
            )
        r = client.request(method, url, json=body, headers=headers_a)
        expected = {403} if host_only else {404}
        assert r.status_code in expected, f"{method} {url}: {r.status_code} {r.text}"
        checked += 1
    assert checked >= 15


def test_no_collection_returns_another_tenants_rows(app, client, two_tenants):
    headers_a, ids_a, ids_b = two_tenants
    foreign = set(ids_b.values())
    checked = 0
    for path, method, op in _routes(app):
        if method != "GET" or "{" in path:
            continue
        query_params = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
        attempts = [{}] + [{k: ids_b[k]} for k in query_params if k in ids_b]
        for query in attempts:
            r = client.get(path, params=query, headers=headers_a)
            if HOST_ONLY.match(path):
                assert r.status_code == 403, f"GET {path}: {r.status_code}"
                continue
            assert r.status_code == 200, f"GET {path} {query}: {r.text}"
            leaked = _all_strings(r.json()) & foreign
            assert not leaked, f"GET {path} {query} leaked {leaked}"
            checked += 1
    assert checked >= 5
