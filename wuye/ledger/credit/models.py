"""Credit rating tables (信用评价) and the schemas the API speaks.

Recorded events (complaints, residents' satisfaction ratings, regulators' penalties
and commendations) sit beside the platform's work orders; the monthly scores keep
their canonical inputs so anyone can recompute them; regulators' adjustments are
separate rows, each mirroring a ledger transaction signed by the regulator.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from wuye.platform.db import Base, TenantScoped, Timestamped, new_id, utcnow

PERIOD_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
SUBJECT_KINDS = ("firm", "staff")
ACTION_KINDS = ("penalty", "commendation")


def check_period(period: str) -> str:
    if not re.match(PERIOD_PATTERN, period):
        raise ValueError(f"period must look like 2026-10, not {period!r}")
    return period


class Complaint(Base, TenantScoped, Timestamped):
    """A resident's complaint about a firm or one of its staff (投诉), and how it ended."""

    __tablename__ = "credit_complaints"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    estate_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("estates.id", ondelete="CASCADE"), index=True, nullable=False
    )
    staff_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("staff.id", ondelete="SET NULL"), index=True
    )
    work_order_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("work_orders.id", ondelete="SET NULL")
    )
    category: Mapped[str] = mapped_column(String(32), nullable=False, default="service")
    description: Mapped[str] = mapped_column(String(2000), nullable=False, default="")
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow, index=True
    )
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: Found groundless on inquiry (经核实不成立): costs the firm nothing.
    unfounded: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    #: Whether the resident accepted the resolution (回访满意); unknown until asked.
    resident_accepted: Mapped[bool | None] = mapped_column(Boolean)
    resolution: Mapped[str] = mapped_column(String(1000), nullable=False, default="")


class SatisfactionRating(Base, TenantScoped, Timestamped):
    """A resident's 1-5 star satisfaction rating (满意度评价) of a service or a technician."""

    __tablename__ = "credit_satisfaction_ratings"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    estate_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("estates.id", ondelete="CASCADE"), index=True, nullable=False
    )
    staff_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("staff.id", ondelete="SET NULL"), index=True
    )
    work_order_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("work_orders.id", ondelete="SET NULL")
    )
    stars: Mapped[int] = mapped_column(Integer, nullable=False)
    rated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow, index=True
    )
    comment: Mapped[str] = mapped_column(String(500), nullable=False, default="")


class RegulatorAction(Base, TenantScoped, Timestamped):
    """A regulator's penalty (行政处罚/通报批评) or commendation (表彰) of a firm or its staff.

    The row belongs to the firm it concerns, so the firm sees its own record.
    """

    __tablename__ = "credit_regulator_actions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    #: penalty: 1 轻微 minor, 2 一般 general, 3 严重 serious; commendation: 1 市级, 2 省级.
    severity: Mapped[int] = mapped_column(Integer, nullable=False)
    staff_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("staff.id", ondelete="SET NULL"), index=True
    )
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    document_no: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    description: Mapped[str] = mapped_column(String(2000), nullable=False, default="")
    regulator: Mapped[str] = mapped_column(String(100), nullable=False)


class CreditScore(Base, TenantScoped, Timestamped):
    """One subject's computed score for one month, with its canonical inputs."""

    __tablename__ = "credit_scores"
    __table_args__ = (UniqueConstraint("period", "subject_ref"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    period: Mapped[str] = mapped_column(String(7), nullable=False, index=True)
    #: SM3("wuye/credit/<kind>/<id>") in hex: the subject's key on the ledger.
    subject_ref: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    subject_kind: Mapped[str] = mapped_column(String(8), nullable=False)
    #: The tenant id of a firm, the staff id of a technician.
    subject_id: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    subject_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    score: Mapped[int] = mapped_column(Integer, nullable=False)
    #: The canonical inputs document (scoring.canonical_bytes), verbatim.
    inputs: Mapped[str] = mapped_column(Text, nullable=False)
    inputs_digest: Mapped[str] = mapped_column(String(64), nullable=False)
    batch_id: Mapped[int | None] = mapped_column(Integer)
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    block_number: Mapped[int | None] = mapped_column(Integer)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CreditAdjustment(Base, TenantScoped, Timestamped):
    """A regulator's signed adjustment of a published score (监管调整), with its reason."""

    __tablename__ = "credit_adjustments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    period: Mapped[str] = mapped_column(String(7), nullable=False, index=True)
    subject_ref: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    delta: Mapped[int] = mapped_column(Integer, nullable=False)
    reason: Mapped[str] = mapped_column(String(2000), nullable=False)
    reason_digest: Mapped[str] = mapped_column(String(64), nullable=False)
    regulator: Mapped[str] = mapped_column(String(100), nullable=False)
    regulator_address: Mapped[str] = mapped_column(String(42), nullable=False)
    adjustment_id: Mapped[int] = mapped_column(Integer, nullable=False)
    tx_hash: Mapped[str] = mapped_column(String(66), nullable=False)
    block_number: Mapped[int] = mapped_column(Integer, nullable=False)


class RegulatorAccount(Base, Timestamped):
    """A regulator's ledger account (ROLE_REGULATOR), its key sealed with SM4 at rest."""

    __tablename__ = "credit_regulator_accounts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    regulator: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    address: Mapped[str] = mapped_column(String(42), nullable=False)
    key_sealed: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


# --- schemas ---------------------------------------------------------------

Period = Annotated[str, Field(pattern=PERIOD_PATTERN, examples=["2026-10"])]


class ComplaintIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    estate_id: str
    staff_id: str | None = None
    work_order_id: str | None = None
    category: Annotated[str, Field(min_length=1, max_length=32)] = "service"
    description: Annotated[str, Field(max_length=2000)] = ""
    received_at: datetime | None = Field(None, description="默认当前时间 / default now")


class ComplaintResolutionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unfounded: bool = Field(False, description="经核实不成立 / found groundless")
    resident_accepted: bool | None = Field(None, description="业主认可处理结果 / accepted")
    resolution: Annotated[str, Field(min_length=1, max_length=1000)]
    resolved_at: datetime | None = None


class ComplaintOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    estate_id: str
    staff_id: str | None
    work_order_id: str | None
    category: str
    description: str
    received_at: datetime
    resolved_at: datetime | None
    unfounded: bool
    resident_accepted: bool | None
    resolution: str


class RatingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    estate_id: str
    stars: Annotated[int, Field(ge=1, le=5)]
    staff_id: str | None = None
    work_order_id: str | None = None
    comment: Annotated[str, Field(max_length=500)] = ""
    rated_at: datetime | None = None


class RatingOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    estate_id: str
    staff_id: str | None
    work_order_id: str | None
    stars: int
    rated_at: datetime
    comment: str


class RegulatorActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant_id: str = Field(description="被处理的企业 / the firm concerned")
    staff_id: str | None = None
    kind: Literal["penalty", "commendation"]
    severity: Annotated[int, Field(ge=1, le=3)] = 1
    decided_at: datetime | None = None
    document_no: Annotated[str, Field(max_length=100)] = ""
    description: Annotated[str, Field(min_length=1, max_length=2000)]

    @field_validator("severity")
    @classmethod
    def _severity(cls, value: int, info) -> int:  # noqa: ANN001
        if info.data.get("kind") == "commendation" and value > 2:
            raise ValueError("a commendation's level is 1 (city) or 2 (province)")
        return value


class RegulatorActionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    tenant_id: str
    staff_id: str | None
    kind: str
    severity: int
    decided_at: datetime
    document_no: str
    description: str
    regulator: str


class AdjustmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: Period
    subject_ref: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    delta: Annotated[int, Field(ge=-200, le=200)]
    reason: Annotated[str, Field(min_length=4, max_length=2000)]

    @field_validator("delta")
    @classmethod
    def _nonzero(cls, value: int) -> int:
        if value == 0:
            raise ValueError("an adjustment moves the score")
        return value


class AdjustmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    period: str
    subject_ref: str
    delta: int
    reason: str
    reason_digest: str
    regulator: str
    regulator_address: str
    adjustment_id: int
    tx_hash: str
    block_number: int
    created_at: datetime


class ScoreOut(BaseModel):
    """A published monthly score: computed, the regulators' adjustments, and effective."""

    period: str
    subject_ref: str
    subject_kind: str
    subject_id: str
    subject_name: str
    computed: int
    adjustments: int
    effective: int
    grade: str
    components: dict[str, int]
    inputs_digest: str
    tx_hash: str | None
    block_number: int | None
    inputs_url: str


class ProfileOut(BaseModel):
    """A firm's credit profile: its monthly history, adjustments and its staff's latest."""

    tenant_id: str
    name: str
    history: list[ScoreOut]
    adjustments: list[AdjustmentOut]
    staff: list[ScoreOut]


class PublishOut(BaseModel):
    period: str
    computed: int
    published: int
    batches: int
    tx_hashes: list[str]
