"""Bills from external systems by mapping files: the sandbox's utility mock (SM2-signed)
imported into wuye bills of the units its accounts belong to - once, however often the
mapping runs - an import that survives a page the system keeps failing, and provident-fund
transfers recorded as payments of the units' property-fee bills."""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.factories import make_tenant
from tests.serving import serving
from wuye.openapi.adapters import mapping, runner
from wuye.openapi.adapters.client import OperationClient, http_client
from wuye.openapi.adapters.models import AdapterRun
from wuye.openapi.documents import Document
from wuye.platform.bills import service as bill_service
from wuye.platform.bills.models import Bill, BillIn, BillPayment
from wuye.platform.db import Scope
from wuye.platform.estates import service as estates
from wuye.platform.estates.models import Building, EstateIn, Unit
from wuye.platform.pii import PersonalDataCipher
from wuye.sandbox.mocks.hpf import DEMO_API_KEY as HPF_KEY
from wuye.sandbox.mocks.hpf import ProvidentFundPlatform
from wuye.sandbox.mocks.utility import DEMO_KEY_ID, DEMO_PRIVATE_KEY_HEX, UtilityPlatform

MAPPINGS = Path(__file__).parents[2] / "wuye" / "openapi" / "mappings"
CIPHER = PersonalDataCipher(b"bill-adapter-tests")
#: The utility mock's bills: 24 accounts of 3 bills, 20 to a page.
BILLS, PAGES = 72, 4
#: A due date still ahead whenever the tests run.
DUE = date.today() + timedelta(days=60)


def _estate(database, tenant_id, *, buildings=3):
    """The sandbox estate's layout (code SANDBOX-01, 6 floors of 2 houses a building)."""
    with database.transaction(Scope.tenant(tenant_id)) as s:
        estate = estates.create_estate(
            session=s, estate_in=EstateIn(code="SANDBOX-01", name="沙箱示范小区")
        )
        estates.create_grid(
            session=s,
            estate_id=estate.id,
            buildings=buildings,
            floors=6,
            units_per_floor=2,
            areas=("89.36",),
            rng=random.Random(1),
        )


@pytest.fixture
def utility():
    system = UtilityPlatform()
    with serving(system.app()) as url:
        env = {
            "UTILITY_URL": url,
            "UTILITY_KEY_ID": DEMO_KEY_ID,
            "UTILITY_PRIVATE_KEY": DEMO_PRIVATE_KEY_HEX,
        }
        yield system, mapping.load(MAPPINGS / "utility-bills.yaml", env=env)


def _run(database, tenant_id, m, **kw):
    doc = Document.load(m.document)
    client = OperationClient(doc, http_client(m.base_url, m.auth, doc), sleep=lambda _s: None)
    return runner.run(m, database=database, cipher=CIPHER, tenant_id=tenant_id, client=client, **kw)


def _bills(database, tenant_id) -> list[Bill]:
    with database.transaction(Scope.tenant(tenant_id)) as s:
        rows = s.scalars(select(Bill).order_by(Bill.external_ref)).all()
        s.expunge_all()
        return list(rows)


def test_shipped_bill_mappings_check_clean():
    for name in ("utility-bills.yaml", "hpf-property-fees.yaml"):
        m = mapping.load(MAPPINGS / name, env={})
        assert [i for i in runner.check(m) if runner.is_error(i)] == [], name


def test_check_reports_a_bill_field_left_unmapped(tmp_path):
    text = (MAPPINGS / "utility-bills.yaml").read_text().replace("      due_date: due_date\n", "")
    text = text.replace("document: ../../", f"document: {MAPPINGS.parent.parent}/")
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace("      number: address.room\n", "      number: address.flat\n"))
    issues = runner.check(mapping.load(broken, env={}))
    assert "bill (listBills): required wuye field 'due_date' is not mapped" in issues
    assert "unit (listAccounts): their record has no field 'address.flat'" in issues


def test_utility_bills_are_imported_into_the_units_of_their_accounts(sqlite_database, utility):
    system, m = utility
    tenant = make_tenant(sqlite_database)
    _estate(sqlite_database, tenant)
    report = _run(sqlite_database, tenant, m)
    assert report.status == "completed", report.errors
    assert report.counts["unit"] == {"created": 0, "skipped": 0, "failed": 0, "matched": 24}
    assert report.counts["bill"]["created"] == BILLS
    bills = _bills(sqlite_database, tenant)
    first = system.bills["B330100000009W"]
    bill = next(b for b in bills if b.external_ref == "B330100000009W")
    assert (bill.issuer, bill.kind, bill.period) == ("utility", "water", "2026-09")
    assert (bill.amount_fen, str(bill.due_date)) == (first["amount_fen"], "2026-10-25")
    assert {b.kind for b in bills} == {"water", "electricity", "gas"}
    assert len({b.unit_id for b in bills}) == 24


def test_a_bill_paid_at_the_utility_arrives_paid(sqlite_database, utility):
    system, m = utility
    system.store.put("paid:B330100000110P", {"payer_ref": "counter"})
    tenant = make_tenant(sqlite_database)
    _estate(sqlite_database, tenant)
    _run(sqlite_database, tenant, m)
    paid = [b for b in _bills(sqlite_database, tenant) if b.status == "paid"]
    assert [b.external_ref for b in paid] == ["B330100000110P"]
    with sqlite_database.transaction(Scope.tenant(tenant)) as s:
        payment = s.scalars(select(BillPayment)).one()
        assert (payment.method, payment.amount_fen) == ("external", paid[0].amount_fen)


def test_accounts_of_houses_wuye_lacks_are_reported_by_record(sqlite_database, utility):
    _system, m = utility
    tenant = make_tenant(sqlite_database)
    _estate(sqlite_database, tenant, buildings=1)  # building 2's houses are not in wuye
    report = _run(sqlite_database, tenant, m)
    assert report.status == "completed_with_errors"
    assert report.counts["unit"]["failed"] == 12
    assert report.counts["bill"] == {"created": 36, "skipped": 0, "failed": 36}
    errors = {(e["entity"], e["key"]): e["error"] for e in report.errors}
    assert errors[("unit", "3301000012")] == "no unit 2幢 101 in estate SANDBOX-01"
    assert errors[("bill", "B330100001209W")] == "unit 3301000012 was not imported"


def test_a_page_failing_for_good_is_reported_and_the_next_pages_imported(sqlite_database, utility):
    system, m = utility
    system.broken_pages = {2}
    tenant = make_tenant(sqlite_database)
    _estate(sqlite_database, tenant)
    report = _run(sqlite_database, tenant, m)
    assert report.status == "completed_with_errors"
    assert report.counts["bill"] == {"created": BILLS - 20, "skipped": 0, "failed": 0,
                                     "pages_failed": 1}  # fmt: skip
    [error] = report.errors
    assert (error["entity"], error["key"], error["page"]) == ("bill", "page 2", 2)
    assert "HTTP 503" in error["error"]
    with sqlite_database.transaction(Scope.tenant(tenant)) as s:
        run = s.get(AdapterRun, report.run_id)
        assert run.status == "completed_with_errors" and run.errors[0]["key"] == "page 2"
    # the page mends; running again imports only what the page held
    system.broken_pages = set()
    resumed = _run(sqlite_database, tenant, m)
    assert resumed.status == "completed"
    assert resumed.counts["bill"] == {"created": 20, "skipped": BILLS - 20, "failed": 0}
    assert len(_bills(sqlite_database, tenant)) == BILLS


def test_the_last_page_failing_ends_the_walk_there(sqlite_database, utility):
    system, m = utility
    system.broken_pages = {PAGES}
    tenant = make_tenant(sqlite_database)
    _estate(sqlite_database, tenant)
    report = _run(sqlite_database, tenant, m)
    assert report.status == "completed_with_errors"
    assert report.counts["bill"]["created"] == 60
    assert [e["key"] for e in report.errors] == [f"page {PAGES}"]


def test_two_failing_pages_in_a_row_stop_the_run_to_resume_later(sqlite_database, utility):
    system, m = utility
    system.broken_pages = {2, 3}
    tenant = make_tenant(sqlite_database)
    _estate(sqlite_database, tenant)
    report = _run(sqlite_database, tenant, m)
    assert report.status == "interrupted"
    assert report.counts["bill"]["created"] == 20
    system.broken_pages = set()
    resumed = _run(sqlite_database, tenant, m)
    assert resumed.counts["bill"] == {"created": BILLS - 20, "skipped": 20, "failed": 0}


def test_dry_run_maps_bills_through_matched_units_and_writes_nothing(sqlite_database, utility):
    _system, m = utility
    tenant = make_tenant(sqlite_database)
    _estate(sqlite_database, tenant)
    report = _run(sqlite_database, tenant, m, dry_run=True)
    assert report.status == "completed", report.errors
    assert report.counts["bill"]["created"] == BILLS
    assert _bills(sqlite_database, tenant) == []
    with sqlite_database.transaction(Scope.tenant(tenant)) as s:
        assert s.scalar(select(func.count()).select_from(AdapterRun)) == 0


@pytest.fixture
def hpf():
    system = ProvidentFundPlatform()
    with serving(system.app()) as url:
        env = {"HPF_URL": url, "HPF_KEY": HPF_KEY}
        yield system, mapping.load(MAPPINGS / "hpf-property-fees.yaml", env=env)


def _property_fees(database, tenant_id, rooms, amount_fen=200_000) -> dict[str, str]:
    """A 2026 property-fee bill for each of building 3's ``rooms``: room -> bill id."""
    with database.transaction(Scope.tenant(tenant_id)) as s:
        out = {}
        for room in rooms:
            unit = s.scalars(
                select(Unit).join(Building).where(Building.name == "3幢", Unit.number == room)
            ).one()
            bill_in = BillIn(unit_id=unit.id, kind="property_fee", period="2026",
                             amount_fen=amount_fen, due_date=DUE)  # fmt: skip
            out[room] = bill_service.create_bill(session=s, bill_in=bill_in, actor="t").id
        return out


def test_provident_fund_transfers_pay_the_units_property_fees_once(sqlite_database, hpf):
    system, m = hpf
    tenant = make_tenant(sqlite_database)
    _estate(sqlite_database, tenant)
    bills = _property_fees(sqlite_database, tenant, ["101", "102", "201", "202"])
    report = _run(sqlite_database, tenant, m)
    assert report.counts["unit"]["matched"] == 6
    assert report.counts["bill_payment"] == {"created": 4, "skipped": 0, "failed": 1}
    [error] = report.errors  # 3幢 301 has no property-fee bill for 2026 yet
    assert error["key"] == "HK2026000005" and "no open property_fee bill of 2026" in error["error"]
    with sqlite_database.transaction(Scope.tenant(tenant)) as s:
        paid = s.get(Bill, bills["102"])
        payment = s.scalars(select(BillPayment).where(BillPayment.bill_id == paid.id)).one()
        assert (payment.method, payment.amount_fen) == ("hpf", system.transfers[1]["amount_fen"])
        assert payment.reference == "hpf-property-fees:HK2026000002"
        assert paid.paid_fen == payment.amount_fen and paid.status == "unpaid"
    # the missing bill is issued; running again pays it, and nothing twice
    _property_fees(sqlite_database, tenant, ["301"])
    again = _run(sqlite_database, tenant, m)
    assert again.counts["bill_payment"] == {"created": 1, "skipped": 4, "failed": 0}
    with sqlite_database.transaction(Scope.tenant(tenant)) as s:
        assert s.scalar(select(func.count()).select_from(BillPayment)) == 5
