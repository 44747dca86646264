"""Bills: issued to a unit (and its owner), paid in full or in parts, cancelled, overdue;
imported bills are unique per issuer and reference; over HTTP with bills scopes."""

from __future__ import annotations

from datetime import date

import pytest

from tests.factories import make_tenant, make_unit
from wuye.platform.bills import service
from wuye.platform.bills.models import BillCancelIn, BillIn, BillPaymentIn
from wuye.platform.db import Scope
from wuye.platform.owners import service as owners
from wuye.platform.owners.models import OwnerIn, OwnershipIn
from wuye.platform.pii import PersonalDataCipher
from wuye.platform.problems import Problem

TODAY = date(2026, 11, 25)


@pytest.fixture
def session(sqlite_database):
    with sqlite_database.transaction(Scope.tenant(make_tenant(sqlite_database))) as s:
        yield s


def _owner(session, unit, name="甲"):
    owner = owners.create_owner(
        session=session, cipher=PersonalDataCipher(b"k"), owner_in=OwnerIn(name=name)
    )
    owners.add_ownership(
        session=session, unit_id=unit.id, ownership_in=OwnershipIn(owner_id=owner.id)
    )
    return owner


def _bill(session, unit, **kw):
    fields = {
        "unit_id": unit.id,
        "kind": "property_fee",
        "period": "2026-Q4",
        "amount_fen": 45_000,
        "due_date": date(2026, 12, 31),
    } | kw
    return service.create_bill(session=session, bill_in=BillIn(**fields), actor="test", today=TODAY)


def _pay(session, bill, amount_fen, reference=None):
    return service.record_payment(
        session=session,
        bill_id=bill.id,
        payment_in=BillPaymentIn(amount_fen=amount_fen, method="wechat", reference=reference),
        actor="test",
    )


def test_a_bill_goes_to_the_units_sole_owner_in_its_estate(session):
    unit = make_unit(session)
    owner = _owner(session, unit)
    bill = _bill(session, unit)
    assert (bill.owner_id, bill.estate_id, bill.status) == (owner.id, unit.estate_id, "unpaid")


def test_a_named_owner_must_hold_the_unit(session):
    unit, elsewhere = make_unit(session), make_unit(session, number="202")
    stranger = _owner(session, elsewhere)
    with pytest.raises(Problem, match="does not hold the unit"):
        _bill(session, unit, owner_id=stranger.id)


def test_a_bill_past_its_due_date_is_issued_overdue(session):
    assert _bill(session, make_unit(session), due_date=date(2026, 10, 31)).status == "overdue"


def test_partial_payments_add_up_until_the_bill_is_paid(session):
    bill = _bill(session, make_unit(session))
    _pay(session, bill, 20_000)
    assert (bill.paid_fen, bill.status) == (20_000, "unpaid")
    last = _pay(session, bill, 25_000)
    assert (bill.paid_fen, bill.status, last.seq) == (45_000, "paid", 2)
    assert bill.paid_at == last.paid_at


def test_a_payment_beyond_what_is_outstanding_is_refused(session):
    bill = _bill(session, make_unit(session))
    _pay(session, bill, 40_000)
    with pytest.raises(Problem) as refused:
        _pay(session, bill, 5_001)
    assert refused.value.status == 409 and refused.value.extensions["outstanding_fen"] == 5_000


def test_a_retried_payment_with_the_same_reference_counts_once(session):
    bill = _bill(session, make_unit(session))
    _pay(session, bill, 100, reference="WX-1")
    with pytest.raises(Problem, match="recorded already"):
        _pay(session, bill, 100, reference="WX-1")
    assert bill.paid_fen == 100


def test_a_cancelled_bill_takes_no_payment(session):
    bill = _bill(session, make_unit(session))
    service.cancel_bill(session=session, bill_id=bill.id, cancel_in=BillCancelIn(reason="开错"))
    assert (bill.status, bill.cancel_reason) == ("cancelled", "开错")
    with pytest.raises(Problem, match="cancelled takes no payment"):
        _pay(session, bill, 100)


def test_a_bill_with_payments_cannot_be_cancelled(session):
    bill = _bill(session, make_unit(session))
    _pay(session, bill, 100)
    with pytest.raises(Problem, match="with payments"):
        service.cancel_bill(session=session, bill_id=bill.id, cancel_in=BillCancelIn(reason="x"))


def test_unpaid_bills_past_due_turn_overdue(session):
    unit = make_unit(session)
    late, on_time = _bill(session, unit), _bill(session, unit, due_date=date(2027, 1, 31))
    assert service.mark_overdue(session=session, today=date(2027, 1, 1)) == 1
    session.expire_all()
    assert (late.status, on_time.status) == ("overdue", "unpaid")


def test_an_external_bill_needs_its_reference(session):
    with pytest.raises(ValueError, match="external_ref is required"):
        BillIn(
            unit_id="u", kind="water", period="2026-09", amount_fen=1,
            due_date=TODAY, issuer="utility",
        )  # fmt: skip


def test_the_same_external_bill_is_issued_once_and_imported_idempotently(session):
    unit = make_unit(session)
    first = _bill(session, unit, kind="water", issuer="utility", external_ref="B1")
    with pytest.raises(Problem) as refused:
        _bill(session, unit, kind="water", issuer="utility", external_ref="B1")
    assert refused.value.status == 409 and refused.value.extensions["bill_id"] == first.id
    again = BillIn(
        unit_id=unit.id, kind="water", period="2026-09", amount_fen=1, due_date=TODAY,
        issuer="utility", external_ref="B1",
    )  # fmt: skip
    assert service.import_bill(session=session, bill_in=again, actor="t") == (first, False)
    other_issuer = _bill(session, unit, kind="gas", issuer="gas-co", external_ref="B1")
    assert other_issuer.id != first.id


def test_a_bill_paid_at_its_issuer_arrives_with_that_payment(session):
    bill = _bill(session, make_unit(session), issuer="utility", external_ref="B9",
                 paid_externally=True)  # fmt: skip
    assert (bill.status, bill.paid_fen) == ("paid", bill.amount_fen)


def test_bills_over_http_issue_list_pay_and_show_payments(client, token_for, database):
    tenant = make_tenant(database)
    auth = token_for(tenant)
    with database.transaction(Scope.tenant(tenant)) as s:
        unit_id = make_unit(s).id
    body = {"unit_id": unit_id, "kind": "parking", "period": "2026-11", "amount_fen": 30_000,
            "due_date": "2099-11-30"}  # fmt: skip
    r = client.post("/api/v1/bills", json=body, headers=auth)
    assert r.status_code == 201, r.text
    bill_id = r.json()["id"]
    client.post("/api/v1/bills", json=body | {"kind": "water"}, headers=auth)
    r = client.get("/api/v1/bills", params={"kind": "parking", "sort": "-due_date"}, headers=auth)
    assert [b["id"] for b in r.json()["items"]] == [bill_id] and r.json()["total"] == 1
    pay = {"amount_fen": 30_000, "method": "alipay", "reference": "ALI-7"}
    r = client.post(f"/api/v1/bills/{bill_id}/payments", json=pay, headers=auth)
    assert r.status_code == 201 and r.json()["seq"] == 1
    again = client.post(f"/api/v1/bills/{bill_id}/payments", json=pay, headers=auth)
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert client.get(f"/api/v1/bills/{bill_id}", headers=auth).json()["status"] == "paid"
    payments = client.get(f"/api/v1/bills/{bill_id}/payments", headers=auth).json()
    assert [p["reference"] for p in payments["items"]] == ["ALI-7"]
    unpaid = client.get("/api/v1/bills", params={"status": "unpaid"}, headers=auth).json()
    assert [b["kind"] for b in unpaid["items"]] == ["water"]


def test_bills_need_bills_scopes(client, token_for, database):
    tenant = make_tenant(database)
    reader = token_for(tenant, "bills:read")
    assert client.get("/api/v1/bills", headers=reader).status_code == 200
    body = {"unit_id": "x", "kind": "gas", "period": "2026", "amount_fen": 1,
            "due_date": "2026-12-31"}  # fmt: skip
    refused = client.post("/api/v1/bills", json=body, headers=reader)
    assert refused.status_code == 403 and "bills:write" in refused.text
