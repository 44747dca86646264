"""Demo credit history: a year of plausible events for the demo firms and their staff,
twelve monthly scores published to the ledger, and one regulator's adjustment.

Call it after the platform's demo is seeded and the ledger is up::

    from wuye.ledger.credit.demo import seed_credit
    seed_credit(settings, progress=echo)

It is idempotent: events are recorded once per firm and month (a later run, in a later
month, fills in only the months it lacks), publishing skips scores already on the ledger,
and the adjustment is made once. It takes a few seconds.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from wuye.ledger.credit import service
from wuye.ledger.credit.chain import CreditLedger, configured_ledger, subject_ref
from wuye.ledger.credit.models import (
    AdjustmentIn,
    Complaint,
    CreditAdjustment,
    RegulatorAction,
    SatisfactionRating,
)
from wuye.platform.db import Database, Scope
from wuye.platform.estates.models import Estate
from wuye.platform.pii import PersonalDataCipher
from wuye.platform.settings import Settings
from wuye.platform.staff.models import Staff
from wuye.platform.workorders.models import WorkOrder

MONTHS = 12
REGULATOR = "demo-regulator-hz-zjj"  # 杭州市住房保障和房产管理局 (demo)
ADJUSTMENT_REASON = (
    "2026 年第三季度专项检查：电梯维保记录不完整，责令整改，信用分下调。"
    " / Q3 inspection: incomplete elevator maintenance records; score lowered."
)
SLA_HOURS = {"low": (24, 168), "normal": (4, 48), "high": (1, 12), "urgent": (0.5, 4)}
TITLES = ("楼道灯不亮", "水管渗漏", "电梯异响", "门禁故障", "消防栓检查", "下水道堵塞", "外墙渗水")
COMPLAINTS = ("维修响应慢", "保洁不到位", "噪音扰民", "停车管理", "服务态度")


def seed_credit(
    settings: Settings,
    *,
    progress: Callable[[str], None] | None = None,
    now: datetime | None = None,
    ledger: CreditLedger | None = None,
    tenant_ids: set[str] | None = None,
) -> dict[str, Any]:
    """Record a year of events, publish 12 monthly scores, add one adjustment.

    ``tenant_ids`` limits the made-up events to the demo's own firms (a firm someone
    onboards to try the platform is rated from its real events only). Returns a
    summary: the periods, the firms and the adjustment's transaction.
    """
    say = progress or (lambda _line: None)
    now = now or datetime.now(UTC)
    last = _last_finished(now)
    periods = service.previous_periods(last, MONTHS)
    database = Database(settings.effective_database_url)
    ledger = ledger or configured_ledger(settings)
    try:
        with database.transaction(Scope.for_host()) as session:
            firms = sorted(
                (t.name, t.id)
                for t in service.rated_firms(session)
                if tenant_ids is None or t.id in tenant_ids
            )
            firms = [(tenant_id, name) for name, tenant_id in firms]
        for i, (tenant_id, name) in enumerate(firms):
            recorded = _record_year(database, tenant_id, i, periods)
            say(f"信用事件 / credit events {name}: {recorded} work orders")
        for period in periods:
            with database.transaction(Scope.for_host()) as session:
                out = service.publish_period(session=session, ledger=ledger, period=period, now=now)
            say(f"信用评分 / credit scores {period}: {out.computed} subjects, {out.batches} tx")
        adjustment = _adjust_once(database, ledger, settings, firms, periods[-1])
        if adjustment:
            say(f"监管调整 / regulator adjustment {adjustment}")
    finally:
        database.dispose()
    return {"periods": periods, "firms": [n for _, n in firms], "adjustment_tx": adjustment}


def _last_finished(now: datetime) -> str:
    """The latest month (China time) that has ended by ``now``."""
    first_of_month = datetime.strptime(service.period_of(now) + "-01", "%Y-%m-%d")
    return service.period_of(first_of_month.replace(tzinfo=UTC) - timedelta(days=1))


def _record_year(database: Database, tenant_id: str, index: int, periods: list[str]) -> int:
    """Work orders, complaints and ratings for each month of ``periods`` that has none
    yet, and (the first time) one regulator's action. Returns the work orders recorded."""
    with database.transaction(Scope.tenant(tenant_id)) as session:
        first_time = not session.scalar(select(func.count()).select_from(SatisfactionRating))
        estate = session.scalar(select(Estate).order_by(Estate.created_at))
        staff = list(session.scalars(select(Staff).order_by(Staff.name, Staff.id)))
        if estate is None or not staff:
            return 0
        count = 0
        for m, period in enumerate(periods):
            start, end = service.month_bounds(period)
            already = select(func.count()).where(
                SatisfactionRating.rated_at >= start, SatisfactionRating.rated_at < end
            )
            if session.scalar(already):
                continue
            rng = random.Random(f"wuye-credit-demo/{index}/{period}")
            span = int((end - start).total_seconds()) - 6 * 86_400
            # firm 0 steady and good, firm 1 improving, firm 2 slipping over the year
            quality = (0.92, 0.70 + 0.022 * m, 0.93 - 0.025 * m)[index % 3]
            for tech in staff:
                for _ in range(rng.randint(3, 7)):
                    count += 1
                    opened = start + timedelta(seconds=rng.randrange(span))
                    priority = rng.choice(("normal", "normal", "high", "low", "urgent"))
                    respond_h, resolve_h = SLA_HOURS[priority]
                    good = rng.random() < quality
                    session.add(
                        WorkOrder(
                            estate_id=estate.id,
                            title=rng.choice(TITLES),
                            skill=(tech.skills or ["general"])[0],
                            priority=priority,
                            status="closed",
                            assignee_id=tech.id,
                            respond_due_at=opened + timedelta(hours=respond_h),
                            resolve_due_at=opened + timedelta(hours=resolve_h),
                            assigned_at=opened
                            + timedelta(hours=respond_h * (0.4 if rng.random() < quality else 1.6)),
                            resolved_at=opened
                            + timedelta(hours=resolve_h * (0.6 if good else 1.5)),
                            created_at=opened,
                        )
                    )
                for _ in range(rng.randint(2, 6)):
                    stars = 5 if rng.random() < quality - 0.2 else rng.choice((3, 4, 4, 5, 2))
                    session.add(
                        SatisfactionRating(
                            estate_id=estate.id,
                            staff_id=tech.id,
                            stars=stars,
                            rated_at=start + timedelta(seconds=rng.randrange(span)),
                        )
                    )
            for _ in range(
                rng.choice((0, 1, 1, 2, 3)) if quality < 0.85 else rng.choice((0, 0, 1))
            ):
                received = start + timedelta(seconds=rng.randrange(span))
                fast = rng.random() < quality
                session.add(
                    Complaint(
                        estate_id=estate.id,
                        staff_id=rng.choice(staff).id,
                        category="service",
                        description=rng.choice(COMPLAINTS),
                        received_at=received,
                        resolved_at=received + timedelta(days=3 if fast else 20),
                        resident_accepted=fast,
                        resolution="已回访 / followed up",
                    )
                )
        session.flush()
    if not first_time:
        return count
    with database.transaction(Scope.for_host()) as session:
        start, _ = service.month_bounds(periods[4])
        kind, severity, text = (
            ("commendation", 1, "市级物业服务示范项目 / city model estate"),
            ("commendation", 2, "省级优秀物业服务企业 / provincial excellence"),
            ("penalty", 2, "未按规定公示收费项目 / charges not disclosed"),
        )[index % 3]
        session.add(
            RegulatorAction(
                tenant_id=tenant_id,
                kind=kind,
                severity=severity,
                decided_at=start + timedelta(days=10),
                document_no=f"杭房监〔{periods[4][:4]}〕{index + 11}号",
                description=text,
                regulator=REGULATOR,
            )
        )
    return count


def _adjust_once(
    database: Database,
    ledger: CreditLedger,
    settings: Settings,
    firms: list[tuple[str, str]],
    period: str,
) -> str | None:
    if not firms:
        return None
    tenant_id = firms[-1][0]
    cipher = PersonalDataCipher(settings.secret_bytes())
    with database.transaction(Scope.for_host()) as session:
        existing = session.scalar(
            select(CreditAdjustment).where(CreditAdjustment.regulator == REGULATOR).limit(1)
        )
        if existing is not None:
            return existing.tx_hash
        adjustment = service.adjust(
            session=session,
            ledger=ledger,
            cipher=cipher,
            regulator=REGULATOR,
            adjustment_in=AdjustmentIn(
                period=period,
                subject_ref=subject_ref("firm", tenant_id).hex(),
                delta=-30,
                reason=ADJUSTMENT_REASON,
            ),
        )
        return adjustment.tx_hash
