"""Bill and bill payment tables, and the schemas the API speaks. Money is integer fen."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import Date, DateTime, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from wuye.platform.db import Base, TenantScoped, Timestamped, new_id, utcnow

#: What a bill is for: 物业费, 水费, 电费, 燃气费, 供暖费, 停车费, 其他.
KINDS = ("property_fee", "water", "electricity", "gas", "heating", "parking", "other")
STATUSES = ("unpaid", "paid", "overdue", "cancelled")
#: Statuses in which a bill still takes payments (and may be cancelled).
OPEN_STATUSES = ("unpaid", "overdue")
#: How a payment was made; ``hpf`` is a housing provident fund (住房公积金) transfer,
#: ``external`` a payment made at the issuing system and imported with the bill.
METHODS = ("cash", "bank_transfer", "wechat", "alipay", "unionpay", "hpf", "external", "other")
#: The issuer of bills the platform (the tenant's property firm) issues itself.
PLATFORM = "platform"
#: A billing period: a year (2026), a month (2026-09), a quarter (2026-Q3) or half (2026-H2).
PERIOD_PATTERN = r"^\d{4}(-(0[1-9]|1[0-2]|Q[1-4]|H[12]))?$"


class Bill(Base, TenantScoped, Timestamped):
    """An amount a unit owes for one kind of charge over one billing period.

    ``issuer`` is the platform, or the external system the bill was imported from with
    its own reference: (tenant, issuer, external reference) is unique, so importing the
    same bill twice finds the first one instead of billing the unit again.
    """

    __tablename__ = "bills"
    __table_args__ = (
        UniqueConstraint("tenant_id", "issuer", "external_ref"),
        Index("ix_bills_unit_kind_period", "unit_id", "kind", "period"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    estate_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("estates.id", ondelete="CASCADE"), index=True, nullable=False
    )
    unit_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("units.id", ondelete="CASCADE"), index=True, nullable=False
    )
    owner_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("owners.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    period: Mapped[str] = mapped_column(String(16), nullable=False)
    amount_fen: Mapped[int] = mapped_column(nullable=False)
    paid_fen: Mapped[int] = mapped_column(nullable=False, default=0)
    due_date: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="unpaid", index=True)
    issuer: Mapped[str] = mapped_column(String(64), nullable=False, default=PLATFORM)
    external_ref: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_reason: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    #: Payments recorded so far; numbers them.
    payment_count: Mapped[int] = mapped_column(nullable=False, default=0)


class BillPayment(Base, TenantScoped):
    """One payment against a bill (a bill may be paid in several parts)."""

    __tablename__ = "bill_payments"
    __table_args__ = (UniqueConstraint("bill_id", "reference"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    bill_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("bills.id", ondelete="CASCADE"), index=True, nullable=False
    )
    seq: Mapped[int] = mapped_column(nullable=False)  # 1, 2, ... within its bill
    amount_fen: Mapped[int] = mapped_column(nullable=False)
    method: Mapped[str] = mapped_column(String(32), nullable=False)
    #: The payment's own reference (a bank or channel transaction number): one per bill.
    reference: Mapped[str | None] = mapped_column(String(200))
    paid_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(100), nullable=False, default="system")
    recorded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False
    )


# --- schemas ---------------------------------------------------------------

Kind = Annotated[str, Field(pattern=f"^({'|'.join(KINDS)})$", description="账单类型 / kind")]
Period = Annotated[
    str, Field(pattern=PERIOD_PATTERN, description="账期 / billing period: 2026, 2026-09, 2026-Q3")
]
Fen = Annotated[int, Field(ge=1, le=10**12, description="金额（分） / amount in fen")]
Issuer = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$",
        description="开票方：platform 或外部系统名 / the platform or an external system",
    ),
]
Method = Annotated[str, Field(pattern=f"^({'|'.join(METHODS)})$")]


class BillIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit_id: str
    owner_id: str | None = Field(
        None, description="缴费业主；留空则取房屋唯一业主 / defaults to the unit's sole owner"
    )
    kind: Kind
    period: Period
    amount_fen: Fen
    due_date: date
    issuer: Issuer = PLATFORM
    external_ref: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        None, description="外部系统的账单号 / the issuer's own bill reference"
    )
    description: Annotated[str, Field(max_length=500)] = ""
    paid_externally: bool = Field(
        False, description="已在开票方缴清，记为一笔付款 / already paid at the issuer"
    )

    @model_validator(mode="after")
    def _external_bills_carry_their_reference(self) -> BillIn:
        if self.issuer != PLATFORM and not self.external_ref:
            raise ValueError("external_ref is required for a bill of an external issuer")
        return self


class BillPaymentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount_fen: Fen
    method: Method = "other"
    reference: Annotated[str, Field(min_length=1, max_length=200)] | None = Field(
        None, description="交易流水号；同一账单不可重复 / unique per bill: a retry is refused"
    )
    paid_at: datetime | None = None


class BillCancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=1, max_length=300)]


class BillOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    estate_id: str
    unit_id: str
    owner_id: str | None
    kind: str
    period: str
    amount_fen: int
    paid_fen: int
    due_date: date
    status: Literal["unpaid", "paid", "overdue", "cancelled"]
    issuer: str
    external_ref: str | None
    description: str
    paid_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str
    created_at: datetime


class BillPaymentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    bill_id: str
    seq: int
    amount_fen: int
    method: str
    reference: str | None
    paid_at: datetime
    actor: str
    recorded_at: datetime
