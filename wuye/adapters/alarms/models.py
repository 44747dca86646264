"""Alarm table and schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import BigInteger, DateTime, Float, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from wuye.platform.db import Base, TenantScoped, Timestamped, new_id

ALARM_STATES = ("raised", "acknowledged", "cleared")


class Alarm(Base, TenantScoped, Timestamped):
    """A limit crossed by one metric of one device, through its lifecycle.

    raised -> acknowledged (by staff) -> cleared (the value came back inside the
    limits by the hysteresis margin); an unacknowledged alarm may clear too.
    """

    __tablename__ = "alarms"
    __table_args__ = (Index("ix_alarms_device_state", "device_id", "state"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    device_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("devices.id", ondelete="CASCADE"), nullable=False
    )
    estate_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("estates.id", ondelete="CASCADE"), index=True, nullable=False
    )
    metric: Mapped[str] = mapped_column(String(32), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # static | learned
    severity: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="raised", index=True)
    low: Mapped[float | None] = mapped_column(Float)
    high: Mapped[float | None] = mapped_column(Float)
    value: Mapped[float] = mapped_column(Float, nullable=False)  # the reading that raised it
    peak_value: Mapped[float] = mapped_column(Float, nullable=False)
    raised_ts_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    acknowledged_by: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    cleared_ts_ms: Mapped[int | None] = mapped_column(BigInteger)


class AlarmOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    device_id: str
    estate_id: str
    metric: str
    kind: str
    severity: str
    state: str
    low: float | None
    high: float | None
    value: float
    peak_value: float
    raised_ts_ms: int
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    note: str
    cleared_ts_ms: int | None
    created_at: datetime


class AcknowledgeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Annotated[str, Field(max_length=500)] = ""
