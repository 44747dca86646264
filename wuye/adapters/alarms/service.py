"""Alarms: persist what the engine decides, open work orders for severe ones, acknowledge."""

from __future__ import annotations

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session

from wuye.adapters.alarms.engine import ActiveAlarm, Transition
from wuye.adapters.alarms.models import AcknowledgeIn, Alarm
from wuye.adapters.devices.models import Device
from wuye.adapters.devices.types import DEVICE_TYPES, severity_rank
from wuye.platform.crud import get_or_404
from wuye.platform.db import utcnow
from wuye.platform.problems import Conflict

#: Alarms at or above this severity open a work order.
WORK_ORDER_SEVERITY = "major"
#: alarm severity -> work order priority
PRIORITY_FOR = {"info": "low", "minor": "normal", "major": "high", "critical": "urgent"}


def active_alarms(session: Session, device_ids: list[str]) -> dict[str, list[ActiveAlarm]]:
    """device id -> its alarms not yet cleared, as the engine tracks them."""
    out: dict[str, list[ActiveAlarm]] = {}
    if not device_ids:
        return out
    rows = session.scalars(
        select(Alarm).where(Alarm.device_id.in_(device_ids), Alarm.state != "cleared")
    )
    for a in rows:
        out.setdefault(a.device_id, []).append(
            ActiveAlarm(
                a.id,
                a.metric,
                a.kind,
                a.severity,
                a.low,
                a.high,
                a.value,
                a.peak_value,
                a.raised_ts_ms,
            )
        )
    return out


def persist(session: Session, device: Device, transitions: list[Transition]) -> int:
    """Write raised and cleared alarms; open a work order for each severe one raised.

    Returns the number of work orders opened.
    """
    from wuye.platform.workorders.service import open_work_order, record

    opened = 0
    for t in transitions:
        a = t.alarm
        if t.action == "raise":
            # Another ingest process may have raised it already: adopt that one.
            existing = session.scalars(
                select(Alarm.id).where(
                    Alarm.device_id == device.id,
                    Alarm.metric == a.metric,
                    Alarm.kind == a.kind,
                    Alarm.state != "cleared",
                )
            ).first()
            if existing is not None:
                a.id = existing
                continue
            session.add(
                Alarm(
                    id=a.id,
                    device_id=device.id,
                    estate_id=device.estate_id,
                    metric=a.metric,
                    kind=a.kind,
                    severity=a.severity,
                    state="raised",
                    low=a.low,
                    high=a.high,
                    value=t.value,
                    peak_value=t.value,
                    raised_ts_ms=t.ts_ms,
                )
            )
            session.flush()
            if severity_rank(a.severity) >= severity_rank(WORK_ORDER_SEVERITY):
                device_type = DEVICE_TYPES[device.type]
                limits = f"[{a.low}, {a.high}]"
                open_work_order(
                    session=session,
                    estate_id=device.estate_id,
                    title=f"{device_type.label} {device.code}: {a.metric} = {t.value:g}",
                    description=f"告警 / alarm {a.id}: {a.metric} {t.value:g} outside {limits}",
                    skill=device_type.skill,
                    priority=PRIORITY_FOR[a.severity],
                    device_id=device.id,
                    alarm_id=a.id,
                    latitude=device.latitude,
                    longitude=device.longitude,
                )
                opened += 1
        else:
            session.execute(
                update(Alarm)
                .where(Alarm.id == a.id)
                .values(state="cleared", cleared_ts_ms=t.ts_ms, peak_value=a.peak)
            )
            from wuye.platform.workorders.models import WorkOrder

            for order in session.scalars(select(WorkOrder).where(WorkOrder.alarm_id == a.id)):
                record(session, order, "alarm_cleared", detail=f"{a.metric} back to {t.value:g}")
    return opened


def get_alarm(*, session: Session, alarm_id: str) -> Alarm:
    return get_or_404(session, Alarm, alarm_id, what="alarm")


def acknowledge(*, session: Session, alarm_id: str, ack: AcknowledgeIn, actor: str) -> Alarm:
    alarm = get_alarm(session=session, alarm_id=alarm_id)
    if alarm.state != "raised":
        raise Conflict(f"an alarm that is {alarm.state} cannot be acknowledged")
    alarm.state = "acknowledged"
    alarm.acknowledged_at = utcnow()
    alarm.acknowledged_by = actor
    alarm.note = ack.note
    session.flush()
    return alarm


def alarms_query(
    *,
    device_id: str | None = None,
    estate_id: str | None = None,
    state: str | None = None,
    severity: str | None = None,
) -> Select[tuple[Alarm]]:
    stmt = select(Alarm)
    if device_id:
        stmt = stmt.where(Alarm.device_id == device_id)
    if estate_id:
        stmt = stmt.where(Alarm.estate_id == estate_id)
    if state == "active":
        stmt = stmt.where(Alarm.state != "cleared")
    elif state:
        stmt = stmt.where(Alarm.state == state)
    if severity:
        stmt = stmt.where(Alarm.severity == severity)
    return stmt
