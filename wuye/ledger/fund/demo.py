"""A year of maintenance-fund movements for the demo estate, on the running ledger.

:func:`seed_fund_demo` gives the host firm's demo estate (云栖花园, code YQ-01)
twelve months of fund history: first deposits as units are sold, common-part
income (parking, advertising, leasing) and expenses, monthly interest, a
transfer of the common parts' net income, an elevator overhaul approved by a
real owners' vote (trustees' key ceremony, encrypted ballots, homomorphic tally,
threshold decryption, result on the ledger) and paid in three stages against
invoices, an emergency repair of a burst pipe, and top-ups of the units that fell
below the city's threshold. It runs once: a second call finds the accounts and
does nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from web3 import Web3

from wuye.crypto import sm3_hash
from wuye.ledger.fund import service
from wuye.ledger.fund.chain import estate_ref
from wuye.ledger.fund.flows import ABSTAIN, AGREE, OPPOSE, run_project_vote
from wuye.ledger.fund.models import (
    CommonCategory,
    CommonPartIn,
    EmergencyIn,
    EvidenceIn,
    FundAccount,
    PaymentIn,
    ProjectIn,
)
from wuye.platform.db import Database, Scope
from wuye.platform.estates.models import Building, Estate, Unit
from wuye.platform.settings import Settings

__all__ = ["DEMO_ESTATE_CODE", "past_months", "payee_address", "seed_fund_demo"]

DEMO_ESTATE_CODE = "YQ-01"
ELEVATOR_CONTRACTOR = "杭州云梯电梯工程有限公司"
PLUMBER = "西湖水电安装工程有限公司"


def past_months(now: datetime, months: int = 12) -> list[int]:
    """The ``months`` booking months ending with last month, oldest first (yyyymm)."""
    y, m = now.year, now.month
    out = []
    for _ in range(months):
        m -= 1
        if m == 0:
            y, m = y - 1, 12
        out.append(y * 100 + m)
    return out[::-1]


def payee_address(name: str) -> str:
    """A stable made-up account address for a payee of the demo or a sandbox."""
    return Web3.to_checksum_address(sm3_hash(b"wuye-demo-payee:" + name.encode())[:20])


def seed_fund_demo(
    settings: Settings,
    *,
    progress: Callable[[str], None] | None = None,
    database: Database | None = None,
    votes_ledger: Any = None,
    fund_ledger: Any = None,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Seed the demo estate's fund once; returns what it did (``{"skipped": True}`` when the
    estate already has fund accounts, or there is no demo estate).

    Call it after the embedded ledger is up and the demo data is seeded::

        from wuye.ledger.fund.demo import seed_fund_demo
        seed_fund_demo(settings, progress=echo)

    The ledgers default to the installation's (``var/votes-ledger.json`` and
    ``var/fund-ledger.json``, deployed on first use); tests pass their own.
    """
    say = progress or (lambda _line: None)
    started = time.monotonic()
    own_db = database is None
    db = database or Database(settings.effective_database_url)
    try:
        with db.transaction(Scope.for_host()) as session:
            estate = session.scalars(
                select(Estate).where(Estate.code == DEMO_ESTATE_CODE).order_by(Estate.created_at)
            ).first()
            if estate is None:
                return {"skipped": True, "reason": "no demo estate"}
            tenant_id, estate_id = estate.tenant_id, estate.id
            if session.scalars(
                select(FundAccount.id).where(FundAccount.estate_id == estate_id)
            ).first():
                return {"skipped": True, "reason": "fund already seeded", "estate_id": estate_id}
        if votes_ledger is None:
            from wuye.ledger.clients import configured_votes

            votes_ledger = configured_votes(settings)
        if fund_ledger is None:
            from wuye.ledger.fund.chain import configured_ledger

            ballots = votes_ledger.officer.record(votes_ledger.record_address).functions.ballots()
            fund_ledger = configured_ledger(settings, ballots.call())
        with db.transaction(Scope.tenant(tenant_id)) as session:
            result = _seed(session, votes_ledger, fund_ledger, estate_id, tenant_id, now, say)
    finally:
        if own_db:
            db.dispose()
    result["seconds"] = round(time.monotonic() - started, 1)
    say(f"维修资金演示数据完成 / fund demo seeded in {result['seconds']} s")
    return result


def _seed(session, votes_ledger, fund_ledger, estate_id, tenant_id, now, say) -> dict[str, Any]:  # noqa: ANN001
    periods = past_months(now or datetime.now(UTC))
    units = session.execute(
        select(Unit.id, Building.name)
        .join(Building, Building.id == Unit.building_id)
        .where(Unit.estate_id == estate_id)
        .order_by(Building.name, Unit.floor, Unit.number)
    ).all()
    unit_ids = [u for u, _ in units]
    first_building = [u for u, b in units if b == units[0][1]]
    second_building = [u for u, b in units if b != units[0][1]][:12] or first_building
    sold_first = unit_ids[: len(unit_ids) * 2 // 3]
    later = unit_ids[len(sold_first) :]
    counts = {"batches": 0, "common_records": 0, "payments": 0}

    def credit(entries: list[Any]) -> None:
        counts["batches"] += len(entries)

    say("维修资金 / fund: 首次交存 first deposits")
    credit(
        service.open_accounts(
            session=session,
            ledger=fund_ledger,
            estate_id=estate_id,
            period=periods[0],
            unit_ids=sold_first,
        )
    )
    elevator = emergency = None
    for month, period in enumerate(periods):
        if month in (1, 2) and later:
            part = later[: len(later) // 2] if month == 1 else later[len(later) // 2 :]
            if part:
                credit(
                    service.open_accounts(
                        session=session,
                        ledger=fund_ledger,
                        estate_id=estate_id,
                        period=period,
                        unit_ids=part,
                    )
                )
        records = [
            CommonPartIn(
                period=period, category=category, income=income, amount_fen=fen, description=text
            )
            for category, income, fen, text in (
                (CommonCategory.PARKING, True, 320_000 + 5_000 * (month % 4), "地面临时停车收费"),
                (CommonCategory.LEASING, True, 150_000, "会所一层场地租赁"),
                (CommonCategory.OTHER, False, 60_000, "停车场保洁与收费员劳务"),
            )
        ]
        if month % 3 == 0:
            records.append(
                CommonPartIn(
                    period=period,
                    category=CommonCategory.ADVERTISING,
                    income=True,
                    amount_fen=450_000,
                    description="电梯轿厢广告位（季度）",
                )
            )
        service.record_common_parts(
            session=session, ledger=fund_ledger, estate_id=estate_id, records=records
        )
        counts["common_records"] += len(records)
        # Monthly interest on the deposits: about 0.11 % of the balance.
        balance = sum(a.balance_fen for a in service.accounts_of(session, estate_id))
        credit(
            service.allocate_interest(
                session=session,
                ledger=fund_ledger,
                estate_id=estate_id,
                period=period,
                amount_fen=balance * 11 // 10_000,
            )
        )
        if month in (5, 11):  # half-yearly: common parts' net income into the fund
            net = fund_ledger.common_net_available(estate_ref(estate_id))
            if net > 0:
                credit(
                    service.transfer_common_income(
                        session=session,
                        ledger=fund_ledger,
                        estate_id=estate_id,
                        period=period,
                        amount_fen=net,
                    )
                )
        if month == 4:
            say("维修资金 / fund: 电梯大修项目与业主表决 elevator overhaul and owners' vote")
            deposits = sum(
                a.balance_fen
                for a in service.accounts_of(session, estate_id)
                if a.unit_id in set(first_building)
            )
            elevator = service.propose_project(
                session=session,
                ledger=fund_ledger,
                estate_id=estate_id,
                project_in=ProjectIn(
                    title="1幢电梯曳引机及控制柜大修",
                    common_part="1幢 1 号电梯",
                    contractor=ELEVATOR_CONTRACTOR,
                    budget_fen=deposits * 9 // 10 // 100 * 100,
                    unit_ids=first_building,
                ),
            )
            voters = unit_ids[: max(1, len(unit_ids) * 5 // 6)]
            choices = {u: AGREE for u in voters}
            if len(voters) > 6:
                choices[voters[-1]] = OPPOSE
                choices[voters[-2]] = ABSTAIN
            run_project_vote(
                session=session,
                votes_ledger=votes_ledger,
                fund_ledger=fund_ledger,
                project_id=elevator.id,
                choices=choices,
                tenant_id=tenant_id,
                progress=say,
            )
        if elevator is not None and month in (5, 7, 9):
            stage_share = {5: 30, 7: 60, 9: 10}[month]
            remaining = elevator.budget_fen - elevator.paid_fen
            amount = remaining if month == 9 else elevator.budget_fen * stage_share // 100
            counts["payments"] += len(
                service.pay_stage(
                    session=session,
                    ledger=fund_ledger,
                    project_id=elevator.id,
                    payment_in=PaymentIn(
                        period=period,
                        amount_fen=amount,
                        invoice_no=f"33012{period}{month:03d}",
                        invoice_sm3=sm3_hash(f"elevator invoice {period}".encode()).hex(),
                        payee=payee_address(ELEVATOR_CONTRACTOR),
                    ),
                )
            )
        if month == 6:
            say("维修资金 / fund: 应急维修 emergency repair (burst pipe)")
            emergency = service.propose_project(
                session=session,
                ledger=fund_ledger,
                estate_id=estate_id,
                project_in=ProjectIn(
                    title="2幢地下室给水主管爆管抢修",
                    common_part="2幢地下室给水主管",
                    contractor=PLUMBER,
                    budget_fen=1_860_000,
                    unit_ids=second_building,
                ),
            )
            service.declare_emergency(
                session=session,
                ledger=fund_ledger,
                project_id=emergency.id,
                emergency_in=EmergencyIn(
                    reason="2幢地下室给水主管爆裂，积水威胁配电房，按应急维修程序先行抢修，事后提请业主大会追认。",
                    evidence=[
                        EvidenceIn(name="现场照片-1.jpg", sm3=sm3_hash(b"demo photo 1").hex()),
                        EvidenceIn(name="现场照片-2.jpg", sm3=sm3_hash(b"demo photo 2").hex()),
                        EvidenceIn(name="业委会确认函.pdf", sm3=sm3_hash(b"demo letter").hex()),
                    ],
                ),
            )
            counts["payments"] += len(
                service.pay_stage(
                    session=session,
                    ledger=fund_ledger,
                    project_id=emergency.id,
                    payment_in=PaymentIn(
                        period=period,
                        amount_fen=1_860_000,
                        invoice_no=f"33019{period}001",
                        invoice_sm3=sm3_hash(f"pipe invoice {period}".encode()).hex(),
                        payee=payee_address(PLUMBER),
                    ),
                )
            )
        if month == 10:
            say("维修资金 / fund: 续筹 top-ups below the city threshold")
            credit(
                service.top_up(
                    session=session, ledger=fund_ledger, estate_id=estate_id, period=period
                )
            )
    return {
        "estate_id": estate_id,
        "tenant_id": tenant_id,
        "periods": [periods[0], periods[-1]],
        "units": len(unit_ids),
        "fund_contract": fund_ledger.address,
        "elevator_project": elevator.id if elevator else None,
        "emergency_project": emergency.id if emergency else None,
        **counts,
    }
