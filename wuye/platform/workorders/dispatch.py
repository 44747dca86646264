"""Dispatch (派单): the nearest available technician with the skill, and SLA escalation.

A technician is available when on duty, holding the skill, and carrying fewer
than :data:`MAX_LOAD` active orders. Among them the lowest cost wins: the
great-circle (haversine) distance to the job plus :data:`KM_PER_ACTIVE_ORDER`
for each order already on their hands, so a slightly farther idle technician
beats a nearby busy one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wuye.platform.staff.models import Staff
from wuye.platform.workorders.models import ACTIVE_STATUSES, WorkOrder

EARTH_RADIUS_KM = 6371.0088
MAX_LOAD = 5
KM_PER_ACTIVE_ORDER = 2.0
#: Cost of a technician whose location is unknown: after everyone located.
UNKNOWN_DISTANCE_KM = 10_000.0

#: priority -> (respond within, resolve within)
SLA: dict[str, tuple[timedelta, timedelta]] = {
    "urgent": (timedelta(minutes=15), timedelta(hours=4)),
    "high": (timedelta(hours=1), timedelta(hours=24)),
    "normal": (timedelta(hours=4), timedelta(hours=72)),
    "low": (timedelta(hours=24), timedelta(days=7)),
}


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km between two points given in degrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True, slots=True)
class Candidate:
    staff: Staff
    distance_km: float | None
    load: int

    @property
    def cost(self) -> float:
        distance = UNKNOWN_DISTANCE_KM if self.distance_km is None else self.distance_km
        return distance + KM_PER_ACTIVE_ORDER * self.load


def loads(session: Session) -> dict[str, int]:
    """staff id -> number of active (assigned or in progress) orders."""
    rows = session.execute(
        select(WorkOrder.assignee_id, func.count())
        .where(WorkOrder.assignee_id.is_not(None), WorkOrder.status.in_(ACTIVE_STATUSES))
        .group_by(WorkOrder.assignee_id)
    )
    return {staff_id: count for staff_id, count in rows}


def candidates(
    session: Session, *, order: WorkOrder, exclude: frozenset[str] = frozenset()
) -> list[Candidate]:
    """Available technicians for ``order``, cheapest first."""
    load_by_staff = loads(session)
    out = []
    for staff in session.scalars(select(Staff).where(Staff.on_duty.is_(True))):
        if staff.id in exclude or order.skill not in (staff.skills or []):
            continue
        load = load_by_staff.get(staff.id, 0)
        if load >= MAX_LOAD:
            continue
        distance = None
        if None not in (staff.latitude, staff.longitude, order.latitude, order.longitude):
            distance = haversine_km(
                order.latitude, order.longitude, staff.latitude, staff.longitude
            )
        out.append(Candidate(staff, distance, load))
    out.sort(key=lambda c: (c.cost, c.load, c.staff.id))
    return out


def due_times(priority: str, now: datetime) -> tuple[datetime, datetime]:
    respond, resolve = SLA[priority]
    return now + respond, now + resolve
