"""Work order and work order event tables, and the schemas the API speaks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from wuye.platform.db import Base, TenantScoped, Timestamped, new_id, utcnow
from wuye.platform.staff.models import SKILLS

PRIORITIES = ("low", "normal", "high", "urgent")
STATUSES = ("open", "assigned", "in_progress", "resolved", "closed", "cancelled")
#: status -> statuses a transition may lead to (assignment goes through dispatch).
TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"cancelled"}),
    "assigned": frozenset({"in_progress", "cancelled"}),
    "in_progress": frozenset({"resolved"}),
    "resolved": frozenset({"closed", "in_progress"}),
    "closed": frozenset(),
    "cancelled": frozenset(),
}
ACTIVE_STATUSES = ("assigned", "in_progress")


class WorkOrder(Base, TenantScoped, Timestamped):
    """A repair to do, where, by whom, and by when (SLA)."""

    __tablename__ = "work_orders"
    __table_args__ = (Index("ix_work_orders_assignee_status", "assignee_id", "status"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    estate_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("estates.id", ondelete="CASCADE"), index=True, nullable=False
    )
    device_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("devices.id", ondelete="SET NULL"), index=True
    )
    alarm_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("alarms.id", ondelete="SET NULL"), index=True
    )
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(String(2000), nullable=False, default="")
    skill: Mapped[str] = mapped_column(String(32), nullable=False, default="general")
    priority: Mapped[str] = mapped_column(String(16), nullable=False, default="normal")
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open", index=True)
    assignee_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("staff.id", ondelete="SET NULL")
    )
    latitude: Mapped[float | None] = mapped_column()
    longitude: Mapped[float | None] = mapped_column()
    respond_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    resolve_due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    #: When the SLA watch next looks at this order; none once it is resolved.
    escalate_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    escalation_level: Mapped[int] = mapped_column(nullable=False, default=0)
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Events recorded so far; numbers the history, whose times may tie.
    event_count: Mapped[int] = mapped_column(nullable=False, default=0)


class WorkOrderEvent(Base, TenantScoped):
    """One entry of a work order's history."""

    __tablename__ = "work_order_events"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    work_order_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("work_orders.id", ondelete="CASCADE"), index=True, nullable=False
    )
    seq: Mapped[int] = mapped_column(nullable=False)  # 1, 2, ... within its work order
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    staff_id: Mapped[str | None] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(100), nullable=False, default="system")
    detail: Mapped[str] = mapped_column(String(1000), nullable=False, default="")


# --- schemas ---------------------------------------------------------------

Skill = Annotated[str, Field(pattern=f"^({'|'.join(SKILLS)})$")]
Priority = Annotated[str, Field(pattern=f"^({'|'.join(PRIORITIES)})$")]


class WorkOrderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    estate_id: str
    title: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=2000)] = ""
    skill: Skill = "general"
    priority: Priority = "normal"
    device_id: str | None = None
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None
    dispatch: bool = Field(True, description="立即派单 / dispatch at once")


class WorkOrderPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    description: Annotated[str, Field(max_length=2000)] | None = None
    priority: Priority | None = None


class TransitionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["in_progress", "resolved", "closed", "cancelled"]
    note: Annotated[str, Field(max_length=1000)] = ""


class DispatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    staff_id: str | None = Field(None, description="指定技师；留空则自动派单 / auto if empty")


class WorkOrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    estate_id: str
    device_id: str | None
    alarm_id: str | None
    title: str
    description: str
    skill: str
    priority: str
    status: str
    assignee_id: str | None
    latitude: float | None
    longitude: float | None
    respond_due_at: datetime
    resolve_due_at: datetime
    escalation_level: int
    assigned_at: datetime | None
    resolved_at: datetime | None
    created_at: datetime


class WorkOrderEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    seq: int
    at: datetime
    kind: str
    from_status: str | None
    to_status: str | None
    staff_id: str | None
    actor: str
    detail: str
