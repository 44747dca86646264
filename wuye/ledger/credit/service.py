"""Credit ratings' use cases over a session: record events, compute a month's scores,
publish them to the ledger, verify them, and record regulators' adjustments.

Months are calendar months in China Standard Time (UTC+08:00, no daylight saving):
``2026-10`` runs from 2026-09-30T16:00:00Z up to 2026-10-31T16:00:00Z. What each
subject's inputs hold for a month, and how they are serialised, is in
:func:`collect_inputs` and :mod:`wuye.ledger.credit.scoring`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from eth_account import Account
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from wuye.crypto import sm3_hash
from wuye.federation.models import Tenant, TenantKind, TenantStatus
from wuye.ledger.credit import scoring
from wuye.ledger.credit.chain import KINDS, CreditLedger, OnChainScore, subject_ref
from wuye.ledger.credit.models import (
    AdjustmentIn,
    AdjustmentOut,
    Complaint,
    ComplaintIn,
    ComplaintResolutionIn,
    CreditAdjustment,
    CreditScore,
    ProfileOut,
    PublishOut,
    RatingIn,
    RegulatorAccount,
    RegulatorAction,
    RegulatorActionIn,
    SatisfactionRating,
    ScoreOut,
    check_period,
)
from wuye.platform.db import utcnow
from wuye.platform.estates.models import Estate
from wuye.platform.pii import PersonalDataCipher
from wuye.platform.problems import Problem
from wuye.platform.staff.models import Staff
from wuye.platform.workorders.models import WorkOrder

CHINA_TIME = timezone(timedelta(hours=8))
RATED_KINDS = (TenantKind.HOST, TenantKind.MEMBER)
KEY_FIELD = "credit.regulator_key"


# --- time ------------------------------------------------------------------------


def month_bounds(period: str) -> tuple[datetime, datetime]:
    """The month's [start, end) in UTC, months being China Standard Time months."""
    check_period(period)
    year, month = (int(p) for p in period.split("-"))
    start = datetime(year, month, 1, tzinfo=CHINA_TIME)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=CHINA_TIME)
    return start.astimezone(UTC), end.astimezone(UTC)


def period_of(moment: datetime) -> str:
    return _utc(moment).astimezone(CHINA_TIME).strftime("%Y-%m")


def previous_periods(last: str, count: int) -> list[str]:
    """``count`` months ending with ``last``, oldest first."""
    year, month = (int(p) for p in check_period(last).split("-"))
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out[::-1]


def _utc(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they are UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def stamp(moment: datetime | None) -> str | None:
    """The canonical time: UTC, whole seconds, ``YYYY-MM-DDTHH:MM:SSZ``."""
    return None if moment is None else _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- recording events ------------------------------------------------------------


def _check_refs(
    session: Session, *, estate_id: str, staff_id: str | None, work_order_id: str | None
):
    # session.get bypasses the tenant criteria for identity-map hits; select does not.
    for model, row_id, what in (
        (Estate, estate_id, "estate"),
        (Staff, staff_id, "staff"),
        (WorkOrder, work_order_id, "work order"),
    ):
        if (
            row_id is not None
            and session.scalar(select(model.id).where(model.id == row_id)) is None
        ):
            raise Problem("not-found", f"{what} {row_id} not found")


def create_complaint(*, session: Session, complaint_in: ComplaintIn) -> Complaint:
    _check_refs(
        session,
        estate_id=complaint_in.estate_id,
        staff_id=complaint_in.staff_id,
        work_order_id=complaint_in.work_order_id,
    )
    data = complaint_in.model_dump()
    data["received_at"] = data["received_at"] or utcnow()
    complaint = Complaint(**data)
    session.add(complaint)
    session.flush()
    return complaint


def get_complaint(*, session: Session, complaint_id: str) -> Complaint:
    complaint = session.scalar(select(Complaint).where(Complaint.id == complaint_id))
    if complaint is None:
        raise Problem("not-found", f"complaint {complaint_id} not found")
    return complaint


def resolve_complaint(
    *, session: Session, complaint_id: str, resolution_in: ComplaintResolutionIn
) -> Complaint:
    complaint = get_complaint(session=session, complaint_id=complaint_id)
    if complaint.resolved_at is not None:
        raise Problem("conflict", "complaint already resolved / 投诉已办结")
    resolved_at = resolution_in.resolved_at or utcnow()
    if _utc(resolved_at) < _utc(complaint.received_at):
        raise Problem("validation-error", "resolved before it was received")
    complaint.resolved_at = resolved_at
    complaint.unfounded = resolution_in.unfounded
    complaint.resident_accepted = resolution_in.resident_accepted
    complaint.resolution = resolution_in.resolution
    session.flush()
    return complaint


def complaints_query(*, estate_id: str | None = None, staff_id: str | None = None) -> Select:
    stmt = select(Complaint)
    if estate_id:
        stmt = stmt.where(Complaint.estate_id == estate_id)
    if staff_id:
        stmt = stmt.where(Complaint.staff_id == staff_id)
    return stmt


def create_rating(*, session: Session, rating_in: RatingIn) -> SatisfactionRating:
    _check_refs(
        session,
        estate_id=rating_in.estate_id,
        staff_id=rating_in.staff_id,
        work_order_id=rating_in.work_order_id,
    )
    data = rating_in.model_dump()
    data["rated_at"] = data["rated_at"] or utcnow()
    rating = SatisfactionRating(**data)
    session.add(rating)
    session.flush()
    return rating


def ratings_query(*, estate_id: str | None = None, staff_id: str | None = None) -> Select:
    stmt = select(SatisfactionRating)
    if estate_id:
        stmt = stmt.where(SatisfactionRating.estate_id == estate_id)
    if staff_id:
        stmt = stmt.where(SatisfactionRating.staff_id == staff_id)
    return stmt


def record_regulator_action(
    *, session: Session, regulator: str, action_in: RegulatorActionIn
) -> RegulatorAction:
    """A regulator's penalty or commendation; ``session`` has the host scope."""
    tenant = session.get(Tenant, action_in.tenant_id)
    if tenant is None or tenant.kind not in RATED_KINDS:
        raise Problem("not-found", f"firm {action_in.tenant_id} not found")
    if action_in.staff_id is not None:
        staff = session.get(Staff, action_in.staff_id)
        if staff is None or staff.tenant_id != tenant.id:
            raise Problem("not-found", f"staff {action_in.staff_id} not found in that firm")
    data = action_in.model_dump()
    data["decided_at"] = data["decided_at"] or utcnow()
    action = RegulatorAction(**data, regulator=regulator)
    session.add(action)
    session.flush()
    return action


def regulator_actions_query() -> Select:
    return select(RegulatorAction)


# --- inputs and computation --------------------------------------------------------


@dataclass(frozen=True)
class SubjectInputs:
    """One subject's canonical inputs for a month, with who it is."""

    tenant_id: str
    kind: str
    subject_id: str
    name: str
    document: dict[str, Any]

    @property
    def ref(self) -> bytes:
        return subject_ref(self.kind, self.subject_id)

    @property
    def data(self) -> bytes:
        return scoring.canonical_bytes(self.document)


def collect_inputs(*, session: Session, tenant_id: str, period: str) -> list[SubjectInputs]:
    """The month's inputs of a firm and of each of its staff with events in that month.

    * work orders (not cancelled) whose resolution was due in the month, by assignee;
    * complaints received in the month; satisfaction ratings given in the month;
    * regulators' actions decided in the month.
    A staff member's inputs are the subset naming them; the firm's are all of them.
    """
    start, end = month_bounds(period)
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        raise Problem("not-found", f"firm {tenant_id} not found")
    scoped = {"tenant_id": tenant_id}

    def rows(model: type, moment: Any, *extra: Any) -> list[Any]:
        stmt = select(model).filter_by(**scoped).where(moment >= start, moment < end, *extra)
        return list(session.scalars(stmt))

    orders = rows(WorkOrder, WorkOrder.resolve_due_at, WorkOrder.status != "cancelled")
    complaints = rows(Complaint, Complaint.received_at)
    ratings = rows(SatisfactionRating, SatisfactionRating.rated_at)
    actions = rows(RegulatorAction, RegulatorAction.decided_at)

    def order_record(o: WorkOrder) -> tuple[str | None, dict[str, Any]]:
        return o.assignee_id, {
            "id": o.id,
            "respond_due_at": stamp(o.respond_due_at),
            "assigned_at": stamp(o.assigned_at),
            "resolve_due_at": stamp(o.resolve_due_at),
            "resolved_at": stamp(o.resolved_at),
        }

    def complaint_record(c: Complaint) -> tuple[str | None, dict[str, Any]]:
        return c.staff_id, {
            "id": c.id,
            "received_at": stamp(c.received_at),
            "resolved_at": stamp(c.resolved_at),
            "unfounded": bool(c.unfounded),
            "resident_accepted": c.resident_accepted,
        }

    def rating_record(r: SatisfactionRating) -> tuple[str | None, dict[str, Any]]:
        return r.staff_id, {"id": r.id, "stars": int(r.stars)}

    def action_record(a: RegulatorAction) -> tuple[str | None, dict[str, Any]]:
        return a.staff_id, {"id": a.id, "kind": a.kind, "severity": int(a.severity)}

    lists: dict[str, list[tuple[str | None, dict[str, Any]]]] = {
        "work_orders": [order_record(o) for o in orders],
        "complaints": [complaint_record(c) for c in complaints],
        "ratings": [rating_record(r) for r in ratings],
        "regulator_actions": [action_record(a) for a in actions],
    }

    def document(kind: str, subject_id: str, staff_id: str | None) -> dict[str, Any]:
        chosen = {
            name: [rec for who, rec in records if staff_id is None or who == staff_id]
            for name, records in lists.items()
        }
        return scoring.canonical_inputs(
            period=period,
            subject_kind=kind,
            subject_id=subject_id,
            subject_ref=subject_ref(kind, subject_id).hex(),
            **chosen,
        )

    out = [
        SubjectInputs(tenant_id, "firm", tenant_id, tenant.name, document("firm", tenant_id, None))
    ]
    involved = sorted({who for records in lists.values() for who, _ in records if who})
    if involved:
        staff = session.scalars(select(Staff).filter_by(**scoped).where(Staff.id.in_(involved)))
        for member in sorted(staff, key=lambda s: s.id):
            out.append(
                SubjectInputs(
                    tenant_id,
                    "staff",
                    member.id,
                    member.name,
                    document("staff", member.id, member.id),
                )
            )
    return out


def rated_firms(session: Session) -> list[Tenant]:
    stmt = (
        select(Tenant)
        .where(Tenant.kind.in_(RATED_KINDS), Tenant.status == TenantStatus.ACTIVE)
        .order_by(Tenant.id)
    )
    return list(session.scalars(stmt))


def compute_period(
    *, session: Session, period: str, now: datetime | None = None
) -> list[CreditScore]:
    """Compute (or recompute) every rated subject's score for a finished month.

    ``session`` has the host scope. Published scores are final and left as they are;
    unpublished ones are replaced by a fresh computation.
    """
    _, end = month_bounds(period)
    if end > _utc(now or utcnow()):
        raise Problem("conflict", f"period {period} has not ended yet / 本月尚未结束")
    existing = {
        s.subject_ref: s
        for s in session.scalars(select(CreditScore).where(CreditScore.period == period))
    }
    result = []
    for tenant in rated_firms(session):
        for subject in collect_inputs(session=session, tenant_id=tenant.id, period=period):
            ref = subject.ref.hex()
            row = existing.get(ref)
            if row is not None and row.published_at is not None:
                result.append(row)
                continue
            data = subject.data
            breakdown = scoring.score(subject.document)
            if row is None:
                row = CreditScore(period=period, subject_ref=ref, tenant_id=subject.tenant_id)
                session.add(row)
            row.subject_kind = subject.kind
            row.subject_id = subject.subject_id
            row.subject_name = subject.name
            row.score = breakdown.score
            row.inputs = data.decode()
            row.inputs_digest = sm3_hash(data).hex()
            result.append(row)
    session.flush()
    return result


def publish_period(
    *,
    session: Session,
    ledger: CreditLedger,
    period: str,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> PublishOut:
    """Compute a finished month and publish its unpublished scores to the ledger in batches.

    Idempotent: a score already on chain with the same digest is only marked published;
    one on chain with another digest is a conflict (the inputs changed after publishing).
    """
    say = progress or (lambda _line: None)
    rows = compute_period(session=session, period=period, now=now)
    pending = [r for r in rows if r.published_at is None]
    on_chain = ledger.scores_of(period) if pending else {}
    to_send: list[CreditScore] = []
    for row in pending:
        chain = on_chain.get(row.subject_ref)
        if chain is None:
            to_send.append(row)
            continue
        if chain.inputs_digest != row.inputs_digest or chain.score != row.score:
            raise Problem(
                "conflict",
                f"{period} {row.subject_kind} {row.subject_id}: the ledger already holds "
                f"score {chain.score} digest {chain.inputs_digest[:16]}..., not {row.score}",
            )
        _mark(row, chain.batch_id, chain.tx_hash, chain.block_number)
    entries = [
        (
            bytes.fromhex(r.subject_ref),
            KINDS[r.subject_kind],
            r.score,
            bytes.fromhex(r.inputs_digest),
        )
        for r in to_send
    ]
    batches = ledger.publish(period, entries, scoring.MODEL_VERSION) if entries else []
    by_ref = {r.subject_ref: r for r in to_send}
    for batch_id, tx_hash, block, refs in batches:
        say(f"{period}: batch {batch_id}, {len(refs)} scores, tx {tx_hash}")
        for ref in refs:
            _mark(by_ref[ref.hex()], batch_id, tx_hash, block)
    session.flush()
    return PublishOut(
        period=period,
        computed=len(rows),
        published=len(to_send),
        batches=len(batches),
        tx_hashes=[b[1] for b in batches],
    )


def _mark(row: CreditScore, batch_id: int, tx_hash: str, block: int) -> None:
    row.batch_id = batch_id
    row.tx_hash = tx_hash
    row.block_number = block
    row.published_at = utcnow()


# --- verification -------------------------------------------------------------------


@dataclass(frozen=True)
class StoredScore:
    """A published score as its holder keeps it: who, the score, the inputs verbatim."""

    subject_ref: str
    label: str
    score: int
    inputs: bytes


def verify_records(records: list[StoredScore], chain: dict[str, OnChainScore]) -> list[str]:
    """Recompute each score from its inputs and compare digest and score with the ledger's.

    Returns the mismatches, one line each naming the subject; empty means verified.
    """
    problems: list[str] = []
    for record in sorted(records, key=lambda r: r.subject_ref):
        who = f"{record.label} ({record.subject_ref[:16]})"
        published = chain.get(record.subject_ref)
        if published is None:
            problems.append(f"{who}: not on the ledger")
            continue
        digest = sm3_hash(record.inputs).hex()
        if digest != published.inputs_digest:
            problems.append(
                f"{who}: inputs digest {digest[:16]}... differs from the ledger's "
                f"{published.inputs_digest[:16]}..."
            )
            continue
        try:
            document = json.loads(record.inputs)
            if scoring.canonical_bytes(document) != record.inputs:
                problems.append(f"{who}: inputs are not in canonical form")
                continue
            recomputed = scoring.score(document).score
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(f"{who}: inputs do not score: {exc}")
            continue
        if recomputed != published.score:
            problems.append(f"{who}: recomputed score {recomputed} != ledger's {published.score}")
        elif record.score != published.score:
            problems.append(f"{who}: stored score {record.score} != ledger's {published.score}")
    for ref in sorted(set(chain) - {r.subject_ref for r in records}):
        problems.append(f"subject {ref[:16]}: on the ledger but its inputs are missing")
    return problems


def verify_period(*, session: Session, ledger: CreditLedger, period: str) -> list[str]:
    """:func:`verify_records` over the month's scores stored in this database."""
    check_period(period)
    rows = session.scalars(
        select(CreditScore).where(
            CreditScore.period == period, CreditScore.published_at.is_not(None)
        )
    )
    records = [
        StoredScore(
            subject_ref=r.subject_ref,
            label=f"{r.subject_kind} {r.subject_name or r.subject_id}",
            score=r.score,
            inputs=r.inputs.encode(),
        )
        for r in rows
    ]
    return verify_records(records, ledger.scores_of(period))


# --- regulators' adjustments ---------------------------------------------------------


def regulator_key(
    *, session: Session, cipher: PersonalDataCipher, ledger: CreditLedger, regulator: str
) -> str:
    """The regulator's ledger key, created (and granted ROLE_REGULATOR) on first use."""
    account = session.scalar(
        select(RegulatorAccount).where(RegulatorAccount.regulator == regulator)
    )
    if account is None:
        fresh = Account.create()
        key = fresh.key.hex()
        account = RegulatorAccount(
            regulator=regulator,
            address=fresh.address,
            key_sealed=cipher.encrypt(key, field=KEY_FIELD),
        )
        session.add(account)
        session.flush()
    else:
        key = cipher.decrypt(account.key_sealed, field=KEY_FIELD)
    try:
        ledger.grant_regulator(account.address)
    except PermissionError as exc:
        raise Problem("forbidden", str(exc)) from exc
    return key


def adjust(
    *,
    session: Session,
    ledger: CreditLedger,
    cipher: PersonalDataCipher,
    regulator: str,
    adjustment_in: AdjustmentIn,
) -> CreditAdjustment:
    """Record a regulator's adjustment: a transaction from the regulator's own account
    carrying the reason's SM3, and the reason text here. ``session`` has the host scope."""
    score = session.scalar(
        select(CreditScore).where(
            CreditScore.period == adjustment_in.period,
            CreditScore.subject_ref == adjustment_in.subject_ref,
            CreditScore.published_at.is_not(None),
        )
    )
    if score is None:
        raise Problem("not-found", "no published score for that period and subject")
    key = regulator_key(session=session, cipher=cipher, ledger=ledger, regulator=regulator)
    adjustment_id, tx_hash, block = ledger.adjust(
        key,
        adjustment_in.period,
        bytes.fromhex(adjustment_in.subject_ref),
        adjustment_in.delta,
        adjustment_in.reason,
    )
    row = CreditAdjustment(
        tenant_id=score.tenant_id,
        period=adjustment_in.period,
        subject_ref=adjustment_in.subject_ref,
        delta=adjustment_in.delta,
        reason=adjustment_in.reason,
        reason_digest=sm3_hash(adjustment_in.reason.encode()).hex(),
        regulator=regulator,
        regulator_address=Account.from_key(key).address,
        adjustment_id=adjustment_id,
        tx_hash=tx_hash,
        block_number=block,
    )
    session.add(row)
    session.flush()
    return row


def adjustments_query(*, period: str | None = None, subject_ref: str | None = None) -> Select:
    stmt = select(CreditAdjustment)
    if period:
        stmt = stmt.where(CreditAdjustment.period == period)
    if subject_ref:
        stmt = stmt.where(CreditAdjustment.subject_ref == subject_ref)
    return stmt


# --- reading scores --------------------------------------------------------------------


def _totals(session: Session, refs: list[str]) -> dict[tuple[str, str], int]:
    if not refs:
        return {}
    stmt = (
        select(
            CreditAdjustment.period, CreditAdjustment.subject_ref, func.sum(CreditAdjustment.delta)
        )
        .where(CreditAdjustment.subject_ref.in_(refs))
        .group_by(CreditAdjustment.period, CreditAdjustment.subject_ref)
    )
    return {(p, r): int(total) for p, r, total in session.execute(stmt)}


def score_out(row: CreditScore, adjustments: int) -> ScoreOut:
    try:
        components = scoring.score(json.loads(row.inputs)).components
    except (ValueError, KeyError, TypeError):
        components = {}  # unreadable inputs: `wuye credit verify` names the subject
    effective = row.score + adjustments
    return ScoreOut(
        period=row.period,
        subject_ref=row.subject_ref,
        subject_kind=row.subject_kind,
        subject_id=row.subject_id,
        subject_name=row.subject_name,
        computed=row.score,
        adjustments=adjustments,
        effective=effective,
        grade=scoring.grade(effective),
        components=components,
        inputs_digest=row.inputs_digest,
        tx_hash=row.tx_hash,
        block_number=row.block_number,
        inputs_url=f"/api/v1/credit/public/scores/{row.period}/{row.subject_ref}/inputs",
    )


def published_scores(
    *,
    session: Session,
    period: str | None = None,
    tenant_id: str | None = None,
    kind: str | None = None,
    subject_id: str | None = None,
) -> list[ScoreOut]:
    stmt = select(CreditScore).where(CreditScore.published_at.is_not(None))
    if period:
        stmt = stmt.where(CreditScore.period == check_period(period))
    if tenant_id:
        stmt = stmt.where(CreditScore.tenant_id == tenant_id)
    if kind:
        stmt = stmt.where(CreditScore.subject_kind == kind)
    if subject_id:
        stmt = stmt.where(CreditScore.subject_id == subject_id)
    rows = list(
        session.scalars(
            stmt.order_by(CreditScore.period, CreditScore.subject_kind, CreditScore.subject_name)
        )
    )
    totals = _totals(session, sorted({r.subject_ref for r in rows}))
    return [score_out(r, totals.get((r.period, r.subject_ref), 0)) for r in rows]


def profile(*, session: Session, tenant_id: str) -> ProfileOut:
    """A firm's credit profile: score history by month, adjustments, staff's latest scores."""
    tenant = session.get(Tenant, tenant_id)
    if tenant is None or tenant.kind not in RATED_KINDS:
        raise Problem("not-found", f"firm {tenant_id} not found")
    history = published_scores(
        session=session, tenant_id=tenant_id, kind="firm", subject_id=tenant_id
    )
    staff_scores = published_scores(session=session, tenant_id=tenant_id, kind="staff")
    latest: dict[str, ScoreOut] = {}
    for s in staff_scores:
        latest[s.subject_id] = s  # ordered by period: the last one wins
    adjustments = list(
        session.scalars(
            adjustments_query()
            .where(CreditAdjustment.tenant_id == tenant_id)
            .order_by(CreditAdjustment.period, CreditAdjustment.adjustment_id)
        )
    )
    return ProfileOut(
        tenant_id=tenant.id,
        name=tenant.name,
        history=history,
        adjustments=[AdjustmentOut.model_validate(a) for a in adjustments],
        staff=sorted(latest.values(), key=lambda s: (s.subject_name, s.subject_id)),
    )


def firms_overview(*, session: Session) -> list[dict[str, Any]]:
    """Every rated firm with its latest published score, if any."""
    firms = rated_firms(session)
    latest: dict[str, ScoreOut] = {}
    for s in published_scores(session=session, kind="firm"):
        latest[s.subject_id] = s
    return [{"tenant_id": t.id, "name": t.name, "latest": latest.get(t.id)} for t in firms]


def inputs_of(*, session: Session, period: str, subject_ref: str) -> bytes:
    """The published canonical inputs document, byte for byte."""
    row = session.scalar(
        select(CreditScore).where(
            CreditScore.period == check_period(period),
            CreditScore.subject_ref == subject_ref,
            CreditScore.published_at.is_not(None),
        )
    )
    if row is None:
        raise Problem("not-found", f"no published score for {period} {subject_ref}")
    return row.inputs.encode()


def subject_by_ref(*, session: Session, ref: bytes | str) -> dict[str, str] | None:
    """Who a ledger subject ref is (for decoding events): kind, id, name, tenant."""
    ref_hex = ref.hex() if isinstance(ref, bytes) else ref.removeprefix("0x").lower()
    row = session.scalar(select(CreditScore).where(CreditScore.subject_ref == ref_hex).limit(1))
    if row is None:
        return None
    return {
        "kind": row.subject_kind,
        "id": row.subject_id,
        "name": row.subject_name,
        "tenant_id": row.tenant_id,
    }
