"""Readings, signed batches and learned thresholds; and the schemas the telemetry API speaks.

Times are milliseconds since the Unix epoch (``ts_ms``) in these tables: the
ingest writes them in bulk without conversions, and downsampling is integer
division on both SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import (
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from wuye.platform.db import Base, TenantScoped, new_id, utcnow

_BigId = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER only


class Reading(Base, TenantScoped):
    """One normalised reading: device, metric, unit, value, time."""

    __tablename__ = "readings"
    __table_args__ = (Index("ix_readings_device_metric_ts", "device_id", "metric", "ts_ms"),)

    id: Mapped[int] = mapped_column(_BigId, primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("devices.id", ondelete="CASCADE"), nullable=False
    )
    metric: Mapped[str] = mapped_column(String(32), nullable=False)
    unit: Mapped[str] = mapped_column(String(16), nullable=False)
    value: Mapped[float] = mapped_column(Float, nullable=False)
    ts_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)


class TelemetryMessage(Base, TenantScoped):
    """One accepted device message, by its sender sequence number: the ingest's idempotency key.

    A message is stored at most once, whoever receives it: a redelivery after a
    crash, or the same message reaching two ingest processes, finds its row and
    is counted as a duplicate. The replay windows in memory only pre-filter;
    this table is what every ingest process agrees on. Rows older than the
    oldest readings the ingest accepts are no longer needed (``prune_messages``).
    """

    __tablename__ = "telemetry_messages"

    device_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True
    )
    key_version: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    received_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)


class SignedBatch(Base, TenantScoped):
    """A batch the device signed with its SM2 key (操作抗抵赖): body and signature kept as sent."""

    __tablename__ = "signed_batches"
    __table_args__ = (UniqueConstraint("device_id", "key_version", "seq"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    device_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("devices.id", ondelete="CASCADE"), index=True, nullable=False
    )
    key_version: Mapped[int] = mapped_column(nullable=False)
    seq: Mapped[int] = mapped_column(BigInteger, nullable=False)
    topic: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    signature: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )


class LearnedThreshold(Base, TenantScoped):
    """A band learned from a device's own history for one metric and hour of day."""

    __tablename__ = "learned_thresholds"
    __table_args__ = (UniqueConstraint("device_id", "metric", "hour"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    device_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("devices.id", ondelete="CASCADE"), index=True, nullable=False
    )
    metric: Mapped[str] = mapped_column(String(32), nullable=False)
    hour: Mapped[int] = mapped_column(nullable=False)  # 0-23, China Standard Time
    median: Mapped[float] = mapped_column(Float, nullable=False)
    mad: Mapped[float] = mapped_column(Float, nullable=False)
    low: Mapped[float] = mapped_column(Float, nullable=False)
    high: Mapped[float] = mapped_column(Float, nullable=False)
    samples: Mapped[int] = mapped_column(nullable=False)
    computed_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )


# --- schemas ---------------------------------------------------------------


class LatestOut(BaseModel):
    metric: str
    unit: str
    value: float
    ts_ms: int


class HistoryPoint(BaseModel):
    ts_ms: int  # start of the bucket
    count: int
    min: float
    max: float
    avg: float


class HistoryOut(BaseModel):
    device_id: str
    metric: str
    unit: str
    bucket_s: int
    start_ms: int
    end_ms: int
    points: list[HistoryPoint]


class ThresholdOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    metric: str
    unit: str
    kind: str  # "static" (per device type) or "learned" (per hour of day)
    hour: int | None
    low: float | None
    high: float | None
    severity: str
    median: float | None = None
    mad: float | None = None
    samples: int | None = None


class LearnOut(BaseModel):
    device_id: str
    bands: int
    metrics: list[str]


class HourlyProfileOut(BaseModel):
    """Mean value per hour of day (China Standard Time), and its peaks and troughs (峰谷)."""

    metric: str
    unit: str
    days: int
    hourly_mean: list[float | None]
    peak_hours: list[int]
    trough_hours: list[int]
    peak_to_trough: float | None


class RunScheduleOut(BaseModel):
    """Suggested hours to run a kind of equipment, and why."""

    device_type: str
    metric: str
    run_hours: list[int]
    reason: str
    devices: list[str]
