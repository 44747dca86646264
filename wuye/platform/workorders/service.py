"""Work orders: open, dispatch, move through their statuses, escalate; one session each."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from wuye.platform.crud import apply_patch, get_or_404
from wuye.platform.db import utcnow
from wuye.platform.estates.service import get_estate
from wuye.platform.problems import Conflict, Problem
from wuye.platform.staff.service import get_staff
from wuye.platform.workorders import dispatch
from wuye.platform.workorders.models import (
    TRANSITIONS,
    TransitionIn,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderIn,
    WorkOrderPatch,
)


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every time here is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def get_work_order(*, session: Session, work_order_id: str) -> WorkOrder:
    return get_or_404(session, WorkOrder, work_order_id, what="work order")


def record(
    session: Session,
    order: WorkOrder,
    kind: str,
    *,
    detail: str = "",
    actor: str = "system",
    from_status: str | None = None,
    to_status: str | None = None,
    staff_id: str | None = None,
    at: datetime | None = None,
) -> WorkOrderEvent:
    order.event_count = (order.event_count or 0) + 1
    event = WorkOrderEvent(
        work_order_id=order.id,
        seq=order.event_count,
        kind=kind,
        detail=detail,
        actor=actor,
        from_status=from_status,
        to_status=to_status,
        staff_id=staff_id,
        at=at or utcnow(),
    )
    session.add(event)
    return event


def open_work_order(
    *,
    session: Session,
    estate_id: str,
    title: str,
    skill: str,
    priority: str,
    description: str = "",
    device_id: str | None = None,
    alarm_id: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    actor: str = "system",
    dispatch_now: bool = True,
    now: datetime | None = None,
) -> WorkOrder:
    """Open an order (and dispatch it at once unless told not to)."""
    now = now or utcnow()
    estate = get_estate(session=session, estate_id=estate_id)
    if latitude is None or longitude is None:
        latitude, longitude = estate.latitude, estate.longitude
    respond_due, resolve_due = dispatch.due_times(priority, now)
    order = WorkOrder(
        estate_id=estate.id,
        device_id=device_id,
        alarm_id=alarm_id,
        title=title,
        description=description,
        skill=skill,
        priority=priority,
        status="open",
        latitude=latitude,
        longitude=longitude,
        respond_due_at=respond_due,
        resolve_due_at=resolve_due,
        escalate_at=respond_due,
    )
    session.add(order)
    session.flush()
    record(session, order, "created", to_status="open", actor=actor, detail=title, at=now)
    if dispatch_now:
        auto_dispatch(session=session, order=order, actor=actor, now=now)
    session.flush()
    return order


def create_work_order(*, session: Session, order_in: WorkOrderIn, actor: str) -> WorkOrder:
    if order_in.device_id:
        from wuye.adapters.devices.service import get_device

        device = get_device(session=session, device_id=order_in.device_id)
        if device.estate_id != order_in.estate_id:
            raise Problem("validation-error", "device_id: the device is in another estate")
    return open_work_order(
        session=session,
        estate_id=order_in.estate_id,
        title=order_in.title,
        description=order_in.description,
        skill=order_in.skill,
        priority=order_in.priority,
        device_id=order_in.device_id,
        latitude=order_in.latitude,
        longitude=order_in.longitude,
        actor=actor,
        dispatch_now=order_in.dispatch,
    )


def _assign(
    session: Session, order: WorkOrder, staff_id: str, detail: str, actor: str, now: datetime
) -> None:
    previous = order.status
    order.assignee_id = staff_id
    order.status = "assigned"
    order.assigned_at = now
    record(
        session,
        order,
        "assigned",
        from_status=previous,
        to_status="assigned",
        staff_id=staff_id,
        actor=actor,
        detail=detail,
        at=now,
    )


def auto_dispatch(
    *,
    session: Session,
    order: WorkOrder,
    actor: str = "system",
    now: datetime | None = None,
    exclude: frozenset[str] = frozenset(),
) -> bool:
    """Assign the cheapest available technician; record why if there is none."""
    now = now or utcnow()
    found = dispatch.candidates(session, order=order, exclude=exclude)
    if not found:
        record(
            session,
            order,
            "no_technician",
            actor=actor,
            at=now,
            detail=f"没有可派技师 / no available technician with skill {order.skill}",
        )
        return False
    best = found[0]
    distance = "unknown" if best.distance_km is None else f"{best.distance_km:.2f} km"
    why = f"{best.staff.name}: distance {distance}, active orders {best.load}"
    _assign(session, order, best.staff.id, why, actor, now)
    return True


def dispatch_work_order(
    *, session: Session, work_order_id: str, staff_id: str | None, actor: str
) -> WorkOrder:
    order = get_work_order(session=session, work_order_id=work_order_id)
    if order.status not in ("open", "assigned"):
        raise Conflict(f"a work order that is {order.status} cannot be dispatched")
    now = utcnow()
    if staff_id:
        staff = get_staff(session=session, staff_id=staff_id)
        if order.skill not in (staff.skills or []):
            raise Problem("validation-error", f"staff_id: {staff.name} lacks skill {order.skill}")
        _assign(session, order, staff.id, f"{staff.name}: chosen by {actor}", actor, now)
    elif not auto_dispatch(session=session, order=order, actor=actor, now=now):
        raise Conflict(f"no available technician with skill {order.skill}")
    session.flush()
    return order


def transition(
    *, session: Session, work_order_id: str, transition_in: TransitionIn, actor: str
) -> WorkOrder:
    order = get_work_order(session=session, work_order_id=work_order_id)
    target = transition_in.status
    if target not in TRANSITIONS[order.status]:
        raise Conflict(
            f"a work order cannot go from {order.status} to {target}",
            allowed=sorted(TRANSITIONS[order.status]),
        )
    now = utcnow()
    previous, order.status = order.status, target
    if target == "in_progress":
        order.escalate_at = order.resolve_due_at
        order.resolved_at = None
    elif target in ("resolved", "closed", "cancelled"):
        order.escalate_at = None
        if target == "resolved":
            order.resolved_at = now
    record(
        session,
        order,
        "status",
        from_status=previous,
        to_status=target,
        actor=actor,
        detail=transition_in.note,
        staff_id=order.assignee_id,
        at=now,
    )
    session.flush()
    return order


def update_work_order(
    *, session: Session, work_order_id: str, patch: WorkOrderPatch, actor: str
) -> WorkOrder:
    order = apply_patch(get_work_order(session=session, work_order_id=work_order_id), patch)
    record(
        session,
        order,
        "edited",
        actor=actor,
        detail=", ".join(sorted(patch.model_dump(exclude_unset=True))),
    )
    session.flush()
    return order


def escalate_overdue(*, session: Session, now: datetime | None = None) -> list[WorkOrder]:
    """Escalate every order past its SLA (升级): bump the level, and re-dispatch one not started.

    An order not yet started by its respond-by time goes to another technician
    if one is available; one in progress past its resolve-by time is flagged.
    The next look is one response window later, so each escalation is recorded
    once per window rather than on every run.
    """
    now = now or utcnow()
    overdue = session.scalars(
        select(WorkOrder).where(WorkOrder.escalate_at.is_not(None), WorkOrder.escalate_at <= now)
    ).all()
    for order in overdue:
        order.escalation_level += 1
        late = "响应超时 / response overdue"
        if order.status == "in_progress":
            late = "处理超时 / resolution overdue"
        record(
            session, order, "escalated", at=now, detail=f"{late}; level {order.escalation_level}"
        )
        if order.status in ("open", "assigned"):
            exclude = frozenset({order.assignee_id}) if order.assignee_id else frozenset()
            auto_dispatch(session=session, order=order, now=now, exclude=exclude)
        order.escalate_at = now + dispatch.SLA[order.priority][0]
    session.flush()
    return list(overdue)


def work_orders_query(
    *,
    estate_id: str | None = None,
    status: str | None = None,
    assignee_id: str | None = None,
    device_id: str | None = None,
) -> Select[tuple[WorkOrder]]:
    stmt = select(WorkOrder)
    if estate_id:
        stmt = stmt.where(WorkOrder.estate_id == estate_id)
    if status:
        stmt = stmt.where(WorkOrder.status == status)
    if assignee_id:
        stmt = stmt.where(WorkOrder.assignee_id == assignee_id)
    if device_id:
        stmt = stmt.where(WorkOrder.device_id == device_id)
    return stmt


def events_query(*, work_order_id: str) -> Select[tuple[WorkOrderEvent]]:
    stmt = select(WorkOrderEvent).where(WorkOrderEvent.work_order_id == work_order_id)
    return stmt.order_by(WorkOrderEvent.seq)
