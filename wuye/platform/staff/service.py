"""Staff: plain functions over a tenant-scoped session."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from wuye.platform.crud import apply_patch, get_or_404
from wuye.platform.estates.service import get_estate
from wuye.platform.staff.models import Staff, StaffIn, StaffPatch


def get_staff(*, session: Session, staff_id: str) -> Staff:
    return get_or_404(session, Staff, staff_id, what="staff")


def create_staff(*, session: Session, staff_in: StaffIn) -> Staff:
    if staff_in.estate_id:
        get_estate(session=session, estate_id=staff_in.estate_id)
    staff = Staff(**staff_in.model_dump())
    staff.skills = sorted(set(staff.skills))
    session.add(staff)
    session.flush()
    return staff


def update_staff(*, session: Session, staff_id: str, patch: StaffPatch) -> Staff:
    staff = get_staff(session=session, staff_id=staff_id)
    if patch.estate_id:
        get_estate(session=session, estate_id=patch.estate_id)
    apply_patch(staff, patch)
    if patch.skills is not None:
        staff.skills = sorted(set(patch.skills))
    session.flush()
    return staff


def delete_staff(*, session: Session, staff_id: str) -> None:
    session.delete(get_staff(session=session, staff_id=staff_id))
    session.flush()


def staff_query(
    *, estate_id: str | None = None, on_duty: bool | None = None, q: str | None = None
) -> Select[tuple[Staff]]:
    stmt = select(Staff)
    if estate_id:
        stmt = stmt.where(Staff.estate_id == estate_id)
    if on_duty is not None:
        stmt = stmt.where(Staff.on_duty == on_duty)
    if q:
        stmt = stmt.where(Staff.name.contains(q, autoescape=True))
    return stmt
