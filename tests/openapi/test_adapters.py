"""Adapters, end to end: a mapping file drives real HTTP calls to external systems served
from their OpenAPI documents, into (and out of) a tenant's data."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.factories import make_estate, make_tenant
from tests.serving import serving
from wuye.openapi.adapters import mapping, runner
from wuye.openapi.adapters.client import OperationClient, http_client
from wuye.openapi.adapters.models import AdapterRun
from wuye.openapi.documents import Document
from wuye.platform.db import Scope
from wuye.platform.estates.models import Building, Estate, Unit
from wuye.platform.owners.models import Owner, Ownership
from wuye.platform.pii import PersonalDataCipher
from wuye.platform.workorders.models import WorkOrder, WorkOrderIn
from wuye.platform.workorders.service import create_work_order
from wuye.sandbox.mocks.ecommerce import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, EcommercePlatform
from wuye.sandbox.mocks.legacy_pms import LegacyPropertySystem
from wuye.sandbox.mocks.utility import DEMO_KEY_ID, DEMO_PRIVATE_KEY_HEX, UtilityPlatform

MAPPINGS = Path(__file__).parents[2] / "wuye" / "openapi" / "mappings"
CIPHER = PersonalDataCipher(b"adapter-tests")


@pytest.fixture
def legacy():
    system = LegacyPropertySystem(api_key="k-123")
    with serving(system.app()) as url:
        yield (
            system,
            mapping.load(
                MAPPINGS / "legacy-pms.yaml", env={"LEGACY_PMS_URL": url, "LEGACY_PMS_KEY": "k-123"}
            ),
        )


def _counts(database, tenant_id):
    with database.transaction(Scope.tenant(tenant_id)) as s:
        return {
            m.__name__: s.scalar(select(func.count()).select_from(m))
            for m in (Estate, Building, Unit, Owner, Ownership, WorkOrder)
        }


def _run(database, tenant_id, m, **kw):
    return runner.run(m, database=database, cipher=CIPHER, tenant_id=tenant_id, **kw)


def test_shipped_mappings_check_clean():
    for name in ("legacy-pms.yaml", "ecommerce-orders.yaml"):
        m = mapping.load(MAPPINGS / name, env={})
        assert [i for i in runner.check(m) if runner.is_error(i)] == [], name


def test_check_reports_every_unmapped_required_field(tmp_path):
    text = (MAPPINGS / "legacy-pms.yaml").read_text()
    text = text.replace("      name: xqmc\n", "").replace("      number: fh\n", "")
    text = text.replace("document: legacy-pms", f"document: {MAPPINGS}/legacy-pms")
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace("      floors: zcs\n", "      floors: cengshu\n"))
    issues = runner.check(mapping.load(broken, env={}))
    assert "estate (listXiaoqu): required wuye field 'name' is not mapped" in issues
    assert "unit (listFangwu): required wuye field 'number' is not mapped" in issues
    assert "building (listLouyu): their record has no field 'cengshu'" in issues


def test_legacy_system_is_imported_by_the_mapping_alone(sqlite_database, legacy):
    _system, m = legacy
    tenant = make_tenant(sqlite_database)
    report = _run(sqlite_database, tenant, m)
    assert _counts(sqlite_database, tenant) == {
        "Estate": 2,
        "Building": 4,
        "Unit": 40,
        "Owner": 35,
        "Ownership": 35,
        "WorkOrder": 3,
    }
    # the one mistyped phone number of the old system is reported, by record
    assert report.status == "completed_with_errors"
    assert report.errors == [
        {
            "entity": "owner",
            "key": "YZ00006",
            "error": "phone: String should match pattern '^1[3-9]\\d{9}$'",
        }
    ]
    with sqlite_database.transaction(Scope.tenant(tenant)) as s:
        estate = s.scalars(select(Estate).where(Estate.code == "XQ001")).one()
        assert (estate.name, estate.district) == ("翠苑一区", "西湖区")
        urgent = s.scalars(select(WorkOrder).where(WorkOrder.title == "1幢屋顶渗水")).one()
        assert urgent.priority == "urgent"
        run = s.scalars(select(AdapterRun)).one()
        assert run.status == "completed_with_errors" and run.counts["unit"]["created"] == 40


def test_import_that_stops_halfway_resumes_without_duplicates(sqlite_database, legacy):
    system, m = legacy
    tenant = make_tenant(sqlite_database)
    # estates, buildings and the first page of units (20 a page), then the system goes down
    system.down_after = 3
    first = _run(sqlite_database, tenant, m, client=_fast_client(m))
    assert first.status == "interrupted"
    partial = _counts(sqlite_database, tenant)
    assert (partial["Estate"], partial["Building"], partial["Unit"]) == (2, 4, 20)
    system.down_after = None
    second = _run(sqlite_database, tenant, m)
    assert second.counts["estate"]["skipped"] == 2
    assert second.counts["unit"] == {"created": 20, "skipped": 20, "failed": 0}
    assert _counts(sqlite_database, tenant)["Unit"] == 40
    third = _run(sqlite_database, tenant, m)
    assert third.counts["unit"] == {"created": 0, "skipped": 40, "failed": 0}
    assert _counts(sqlite_database, tenant)["Owner"] == 35


def _fast_client(m):
    doc = Document.load(m.document)
    return OperationClient(doc, http_client(m.base_url, m.auth, doc), sleep=lambda _s: None)


def test_temporary_failures_are_retried_with_backoff(sqlite_database, legacy):
    system, m = legacy
    system.flaky = 3  # every third request answers 503
    tenant = make_tenant(sqlite_database)
    client = _fast_client(m)
    report = _run(sqlite_database, tenant, m, client=client)
    assert report.status == "completed_with_errors"  # only the bad phone number
    assert client.retries >= 3
    assert _counts(sqlite_database, tenant)["Unit"] == 40


def test_dry_run_writes_nothing(sqlite_database, legacy):
    _system, m = legacy
    tenant = make_tenant(sqlite_database)
    report = _run(sqlite_database, tenant, m, dry_run=True)
    assert report.counts["estate"]["created"] == 2
    assert _counts(sqlite_database, tenant)["Estate"] == 0


def test_work_orders_are_pushed_with_oauth2_client_credentials_once(sqlite_database):
    shop = EcommercePlatform()
    tenant = make_tenant(sqlite_database)
    with sqlite_database.transaction(Scope.tenant(tenant)) as s:
        estate = make_estate(s, name="西溪润园")
        for title in ("更换单元门禁", "采购路灯灯泡"):
            create_work_order(
                session=s,
                order_in=WorkOrderIn(estate_id=estate.id, title=title, dispatch=False),
                actor="test",
            )
    with serving(shop.app()) as url:
        env = {
            "ECOMMERCE_URL": url,
            "ECOMMERCE_CLIENT_ID": DEMO_CLIENT_ID,
            "ECOMMERCE_CLIENT_SECRET": DEMO_CLIENT_SECRET,
        }
        m = mapping.load(MAPPINGS / "ecommerce-orders.yaml", env=env)
        first = _run(sqlite_database, tenant, m)
        again = _run(sqlite_database, tenant, m)
    assert first.counts["work_order"]["created"] == 2
    assert again.counts["work_order"] == {"created": 0, "skipped": 2, "failed": 0}
    orders = [v for k, v in shop.store.rows.items() if k.startswith("order:")]
    assert {o["title"] for o in orders} == {"采购路灯灯泡", "更换单元门禁"}
    assert {o["estate_name"] for o in orders} == {"西溪润园"}


def test_sm2_signed_requests_are_accepted_and_forgeries_refused():
    from wuye import crypto

    utility = UtilityPlatform()
    doc = utility.doc
    with serving(utility.app()) as url:
        good = OperationClient(
            doc,
            http_client(
                url,
                {"type": "sm2", "key_id": DEMO_KEY_ID, "private_key": DEMO_PRIVATE_KEY_HEX},
                doc,
            ),
        )
        bills = good.call("listBills", params={"account_no": "3301000001"})["items"]
        assert len(bills) == 3
        paid = good.call(
            "payBill",
            params={"bill_no": bills[0]["bill_no"]},
            body={"amount_fen": bills[0]["amount_fen"], "payer_ref": "wuye-1"},
        )
        assert paid["status"] == "paid"
        other = crypto.SM2PrivateKey.generate().to_hex()
        forged = OperationClient(
            doc, http_client(url, {"type": "sm2", "key_id": DEMO_KEY_ID, "private_key": other}, doc)
        )
        with pytest.raises(runner.CallFailed) as refused:
            forged.call("listBills", params={"account_no": "3301000001"})
        assert refused.value.status == 401
