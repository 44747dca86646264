"""The sandbox's ledger history: maintenance-fund movements and a vote in progress.

Sandboxes write to the sandbox ledger (:func:`wuye.ledger.sites.sandbox_site`), a
chain of their own with the platform's contracts, never to the regulators' ledger.
Every sandbox estate gets, through the same fund and votes services the platform's
estates use:

* a quarter of fund movements: first deposits of the sold units (area × the city's
  rate), common-part income and expenses, monthly interest;
* an emergency repair (a burst pipe) paid against an invoice, awaiting ratification;
* a repair project (the elevators' door systems) whose owners' vote is open, with a
  part of the units' encrypted, credential-signed ballots already cast; the simulated
  owners' credentials and trustees' shares are kept (:mod:`wuye.sandbox.votes`) so the
  developer can cast the rest, close the vote and have it decrypted.

A developer reads all of it through the API (``/api/v1/fund/...``, ``/api/v1/elections``)
exactly as a firm's system would on the platform, and can record movements or run
votes of their own on the same chain.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from wuye.crypto import sm3_hash
from wuye.ledger.clients import fund_client, votes_client
from wuye.ledger.fund import service as fund
from wuye.ledger.fund.demo import past_months, payee_address
from wuye.ledger.fund.flows import ABSTAIN, AGREE, OPPOSE, cast_simulated, open_project_vote
from wuye.ledger.fund.models import (
    CommonCategory,
    CommonPartIn,
    EmergencyIn,
    EvidenceIn,
    PaymentIn,
    ProjectIn,
)
from wuye.ledger.sites import sandbox_site
from wuye.platform.db import Database, Scope
from wuye.platform.estates.models import Estate, Unit
from wuye.platform.owners.models import Owner, OwnerKind, Ownership
from wuye.platform.problems import Problem
from wuye.platform.settings import Settings
from wuye.sandbox.votes import Kit, keep

__all__ = ["MONTHS", "SandboxLedgers", "ledgers", "seed_on_ledger"]

#: Months of fund history before the current one.
MONTHS = 3
#: Share of the sold units whose owners have already voted on the open project.
VOTED_SHARE = 0.4
ELEVATOR_CONTRACTOR = "模拟电梯工程有限公司（虚构）"
PLUMBER = "模拟水电安装有限公司（虚构）"


class SandboxLedgers:
    """The votes and fund ledger clients of the sandbox site, configured once, and the
    platform secret that seals the simulated owners' and trustees' secrets."""

    def __init__(self, votes: Any, fund: Any, secret: bytes) -> None:
        self.votes = votes
        self.fund = fund
        self.secret = secret


def ledgers(settings: Settings, state: Any = None) -> SandboxLedgers | None:
    """The sandbox site's ledger clients (contracts deployed on first use on an embedded
    node); None when ``WUYE_SANDBOX_LEDGER_URL=off``; an unreachable node is a 503.

    With ``state`` (the app's ``app.state``) the clients are the ones the votes and fund
    routes use for sandbox tenants (:mod:`wuye.ledger.clients`)."""
    site = sandbox_site(settings)
    if site.off:
        return None
    state = state if state is not None else SimpleNamespace(settings=settings)
    votes = votes_client(state, sandbox=True)
    fund_ledger = fund_client(state, sandbox=True)
    return SandboxLedgers(votes, fund_ledger, settings.secret_bytes())


def seed_on_ledger(
    database: Database,
    *,
    chain: SandboxLedgers,
    tenant_id: str,
    seed: int,
    now: datetime | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Give the sandbox's estate its fund history and a vote in progress on ``chain``;
    the same ``seed`` gives the same choices. Returns counts of what was written."""
    say = progress or (lambda _line: None)
    rng = random.Random(seed)
    periods = past_months(now or datetime.now(UTC), MONTHS)
    with database.transaction(Scope.tenant(tenant_id)) as session:
        estate_id = session.scalars(select(Estate.id).order_by(Estate.created_at)).first()
        if estate_id is None:
            raise Problem("conflict", "the sandbox has no estate to seed")
        units = session.scalars(
            select(Unit.id).where(Unit.estate_id == estate_id).order_by(Unit.floor, Unit.number)
        ).all()
        unsold = set(
            session.scalars(
                select(Ownership.unit_id)
                .join(Owner, Owner.id == Ownership.owner_id)
                .where(Owner.kind == OwnerKind.DEVELOPER)
            ).all()
        )
        sold = [u for u in units if u not in unsold]
        say("沙箱账本 / sandbox ledger: 首次交存 first deposits")
        fund.open_accounts(
            session=session,
            ledger=chain.fund,
            estate_id=estate_id,
            period=periods[0],
            unit_ids=sold,
        )
        for month, period in enumerate(periods):
            fund.record_common_parts(
                session=session,
                ledger=chain.fund,
                estate_id=estate_id,
                records=[
                    CommonPartIn(
                        period=period,
                        category=CommonCategory.PARKING,
                        income=True,
                        amount_fen=180_000 + 4_000 * month,
                        description="地面临时停车收费（模拟）",
                    ),
                    CommonPartIn(
                        period=period,
                        category=CommonCategory.OTHER,
                        income=False,
                        amount_fen=40_000,
                        description="停车场保洁劳务（模拟）",
                    ),
                ],
            )
            balance = sum(a.balance_fen for a in fund.accounts_of(session, estate_id))
            fund.allocate_interest(
                session=session,
                ledger=chain.fund,
                estate_id=estate_id,
                period=period,
                amount_fen=balance * 11 // 10_000,
            )
        say("沙箱账本 / sandbox ledger: 应急维修 emergency repair")
        pipe = fund.propose_project(
            session=session,
            ledger=chain.fund,
            estate_id=estate_id,
            project_in=ProjectIn(
                title="1幢地下室给水管爆管抢修（模拟）",
                common_part="1幢地下室给水主管",
                contractor=PLUMBER,
                budget_fen=386_000,
                unit_ids=sold[: len(sold) // 3] or sold,
            ),
        )
        fund.declare_emergency(
            session=session,
            ledger=chain.fund,
            project_id=pipe.id,
            emergency_in=EmergencyIn(
                reason="给水主管爆裂，积水威胁配电房，按应急维修程序先行抢修，事后提请业主大会追认（模拟）。",
                evidence=[
                    EvidenceIn(name="现场照片.jpg", sm3=sm3_hash(b"sandbox photo").hex()),
                    EvidenceIn(name="业委会确认函.pdf", sm3=sm3_hash(b"sandbox letter").hex()),
                ],
            ),
        )
        fund.pay_stage(
            session=session,
            ledger=chain.fund,
            project_id=pipe.id,
            payment_in=PaymentIn(
                period=periods[-1],
                amount_fen=386_000,
                invoice_no=f"99000{periods[-1]}001",
                invoice_sm3=sm3_hash(f"sandbox pipe invoice {seed}".encode()).hex(),
                payee=payee_address(PLUMBER),
            ),
        )
        say("沙箱账本 / sandbox ledger: 表决进行中 a vote in progress")
        deposits = sum(a.balance_fen for a in fund.accounts_of(session, estate_id))
        doors = fund.propose_project(
            session=session,
            ledger=chain.fund,
            estate_id=estate_id,
            project_in=ProjectIn(
                title="全部电梯层门及门机系统更换（模拟）",
                common_part="1-3幢电梯层门、门机",
                contractor=ELEVATOR_CONTRACTOR,
                budget_fen=deposits // 3 // 100 * 100,
                unit_ids=sold,
            ),
        )
        vote = open_project_vote(
            session=session,
            votes_ledger=chain.votes,
            project_id=doors.id,
            voters=sold,
            tenant_id=tenant_id,
        )
        keep(
            session=session,
            secret=chain.secret,
            election_id=vote.election.id,
            kit=Kit(vote.owners, vote.casters, vote.keys, vote.threshold),
        )
        voted = sold[: max(1, int(len(sold) * VOTED_SHARE))]
        weights = (AGREE,) * 6 + (OPPOSE, ABSTAIN)
        cast_simulated(
            session=session,
            votes_ledger=chain.votes,
            vote=vote,
            choices={u: rng.choice(weights) for u in voted},
            progress=say,
        )
    return {
        "fund_accounts": len(sold),
        "fund_projects": 2,
        "votes_open": 1,
        "ballots_cast": len(voted),
    }
