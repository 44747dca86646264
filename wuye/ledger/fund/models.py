"""Maintenance-fund tables (the database's mirror of the ledger) and the API's schemas.

The ledger is the source of truth (住宅专项维修资金 on the MaintenanceFund
contract); every row here that moves money names the transaction that moved it.
Money is integer fen throughout.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import (
    BigInteger,
    Boolean,
    Enum,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from wuye.platform.db import Base, TenantScoped, Timestamped, new_id


class EntryKind(enum.StrEnum):
    """What moved the fund; the first four are the contract's deposit kinds 1..4."""

    PURCHASE = "purchase"  # 首次交存
    TOP_UP = "top_up"  # 续筹
    INTEREST = "interest"  # 增值收益分配
    COMMON_INCOME = "common_income"  # 共有部分收益转入
    REPAIR_PAYMENT = "repair_payment"  # 维修支出

    @property
    def chain_kind(self) -> int:
        return CHAIN_KINDS[self]

    @property
    def inflow(self) -> bool:
        return self is not EntryKind.REPAIR_PAYMENT


CHAIN_KINDS = {
    EntryKind.PURCHASE: 1,
    EntryKind.TOP_UP: 2,
    EntryKind.INTEREST: 3,
    EntryKind.COMMON_INCOME: 4,
}
ENTRY_LABELS = {
    EntryKind.PURCHASE: ("首次交存", "first deposit"),
    EntryKind.TOP_UP: ("续筹", "top-up"),
    EntryKind.INTEREST: ("增值收益", "interest"),
    EntryKind.COMMON_INCOME: ("共有部分收益转入", "common-part income"),
    EntryKind.REPAIR_PAYMENT: ("维修支出", "repair payment"),
}


class CommonCategory(enum.StrEnum):
    """Common parts (共有部分) that earn or cost money; values are the contract's codes."""

    PARKING = "parking"  # 1 停车
    ADVERTISING = "advertising"  # 2 广告
    LEASING = "leasing"  # 3 租赁
    OTHER = "other"  # 9 其他

    @property
    def code(self) -> int:
        return {"parking": 1, "advertising": 2, "leasing": 3, "other": 9}[self.value]


COMMON_LABELS = {
    CommonCategory.PARKING: ("停车", "parking"),
    CommonCategory.ADVERTISING: ("广告", "advertising"),
    CommonCategory.LEASING: ("租赁", "leasing"),
    CommonCategory.OTHER: ("其他", "other"),
}


class ProjectStatus(enum.StrEnum):
    PROPOSED = "proposed"  # on the ledger, shares fixed, waiting for a vote
    VOTING = "voting"  # an owners' vote is running
    APPROVED = "approved"  # authorised by an approved vote
    REJECTED = "rejected"  # the vote did not approve it
    EMERGENCY = "emergency"  # emergency repair, paid before a vote
    RATIFIED = "ratified"  # emergency repair ratified by a later vote
    COMPLETED = "completed"  # paid in full


class FundCityRate(Base, TenantScoped, Timestamped):
    """A city's rule for deposits (交存标准), overriding the built-in table for a tenant."""

    __tablename__ = "fund_city_rates"
    __table_args__ = (UniqueConstraint("tenant_id", "city"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    city: Mapped[str] = mapped_column(String(64), nullable=False)
    deposit_fen_per_m2: Mapped[int] = mapped_column(Integer, nullable=False)
    #: Top up when the balance falls below this share of the first deposit (basis points).
    threshold_bp: Mapped[int] = mapped_column(Integer, nullable=False)


class FundAccount(Base, TenantScoped, Timestamped):
    """A unit's account (分户账) in its estate's fund, mirrored from the ledger."""

    __tablename__ = "fund_accounts"
    __table_args__ = (UniqueConstraint("unit_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    estate_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("estates.id", ondelete="CASCADE"), index=True, nullable=False
    )
    unit_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("units.id", ondelete="CASCADE"), nullable=False
    )
    unit_ref: Mapped[str] = mapped_column(String(64), nullable=False)
    area_hundredths: Mapped[int] = mapped_column(Integer, nullable=False)
    #: The first deposit (area × rate at purchase): the base of the top-up threshold.
    first_deposit_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    balance_fen: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    last_tx_hash: Mapped[str] = mapped_column(String(66), nullable=False, default="")
    last_block: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class FundEntry(Base, TenantScoped, Timestamped):
    """One ledger transaction that moved an estate's fund (a batch or a payment)."""

    __tablename__ = "fund_entries"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    estate_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("estates.id", ondelete="CASCADE"), index=True, nullable=False
    )
    kind: Mapped[EntryKind] = mapped_column(
        Enum(EntryKind, native_enum=False, length=24), nullable=False, index=True
    )
    period: Mapped[int] = mapped_column(Integer, nullable=False, index=True)  # yyyymm
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    units: Mapped[int] = mapped_column(Integer, nullable=False)
    estate_balance_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    memo: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    #: Batch id (credits) or payment id (repair payments) on the contract.
    chain_id: Mapped[int] = mapped_column(Integer, nullable=False)
    tx_hash: Mapped[str] = mapped_column(String(66), nullable=False, index=True)
    block_number: Mapped[int] = mapped_column(Integer, nullable=False)
    project_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("fund_projects.id", ondelete="CASCADE"), index=True
    )
    stage: Mapped[int | None] = mapped_column(Integer)
    invoice_no: Mapped[str | None] = mapped_column(String(64))
    invoice_sm3: Mapped[str | None] = mapped_column(String(64))
    payee: Mapped[str | None] = mapped_column(String(42))


class FundMovement(Base, TenantScoped):
    """One unit's part of an entry: credit (+) or debit (−), and the balance after it."""

    __tablename__ = "fund_movements"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    entry_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("fund_entries.id", ondelete="CASCADE"), index=True, nullable=False
    )
    estate_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("estates.id", ondelete="CASCADE"), index=True, nullable=False
    )
    unit_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("units.id", ondelete="CASCADE"), index=True, nullable=False
    )
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    balance_after_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    period: Mapped[int] = mapped_column(Integer, nullable=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)  # order within the entry


class FundProject(Base, TenantScoped, Timestamped):
    """A repair of a common part paid from the fund (维修项目), on the ledger."""

    __tablename__ = "fund_projects"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    estate_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("estates.id", ondelete="CASCADE"), index=True, nullable=False
    )
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    common_part: Mapped[str] = mapped_column(String(200), nullable=False)
    contractor: Mapped[str] = mapped_column(String(200), nullable=False)
    budget_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    paid_fen: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    status: Mapped[ProjectStatus] = mapped_column(
        Enum(ProjectStatus, native_enum=False, length=16), nullable=False, index=True
    )
    emergency: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    reason_sm3: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    #: JSON list of {"name", "sm3"} for the evidence files of an emergency repair.
    evidence: Mapped[str] = mapped_column(Text, nullable=False, default="[]")
    election_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("vote_elections.id", ondelete="SET NULL"), index=True
    )
    ballot_id: Mapped[int | None] = mapped_column(Integer)
    chain_project_id: Mapped[int] = mapped_column(Integer, nullable=False)
    tx_hash: Mapped[str] = mapped_column(String(66), nullable=False)
    block_number: Mapped[int] = mapped_column(Integer, nullable=False)
    authorised_tx_hash: Mapped[str] = mapped_column(String(66), nullable=False, default="")
    ratified_tx_hash: Mapped[str] = mapped_column(String(66), nullable=False, default="")


class FundProjectShare(Base, TenantScoped):
    """A sharing unit's apportioned part of a project's cost (分摊), and what it has paid."""

    __tablename__ = "fund_project_shares"
    __table_args__ = (UniqueConstraint("project_id", "unit_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    project_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("fund_projects.id", ondelete="CASCADE"), index=True, nullable=False
    )
    unit_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("units.id", ondelete="CASCADE"), index=True, nullable=False
    )
    area_hundredths: Mapped[int] = mapped_column(Integer, nullable=False)
    share_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    paid_fen: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class CommonPartRecord(Base, TenantScoped, Timestamped):
    """Income or expense of an estate's common parts (共有部分经营收支) for a period."""

    __tablename__ = "fund_common_parts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    estate_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("estates.id", ondelete="CASCADE"), index=True, nullable=False
    )
    period: Mapped[int] = mapped_column(Integer, nullable=False, index=True)
    category: Mapped[CommonCategory] = mapped_column(
        Enum(CommonCategory, native_enum=False, length=16), nullable=False
    )
    income: Mapped[bool] = mapped_column(Boolean, nullable=False)
    amount_fen: Mapped[int] = mapped_column(BigInteger, nullable=False)
    description: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    chain_id: Mapped[int] = mapped_column(Integer, nullable=False)
    tx_hash: Mapped[str] = mapped_column(String(66), nullable=False)
    block_number: Mapped[int] = mapped_column(Integer, nullable=False)


# --- schemas ---------------------------------------------------------------

Fen = Annotated[int, Field(ge=1, le=10**14, description="amount in fen (分), an integer")]
Period = Annotated[int, Field(ge=190001, le=999912, description="booking month, yyyymm")]


class CityRateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    city: Annotated[str, Field(min_length=1, max_length=64, description="城市, as estates name it")]
    deposit_fen_per_m2: Annotated[int, Field(ge=1, le=10**7, description="fen per m²")]
    threshold_bp: Annotated[
        int, Field(ge=0, le=10_000, description="top-up below this share of the first deposit")
    ] = 3000


class CityRateOut(CityRateIn):
    source: str = Field(description="tenant (configured) or default (built-in table)")


class PeriodIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    period: Period


class InterestIn(PeriodIn):
    amount_fen: Fen


class CommonPartIn(PeriodIn):
    category: CommonCategory
    income: bool = True
    amount_fen: Fen
    description: Annotated[str, Field(max_length=300)] = ""


class CommonPartOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    estate_id: str
    period: int
    category: CommonCategory
    income: bool
    amount_fen: int
    description: str
    tx_hash: str
    block_number: int


class EntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    estate_id: str
    kind: EntryKind
    period: int
    amount_fen: int
    units: int
    estate_balance_fen: int
    memo: str
    tx_hash: str
    block_number: int
    project_id: str | None
    stage: int | None
    invoice_no: str | None
    created_at: datetime


class AccountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    estate_id: str
    unit_id: str
    unit_ref: str
    area_hundredths: int
    first_deposit_fen: int
    balance_fen: int
    last_tx_hash: str
    last_block: int


class MovementOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    entry_id: str
    period: int
    amount_fen: int
    balance_after_fen: int


class ProjectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: Annotated[str, Field(min_length=1, max_length=200)]
    common_part: Annotated[str, Field(min_length=1, max_length=200, description="共有部分")]
    contractor: Annotated[str, Field(min_length=1, max_length=200, description="施工单位")]
    budget_fen: Fen
    unit_ids: Annotated[list[str], Field(min_length=1, description="units sharing the part")]


class EvidenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=200)]
    sm3: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$", description="SM3 of the file, hex")]


class EmergencyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, Field(min_length=1, max_length=2000)]
    evidence: Annotated[list[EvidenceIn], Field(min_length=1, max_length=16)]


class VoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    threshold: Annotated[int, Field(ge=1, le=15)] = 2
    trustees: Annotated[int, Field(ge=1, le=15)] = 3
    credential_endorsements: Annotated[int, Field(ge=0, le=15)] = Field(
        0,
        description="开始投票前须为投票凭证名单背书的计票监督人数 / trustees who must endorse "
        "the credential list before the vote opens",
    )


class PaymentIn(PeriodIn):
    amount_fen: Fen
    invoice_no: Annotated[str, Field(min_length=1, max_length=64)]
    invoice_sm3: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    payee: Annotated[str, Field(pattern=r"^0x[0-9a-fA-F]{40}$", description="contractor account")]


class ShareOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    unit_id: str
    area_hundredths: int
    share_fen: int
    paid_fen: int


class ProjectOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    estate_id: str
    title: str
    common_part: str
    contractor: str
    budget_fen: int
    paid_fen: int
    status: ProjectStatus
    emergency: bool
    reason: str
    reason_sm3: str
    election_id: str | None
    ballot_id: int | None
    chain_project_id: int
    tx_hash: str
    authorised_tx_hash: str
    ratified_tx_hash: str
    created_at: datetime
