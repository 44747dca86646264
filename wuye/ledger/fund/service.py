"""Maintenance-fund use cases (专项维修资金): plain functions over a tenant-scoped session.

Every movement is first a transaction on the ledger (MaintenanceFund, through
:class:`~wuye.ledger.fund.chain.FundLedger`); the database then mirrors it with
the transaction's hash and block. Credits go in batches of up to 256 units per
transaction. Amounts are integer fen; every split is exact (largest remainder).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from wuye.crypto import sm3_hash
from wuye.ledger.fund.apportion import area_hundredths, deposit_for_area, largest_remainder
from wuye.ledger.fund.chain import MAX_UNITS, FundLedger, estate_ref, project_ref, text_ref
from wuye.ledger.fund.models import (
    ENTRY_LABELS,
    CityRateIn,
    CommonPartIn,
    CommonPartRecord,
    EmergencyIn,
    EntryKind,
    FundAccount,
    FundCityRate,
    FundEntry,
    FundMovement,
    FundProject,
    FundProjectShare,
    PaymentIn,
    ProjectIn,
    ProjectStatus,
    VoteIn,
)
from wuye.ledger.fund.rates import DEFAULT_CITY_RATES, CityRate
from wuye.ledger.votes.service import unit_ref
from wuye.platform.crud import get_or_404
from wuye.platform.estates.models import Estate, Unit
from wuye.platform.estates.service import get_estate
from wuye.platform.problems import Conflict, NotFound, Problem
from wuye.platform.security import Principal

__all__ = [
    "allocate_interest",
    "authorise_by_vote",
    "city_rate",
    "declare_emergency",
    "open_accounts",
    "pay_stage",
    "propose_project",
    "record_common_part",
    "request_vote",
    "top_up",
    "transfer_common_income",
]


# --- city rates ------------------------------------------------------------


def city_rate(*, session: Session, city: str) -> CityRate:
    """The tenant's configured rate for ``city``, else the built-in one, else a 422."""
    row = session.scalars(select(FundCityRate).where(FundCityRate.city == city)).one_or_none()
    if row is not None:
        return CityRate(city, row.deposit_fen_per_m2, row.threshold_bp, "tenant")
    if city in DEFAULT_CITY_RATES:
        return DEFAULT_CITY_RATES[city]
    raise Problem(
        "validation-error",
        f"city: no maintenance-fund rate configured for {city!r} (PUT /api/v1/fund/city-rates)",
    )


def list_city_rates(*, session: Session) -> list[CityRate]:
    rates = dict(DEFAULT_CITY_RATES)
    for row in session.scalars(select(FundCityRate)):
        rates[row.city] = CityRate(row.city, row.deposit_fen_per_m2, row.threshold_bp, "tenant")
    return [rates[c] for c in sorted(rates)]


def set_city_rate(*, session: Session, rate_in: CityRateIn) -> CityRate:
    city = rate_in.city.strip()
    if not city or len(city) > 64:
        raise Problem("validation-error", "city: 1 to 64 characters")
    row = session.scalars(select(FundCityRate).where(FundCityRate.city == city)).one_or_none()
    if row is None:
        row = FundCityRate(city=city, deposit_fen_per_m2=0, threshold_bp=0)
        session.add(row)
    row.deposit_fen_per_m2 = rate_in.deposit_fen_per_m2
    row.threshold_bp = rate_in.threshold_bp
    session.flush()
    return CityRate(city, row.deposit_fen_per_m2, row.threshold_bp, "tenant")


# --- accounts and credits --------------------------------------------------


def accounts_of(session: Session, estate_id: str) -> list[FundAccount]:
    """The estate's unit accounts, in a fixed order (by unit id)."""
    return list(
        session.scalars(
            select(FundAccount)
            .where(FundAccount.estate_id == estate_id)
            .order_by(FundAccount.unit_id)
        )
    )


def get_account(*, session: Session, unit_id: str) -> FundAccount:
    account = session.scalars(
        select(FundAccount).where(FundAccount.unit_id == unit_id)
    ).one_or_none()
    if account is None:
        get_or_404(session, Unit, unit_id, what="unit")
        raise NotFound("fund account of unit", unit_id)
    return account


def check_unit_visible(*, session: Session, principal: Principal, unit_id: str) -> None:
    """An owner sees only the accounts of units they hold; staff see their tenant's."""
    if principal.role != "owner":
        return
    from wuye.platform.owners.models import Ownership

    owner_id = principal.subject.removeprefix("owner:")
    holds = session.scalars(
        select(Ownership.id).where(Ownership.unit_id == unit_id, Ownership.owner_id == owner_id)
    ).first()
    if holds is None:
        raise NotFound("fund account of unit", unit_id)


def _chunks(items: Sequence[Any], size: int = MAX_UNITS) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _credit(
    session: Session,
    ledger: FundLedger,
    estate_id: str,
    kind: EntryKind,
    period: int,
    items: Sequence[tuple[FundAccount, int]],
    memo: str,
) -> list[FundEntry]:
    """Credit accounts on the ledger in batches of up to 256, then mirror each batch."""
    items = [(a, amount) for a, amount in items if amount > 0]
    entries = []
    estate = estate_ref(estate_id)
    for n, chunk in enumerate(_chunks(items)):
        text = f"{estate_id}:{kind.value}:{period}:{memo}:{n}"
        sent = ledger.deposit_batch(
            estate,
            [bytes.fromhex(a.unit_ref) for a, _ in chunk],
            [amount for _, amount in chunk],
            kind=kind.chain_kind,
            period=period,
            reference=text_ref(text),
        )
        entry = FundEntry(
            estate_id=estate_id,
            kind=kind,
            period=period,
            amount_fen=sum(amount for _, amount in chunk),
            units=len(chunk),
            estate_balance_fen=sent.estate_balance,
            memo=memo,
            chain_id=sent.chain_id,
            tx_hash=sent.tx_hash,
            block_number=sent.block_number,
        )
        session.add(entry)
        session.flush()
        for seq, (account, amount) in enumerate(chunk):
            account.balance_fen += amount
            account.last_tx_hash, account.last_block = sent.tx_hash, sent.block_number
            session.add(
                FundMovement(
                    entry_id=entry.id,
                    estate_id=estate_id,
                    unit_id=account.unit_id,
                    amount_fen=amount,
                    balance_after_fen=account.balance_fen,
                    period=period,
                    seq=seq,
                )
            )
        entries.append(entry)
    session.flush()
    return entries


def open_accounts(
    *,
    session: Session,
    ledger: FundLedger,
    estate_id: str,
    period: int,
    unit_ids: Sequence[str] | None = None,
) -> list[FundEntry]:
    """First deposits at purchase (首次交存): area × the city's rate, one account per unit.

    ``unit_ids`` limits it to the units just sold; by default every unit of the
    estate without an account yet.
    """
    estate = get_estate(session=session, estate_id=estate_id)
    rate = city_rate(session=session, city=estate.city)
    stmt = select(Unit).where(Unit.estate_id == estate.id).order_by(Unit.id)
    if unit_ids is not None:
        stmt = stmt.where(Unit.id.in_(list(unit_ids)))
    units = list(session.scalars(stmt))
    if unit_ids is not None and len(units) != len(set(unit_ids)):
        missing = sorted(set(unit_ids) - {u.id for u in units})
        raise NotFound("unit of this estate", ", ".join(missing))
    opened = {
        a.unit_id
        for a in session.scalars(select(FundAccount).where(FundAccount.estate_id == estate.id))
    }
    if unit_ids is not None and opened.intersection(unit_ids):
        raise Conflict(
            "a unit already has a fund account: " + ", ".join(sorted(opened & set(unit_ids)))
        )
    items = []
    for unit in units:
        if unit.id in opened:
            continue
        first = deposit_for_area(unit.floor_area_m2, rate.deposit_fen_per_m2)
        account = FundAccount(
            estate_id=estate.id,
            unit_id=unit.id,
            unit_ref=unit_ref(unit.id).hex(),
            area_hundredths=area_hundredths(unit.floor_area_m2),
            first_deposit_fen=first,
            balance_fen=0,
        )
        session.add(account)
        items.append((account, first))
    session.flush()
    return _credit(session, ledger, estate.id, EntryKind.PURCHASE, period, items, "首次交存")


def top_up(*, session: Session, ledger: FundLedger, estate_id: str, period: int) -> list[FundEntry]:
    """Top-ups (续筹) for every unit whose balance fell below the city's threshold,
    back to its first deposit."""
    estate = get_estate(session=session, estate_id=estate_id)
    rate = city_rate(session=session, city=estate.city)
    items = [
        (a, a.first_deposit_fen - a.balance_fen)
        for a in accounts_of(session, estate.id)
        if rate.needs_top_up(a.balance_fen, a.first_deposit_fen)
    ]
    return _credit(session, ledger, estate.id, EntryKind.TOP_UP, period, items, "续筹")


def allocate_interest(
    *, session: Session, ledger: FundLedger, estate_id: str, period: int, amount_fen: int
) -> list[FundEntry]:
    """Interest (增值收益) allocated to the units pro rata by balance, to the fen."""
    estate = get_estate(session=session, estate_id=estate_id)
    accounts = accounts_of(session, estate.id)
    weights = [a.balance_fen for a in accounts]
    if not any(weights):
        raise Conflict("no unit has a balance to earn interest")
    shares = largest_remainder(amount_fen, weights)
    items = list(zip(accounts, shares, strict=True))
    return _credit(session, ledger, estate.id, EntryKind.INTEREST, period, items, "增值收益分配")


def record_common_part(
    *, session: Session, ledger: FundLedger, estate_id: str, common_in: CommonPartIn
) -> CommonPartRecord:
    """Income or expense of the common parts (parking, advertising, leasing) for a period."""
    return record_common_parts(
        session=session, ledger=ledger, estate_id=estate_id, records=[common_in]
    )[0]


def record_common_parts(
    *, session: Session, ledger: FundLedger, estate_id: str, records: Sequence[CommonPartIn]
) -> list[CommonPartRecord]:
    """Several common-part records at once (each its own ledger transaction)."""
    estate = get_estate(session=session, estate_id=estate_id)
    sent = ledger.record_common_many(
        estate_ref(estate.id),
        [
            (
                r.period,
                r.category.code,
                r.income,
                r.amount_fen,
                text_ref(f"{estate.id}:{r.period}:{r.category.value}:{r.description}"),
            )
            for r in records
        ],
    )
    rows = [
        CommonPartRecord(
            estate_id=estate.id,
            period=r.period,
            category=r.category,
            income=r.income,
            amount_fen=r.amount_fen,
            description=r.description,
            chain_id=s.chain_id,
            tx_hash=s.tx_hash,
            block_number=s.block_number,
        )
        for r, s in zip(records, sent, strict=True)
    ]
    session.add_all(rows)
    session.flush()
    return rows


def transfer_common_income(
    *, session: Session, ledger: FundLedger, estate_id: str, period: int, amount_fen: int
) -> list[FundEntry]:
    """Move common-part net income into the fund, credited to the units by area
    (the owners share common parts' income by their area, Civil Code art. 283)."""
    estate = get_estate(session=session, estate_id=estate_id)
    available = ledger.common_net_available(estate_ref(estate.id))
    if amount_fen > available:
        raise Conflict(
            f"only {available} fen of common-part net income is available to transfer",
            available_fen=available,
        )
    accounts = accounts_of(session, estate.id)
    if not accounts:
        raise Conflict("the estate has no fund accounts yet")
    shares = largest_remainder(amount_fen, [a.area_hundredths for a in accounts])
    items = list(zip(accounts, shares, strict=True))
    return _credit(
        session, ledger, estate.id, EntryKind.COMMON_INCOME, period, items, "共有部分收益转入"
    )


# --- repair projects -------------------------------------------------------


def get_project(*, session: Session, project_id: str) -> FundProject:
    return get_or_404(session, FundProject, project_id, what="repair project")


def shares_of(session: Session, project_id: str) -> list[FundProjectShare]:
    return list(
        session.scalars(
            select(FundProjectShare)
            .where(FundProjectShare.project_id == project_id)
            .order_by(FundProjectShare.unit_id)
        )
    )


def propose_project(
    *, session: Session, ledger: FundLedger, estate_id: str, project_in: ProjectIn
) -> FundProject:
    """A repair of a common part: its cost apportioned to the sharing units by area (分摊),
    and the project with every share put on the ledger."""
    estate = get_estate(session=session, estate_id=estate_id)
    wanted = sorted(set(project_in.unit_ids))
    accounts = list(
        session.scalars(
            select(FundAccount)
            .where(FundAccount.estate_id == estate.id, FundAccount.unit_id.in_(wanted))
            .order_by(FundAccount.unit_id)
        )
    )
    if len(accounts) != len(wanted):
        missing = sorted(set(wanted) - {a.unit_id for a in accounts})
        raise Problem(
            "validation-error", f"unit_ids: no fund account in this estate for {', '.join(missing)}"
        )
    shares = largest_remainder(project_in.budget_fen, [a.area_hundredths for a in accounts])
    if any(s == 0 for s in shares):
        raise Problem("validation-error", "budget_fen: too small to give every unit a share")
    project = FundProject(
        estate_id=estate.id,
        title=project_in.title,
        common_part=project_in.common_part,
        contractor=project_in.contractor,
        budget_fen=project_in.budget_fen,
        status=ProjectStatus.PROPOSED,
        chain_project_id=0,
        tx_hash="",
        block_number=0,
    )
    session.add(project)
    session.flush()
    sent = ledger.propose(estate_ref(estate.id), project_ref(project.id), project.budget_fen)
    project.chain_project_id = sent.chain_id
    project.tx_hash, project.block_number = sent.tx_hash, sent.block_number
    pairs = list(zip(accounts, shares, strict=True))
    for chunk in _chunks(pairs):
        ledger.add_shares(
            sent.chain_id, [bytes.fromhex(a.unit_ref) for a, _ in chunk], [s for _, s in chunk]
        )
    for account, share in pairs:
        session.add(
            FundProjectShare(
                project_id=project.id,
                unit_id=account.unit_id,
                area_hundredths=account.area_hundredths,
                share_fen=share,
            )
        )
    session.flush()
    return project


def request_vote(*, session: Session, project_id: str, vote_in: VoteIn) -> Any:
    """Create the owners' vote (matter: use of the maintenance fund, Civil Code art. 278 (5))
    that approves the project, or ratifies an emergency repair; it then runs through the
    votes API (trustees, open, ballots, close, decryption)."""
    from wuye.ledger.votes.civil_code import MatterType
    from wuye.ledger.votes.models import ElectionIn
    from wuye.ledger.votes.service import create_election

    project = get_project(session=session, project_id=project_id)
    if project.status not in (ProjectStatus.PROPOSED, ProjectStatus.EMERGENCY):
        raise Conflict(f"project is {project.status.value}; nothing to vote on")
    ratify = project.status is ProjectStatus.EMERGENCY
    title = ("追认应急维修：" if ratify else "使用维修资金：") + project.title
    description = (
        f"共有部分 {project.common_part}；施工单位 {project.contractor}；"
        f"预算 {project.budget_fen / 100:.2f} 元（{project.budget_fen} 分）；"
        f"账本项目号 {project.chain_project_id}；项目 {project.id}"
    )
    election = create_election(
        session=session,
        election_in=ElectionIn(
            estate_id=project.estate_id,
            title=title[:200],
            description=description,
            matter=MatterType.FUND_USE,
            spend_limit_fen=project.budget_fen,
            threshold=vote_in.threshold,
            trustees=vote_in.trustees,
            credential_endorsements=vote_in.credential_endorsements,
        ),
    )
    project.election_id = election.id
    if not ratify:
        project.status = ProjectStatus.VOTING
    session.flush()
    return election


def authorise_by_vote(*, session: Session, ledger: FundLedger, project_id: str) -> FundProject:
    """Record the decided vote's outcome: approve (or ratify) on the ledger, which checks
    ``Ballots.is_approved`` and the estate itself; a rejected vote rejects the project."""
    from wuye.ledger.votes.chain import ElectionRef
    from wuye.ledger.votes.models import ElectionStatus
    from wuye.ledger.votes.service import get_election

    project = get_project(session=session, project_id=project_id)
    if project.election_id is None:
        raise Conflict("no owners' vote was requested for this project")
    if project.status not in (ProjectStatus.VOTING, ProjectStatus.EMERGENCY):
        raise Conflict(f"project is {project.status.value}; nothing to authorise")
    election = get_election(session=session, election_id=project.election_id)
    if election.status is not ElectionStatus.DECIDED:
        raise Conflict(f"the vote is {election.status.value}, not decided yet")
    ballot_id = ElectionRef.parse(election.ledger_ref).ballot_id
    if not election.approved:
        if project.status is ProjectStatus.VOTING:
            project.status = ProjectStatus.REJECTED
            session.flush()
            return project
        raise Conflict("the owners did not ratify the emergency repair")
    if project.status is ProjectStatus.VOTING:
        sent = ledger.approve(project.chain_project_id, ballot_id)
        project.status = ProjectStatus.APPROVED
    else:
        sent = ledger.ratify(project.chain_project_id, ballot_id)
        project.status = ProjectStatus.RATIFIED
        project.ratified_tx_hash = sent.tx_hash
    project.ballot_id = ballot_id
    if not project.emergency:
        project.authorised_tx_hash = sent.tx_hash
    _complete_if_paid(project)
    session.flush()
    return project


def declare_emergency(
    *, session: Session, ledger: FundLedger, project_id: str, emergency_in: EmergencyIn
) -> FundProject:
    """An emergency repair (应急维修: a stopped elevator, a burst pipe …) under the city's
    emergency procedure: payable without a prior vote once its reason and the SM3 digests
    of its evidence are on the ledger; a later vote ratifies it."""
    project = get_project(session=session, project_id=project_id)
    if project.status is not ProjectStatus.PROPOSED:
        raise Conflict(f"project is {project.status.value}; only a proposed one can be urgent")
    reason_sm3 = sm3_hash(emergency_in.reason.encode())
    sent = ledger.declare_emergency(
        project.chain_project_id, reason_sm3, [bytes.fromhex(e.sm3) for e in emergency_in.evidence]
    )
    project.status = ProjectStatus.EMERGENCY
    project.emergency = True
    project.reason = emergency_in.reason
    project.reason_sm3 = reason_sm3.hex()
    project.evidence = json.dumps(
        [e.model_dump() for e in emergency_in.evidence], ensure_ascii=False
    )
    project.authorised_tx_hash = sent.tx_hash
    session.flush()
    return project


def _complete_if_paid(project: FundProject) -> None:
    """Paid in full and authorised by a vote (an emergency repair only once ratified)."""
    voted = project.status in (ProjectStatus.APPROVED, ProjectStatus.RATIFIED)
    if voted and project.paid_fen == project.budget_fen:
        project.status = ProjectStatus.COMPLETED


PAYABLE = (ProjectStatus.APPROVED, ProjectStatus.EMERGENCY, ProjectStatus.RATIFIED)


def pay_stage(
    *, session: Session, ledger: FundLedger, project_id: str, payment_in: PaymentIn
) -> list[FundEntry]:
    """A staged payment against an invoice: the stage's amount is split over the sharing
    units in proportion to what each still owes, so no unit ever pays past its share;
    the contract refuses more than the approved budget."""
    project = get_project(session=session, project_id=project_id)
    if project.status not in PAYABLE:
        raise Conflict(f"project is {project.status.value}; it is not authorised for payment")
    remaining = project.budget_fen - project.paid_fen
    if payment_in.amount_fen > remaining:
        raise Conflict(
            f"payment exceeds the approved amount: {remaining} fen remain",
            remaining_fen=remaining,
        )
    shares = shares_of(session, project.id)
    owed = [s.share_fen - s.paid_fen for s in shares]
    parts = largest_remainder(payment_in.amount_fen, owed)
    accounts = {
        a.unit_id: a
        for a in session.scalars(
            select(FundAccount).where(FundAccount.unit_id.in_([s.unit_id for s in shares]))
        )
    }
    short = [
        f"{s.unit_id} ({accounts[s.unit_id].balance_fen} < {p})"
        for s, p in zip(shares, parts, strict=True)
        if accounts[s.unit_id].balance_fen < p
    ]
    if short:
        raise Conflict("insufficient unit balance: " + ", ".join(short))
    stage = (
        session.scalar(select(func.max(FundEntry.stage)).where(FundEntry.project_id == project.id))
        or 0
    ) + 1
    items = [(s, p) for s, p in zip(shares, parts, strict=True) if p > 0]
    entries = []
    for chunk in _chunks(items):
        sent = ledger.pay(
            project.chain_project_id,
            stage=stage,
            period=payment_in.period,
            units=[bytes.fromhex(accounts[s.unit_id].unit_ref) for s, _ in chunk],
            amounts=[p for _, p in chunk],
            payee=payment_in.payee,
            invoice=bytes.fromhex(payment_in.invoice_sm3),
        )
        entry = FundEntry(
            estate_id=project.estate_id,
            kind=EntryKind.REPAIR_PAYMENT,
            period=payment_in.period,
            amount_fen=sum(p for _, p in chunk),
            units=len(chunk),
            estate_balance_fen=sent.estate_balance,
            memo=f"{project.title} 第{stage}期",
            chain_id=sent.chain_id,
            tx_hash=sent.tx_hash,
            block_number=sent.block_number,
            project_id=project.id,
            stage=stage,
            invoice_no=payment_in.invoice_no,
            invoice_sm3=payment_in.invoice_sm3,
            payee=payment_in.payee,
        )
        session.add(entry)
        session.flush()
        for seq, (share, part) in enumerate(chunk):
            account = accounts[share.unit_id]
            account.balance_fen -= part
            account.last_tx_hash, account.last_block = sent.tx_hash, sent.block_number
            share.paid_fen += part
            session.add(
                FundMovement(
                    entry_id=entry.id,
                    estate_id=project.estate_id,
                    unit_id=share.unit_id,
                    amount_fen=-part,
                    balance_after_fen=account.balance_fen,
                    period=payment_in.period,
                    seq=seq,
                )
            )
        entries.append(entry)
    project.paid_fen += payment_in.amount_fen
    _complete_if_paid(project)
    session.flush()
    return entries


# --- reading ---------------------------------------------------------------


def entries_query(
    *, estate_id: str, period: int | None = None, kind: EntryKind | None = None
) -> Select[Any]:
    stmt = select(FundEntry).where(FundEntry.estate_id == estate_id)
    if period is not None:
        stmt = stmt.where(FundEntry.period == period)
    if kind is not None:
        stmt = stmt.where(FundEntry.kind == kind)
    return stmt


def movements_of(*, session: Session, unit_id: str) -> list[dict[str, Any]]:
    """A unit's statement (分户账明细): every movement with its entry, oldest first."""
    rows = session.execute(
        select(FundMovement, FundEntry)
        .join(FundEntry, FundEntry.id == FundMovement.entry_id)
        .where(FundMovement.unit_id == unit_id)
        .order_by(FundEntry.block_number, FundMovement.seq)
    ).all()
    return [
        {
            "period": m.period,
            "kind": e.kind.value,
            "label": " / ".join(ENTRY_LABELS[e.kind]),
            "amount_fen": m.amount_fen,
            "balance_after_fen": m.balance_after_fen,
            "memo": e.memo,
            "tx_hash": e.tx_hash,
            "block_number": e.block_number,
        }
        for m, e in rows
    ]


@dataclass
class PeriodSummary:
    period: int
    inflow: dict[str, int]
    outflow_fen: int
    common_income_fen: int
    common_expense_fen: int
    closing_balance_fen: int


def estate_summary(*, session: Session, estate_id: str) -> dict[str, Any]:
    """The estate's fund at a glance: balance, accounts, flows by kind, projects."""
    estate = get_estate(session=session, estate_id=estate_id)
    balance, accounts = session.execute(
        select(
            func.coalesce(func.sum(FundAccount.balance_fen), 0), func.count(FundAccount.id)
        ).where(FundAccount.estate_id == estate.id)
    ).one()
    by_kind = dict(
        session.execute(
            select(FundEntry.kind, func.sum(FundEntry.amount_fen))
            .where(FundEntry.estate_id == estate.id)
            .group_by(FundEntry.kind)
        ).all()
    )
    common = session.execute(
        select(CommonPartRecord.income, func.sum(CommonPartRecord.amount_fen))
        .where(CommonPartRecord.estate_id == estate.id)
        .group_by(CommonPartRecord.income)
    ).all()
    common_by = {bool(k): int(v) for k, v in common}
    projects = session.scalars(
        select(FundProject)
        .where(FundProject.estate_id == estate.id)
        .order_by(FundProject.created_at)
    ).all()
    return {
        "estate_id": estate.id,
        "estate_name": estate.name,
        "city": estate.city,
        "estate_ref": estate_ref(estate.id).hex(),
        "balance_fen": int(balance),
        "accounts": int(accounts),
        "totals_fen": {k.value: int(by_kind.get(k, 0)) for k in EntryKind},
        "common_income_fen": common_by.get(True, 0),
        "common_expense_fen": common_by.get(False, 0),
        "projects": [
            {
                "id": p.id,
                "title": p.title,
                "status": p.status.value,
                "budget_fen": p.budget_fen,
                "paid_fen": p.paid_fen,
                "emergency": p.emergency,
            }
            for p in projects
        ],
    }


def monthly(*, session: Session, estate_id: str) -> list[PeriodSummary]:
    """Per period: inflows by kind, outflows, common-part income/expense, closing balance."""
    get_estate(session=session, estate_id=estate_id)
    rows = session.execute(
        select(FundEntry.period, FundEntry.kind, func.sum(FundEntry.amount_fen))
        .where(FundEntry.estate_id == estate_id)
        .group_by(FundEntry.period, FundEntry.kind)
    ).all()
    common = session.execute(
        select(
            CommonPartRecord.period, CommonPartRecord.income, func.sum(CommonPartRecord.amount_fen)
        )
        .where(CommonPartRecord.estate_id == estate_id)
        .group_by(CommonPartRecord.period, CommonPartRecord.income)
    ).all()
    periods = sorted({p for p, _, _ in rows} | {p for p, _, _ in common})
    out = []
    balance = 0
    for period in periods:
        inflow = {k.value: 0 for k in EntryKind if k.inflow}
        outflow = 0
        for p, kind, amount in rows:
            if p != period:
                continue
            if kind.inflow:
                inflow[kind.value] += int(amount)
            else:
                outflow += int(amount)
        balance += sum(inflow.values()) - outflow
        ci = sum(int(a) for p, inc, a in common if p == period and inc)
        ce = sum(int(a) for p, inc, a in common if p == period and not inc)
        out.append(PeriodSummary(period, inflow, outflow, ci, ce, balance))
    return out


def estate_of(session: Session, estate_id: str) -> Estate:
    return get_estate(session=session, estate_id=estate_id)
