"""Bills: issue, import idempotently, record payments, cancel, mark overdue; one session each."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from wuye.platform.bills.models import (
    OPEN_STATUSES,
    PLATFORM,
    Bill,
    BillCancelIn,
    BillIn,
    BillPayment,
    BillPaymentIn,
)
from wuye.platform.crud import flush_or_conflict, get_or_404
from wuye.platform.db import utcnow
from wuye.platform.estates.service import get_unit
from wuye.platform.owners.models import Owner, Ownership
from wuye.platform.problems import Conflict, Problem


def _today() -> date:
    return datetime.now(UTC).date()


def get_bill(*, session: Session, bill_id: str) -> Bill:
    return get_or_404(session, Bill, bill_id, what="bill")


def _locked(session: Session, bill_id: str) -> Bill:
    """The bill, locked for this transaction (payments must not overtake each other)."""
    get_bill(session=session, bill_id=bill_id)
    return session.scalars(select(Bill).where(Bill.id == bill_id).with_for_update()).one()


def find_by_external_ref(*, session: Session, issuer: str, external_ref: str) -> Bill | None:
    return session.scalars(
        select(Bill).where(Bill.issuer == issuer, Bill.external_ref == external_ref)
    ).one_or_none()


def _owner_for(session: Session, unit_id: str, owner_id: str | None) -> str | None:
    """The paying owner: the one named (who must hold the unit), else the unit's sole owner."""
    holders = session.scalars(select(Ownership.owner_id).where(Ownership.unit_id == unit_id)).all()
    if owner_id is None:
        return holders[0] if len(holders) == 1 else None
    if session.scalars(select(Owner.id).where(Owner.id == owner_id)).one_or_none() is None:
        raise Problem("validation-error", f"owner_id: no owner {owner_id}")
    if owner_id not in holders:
        raise Problem("validation-error", f"owner_id: owner {owner_id} does not hold the unit")
    return owner_id


def create_bill(
    *, session: Session, bill_in: BillIn, actor: str, today: date | None = None
) -> Bill:
    """Issue a bill to a unit; a second bill with the same issuer and external reference
    is refused (409, naming the first) - see :func:`import_bill` for the lenient form."""
    if bill_in.external_ref is not None:
        existing = find_by_external_ref(
            session=session, issuer=bill_in.issuer, external_ref=bill_in.external_ref
        )
        if existing is not None:
            raise Conflict(
                f"{bill_in.issuer} bill {bill_in.external_ref} exists already",
                bill_id=existing.id,
            )
    try:
        unit = get_unit(session=session, unit_id=bill_in.unit_id)
    except Problem as exc:
        raise Problem("validation-error", f"unit_id: no unit {bill_in.unit_id}") from exc
    today = today or _today()
    bill = Bill(
        estate_id=unit.estate_id,
        unit_id=unit.id,
        owner_id=_owner_for(session, unit.id, bill_in.owner_id),
        kind=bill_in.kind,
        period=bill_in.period,
        amount_fen=bill_in.amount_fen,
        paid_fen=0,
        due_date=bill_in.due_date,
        status="overdue" if bill_in.due_date < today else "unpaid",
        issuer=bill_in.issuer,
        external_ref=bill_in.external_ref,
        description=bill_in.description,
    )
    session.add(bill)
    flush_or_conflict(session, f"{bill_in.issuer} bill {bill_in.external_ref} exists already")
    if bill_in.paid_externally:
        _pay(
            session,
            bill,
            BillPaymentIn(
                amount_fen=bill.amount_fen,
                method="external" if bill.issuer != PLATFORM else "other",
                reference=f"{bill.issuer}:{bill.external_ref}" if bill.external_ref else None,
            ),
            actor,
        )
    return bill


def import_bill(*, session: Session, bill_in: BillIn, actor: str) -> tuple[Bill, bool]:
    """The bill ``bill_in`` describes, created unless its issuer's reference is known:
    ``(bill, created)``. Importing the same external bill again never bills twice."""
    if bill_in.external_ref is not None:
        existing = find_by_external_ref(
            session=session, issuer=bill_in.issuer, external_ref=bill_in.external_ref
        )
        if existing is not None:
            return existing, False
    return create_bill(session=session, bill_in=bill_in, actor=actor), True


def _pay(session: Session, bill: Bill, payment_in: BillPaymentIn, actor: str) -> BillPayment:
    if bill.status not in OPEN_STATUSES:
        raise Conflict(f"a bill that is {bill.status} takes no payment")
    outstanding = bill.amount_fen - bill.paid_fen
    if payment_in.amount_fen > outstanding:
        raise Conflict(
            f"payment of {payment_in.amount_fen} fen exceeds the {outstanding} fen outstanding",
            outstanding_fen=outstanding,
        )
    if payment_in.reference is not None:
        taken = session.scalars(
            select(BillPayment.id).where(
                BillPayment.bill_id == bill.id, BillPayment.reference == payment_in.reference
            )
        ).first()
        if taken is not None:
            raise Conflict(f"payment {payment_in.reference} is recorded already", payment_id=taken)
    now = utcnow()
    bill.payment_count = (bill.payment_count or 0) + 1
    payment = BillPayment(
        bill_id=bill.id,
        seq=bill.payment_count,
        amount_fen=payment_in.amount_fen,
        method=payment_in.method,
        reference=payment_in.reference,
        paid_at=payment_in.paid_at or now,
        actor=actor,
        recorded_at=now,
    )
    session.add(payment)
    bill.paid_fen += payment_in.amount_fen
    if bill.paid_fen == bill.amount_fen:
        bill.status = "paid"
        bill.paid_at = payment.paid_at
    flush_or_conflict(session, f"payment {payment_in.reference} is recorded already")
    return payment


def record_payment(
    *, session: Session, bill_id: str, payment_in: BillPaymentIn, actor: str
) -> BillPayment:
    """Record a payment (in full or in part); the bill is paid once nothing is outstanding.
    More than is outstanding, a payment to a paid or cancelled bill, or a reference
    recorded before is refused (409): a retried payment is never counted twice."""
    return _pay(session, _locked(session, bill_id), payment_in, actor)


def pay_for_period(
    *,
    session: Session,
    unit_id: str,
    kind: str,
    period: str,
    payment_in: BillPaymentIn,
    actor: str,
) -> tuple[BillPayment, bool]:
    """Record a payment against the unit's open ``kind`` bill of ``period`` - how a payment
    made elsewhere (a provident-fund transfer) arrives knowing the house, not the bill.
    ``(payment, recorded)``: a payment whose reference the unit's bills hold already is
    found, not recorded again. No such open bill is a :class:`LookupError`."""
    if payment_in.reference is not None:
        known = session.scalars(
            select(BillPayment)
            .join(Bill, Bill.id == BillPayment.bill_id)
            .where(Bill.unit_id == unit_id, BillPayment.reference == payment_in.reference)
        ).first()
        if known is not None:
            return known, False
    found = session.scalars(
        select(Bill.id).where(
            Bill.unit_id == unit_id,
            Bill.kind == kind,
            Bill.period == period,
            Bill.status.in_(OPEN_STATUSES),
        )
    ).all()
    if len(found) != 1:
        what = "no" if not found else f"{len(found)}"
        raise LookupError(f"{what} open {kind} bill of {period} for unit {unit_id}")
    return record_payment(
        session=session, bill_id=found[0], payment_in=payment_in, actor=actor
    ), True


def cancel_bill(*, session: Session, bill_id: str, cancel_in: BillCancelIn) -> Bill:
    """Cancel a bill issued in error (作废); one with payments must be refunded first."""
    bill = _locked(session, bill_id)
    if bill.status not in OPEN_STATUSES:
        raise Conflict(f"a bill that is {bill.status} cannot be cancelled")
    if bill.paid_fen:
        raise Conflict("a bill with payments cannot be cancelled")
    bill.status = "cancelled"
    bill.cancelled_at = utcnow()
    bill.cancel_reason = cancel_in.reason
    session.flush()
    return bill


def mark_overdue(*, session: Session, today: date | None = None) -> int:
    """Mark every unpaid bill past its due date overdue (逾期); returns how many."""
    result = session.execute(
        update(Bill)
        .where(Bill.status == "unpaid", Bill.due_date < (today or _today()))
        .values(status="overdue")
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def bills_query(
    *,
    estate_id: str | None = None,
    unit_id: str | None = None,
    owner_id: str | None = None,
    kind: str | None = None,
    status: str | None = None,
    period: str | None = None,
    issuer: str | None = None,
) -> Select[tuple[Bill]]:
    stmt = select(Bill)
    for column, value in (
        (Bill.estate_id, estate_id),
        (Bill.unit_id, unit_id),
        (Bill.owner_id, owner_id),
        (Bill.kind, kind),
        (Bill.status, status),
        (Bill.period, period),
        (Bill.issuer, issuer),
    ):
        if value:
            stmt = stmt.where(column == value)
    return stmt


def payments_query(*, bill_id: str) -> Select[tuple[BillPayment]]:
    return select(BillPayment).where(BillPayment.bill_id == bill_id)
