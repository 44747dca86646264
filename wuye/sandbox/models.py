"""Sandbox tables: developers, their apps (each with a sandbox tenant and keys), rate-limit
counters shared by every worker, and the request log developers browse."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import (
    JSON,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from wuye.platform.db import Base, TenantScoped, Timestamped, new_id


class Developer(Base, Timestamped):
    """A third-party developer (第三方开发者) who signed up on the portal."""

    __tablename__ = "sandbox_developers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    email: Mapped[str] = mapped_column(String(200), default="", nullable=False)
    password_hash: Mapped[str] = mapped_column(String(200), nullable=False)


class Promotion(enum.StrEnum):
    NONE = "none"
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"


APP_CATEGORIES = {
    "services": "社区服务 / Community services",
    "ecommerce": "电子商务 / E-commerce",
    "elderly-care": "养老服务 / Elderly care",
    "parking": "停车 / Parking",
    "other": "其他 / Other",
}


class SandboxApp(Base, Timestamped):
    """A developer's app: its own sandbox tenant and keys, its limits, its promotion."""

    __tablename__ = "sandbox_apps"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    developer_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("sandbox_developers.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    category: Mapped[str] = mapped_column(String(32), nullable=False, default="other")
    #: The sandbox tenant: a tenant of its own, filled with synthetic data.
    tenant_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("tenants.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    client_id: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    seed: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    rate_per_minute: Mapped[int] = mapped_column(Integer, nullable=False, default=120)
    daily_quota: Mapped[int] = mapped_column(Integer, nullable=False, default=10_000)
    promotion: Mapped[Promotion] = mapped_column(
        Enum(Promotion, native_enum=False, length=16), default=Promotion.NONE, nullable=False
    )
    promotion_note: Mapped[str] = mapped_column(String(2000), default="", nullable=False)
    promotion_redirect_uri: Mapped[str] = mapped_column(String(2000), default="", nullable=False)
    review_reason: Mapped[str] = mapped_column(String(2000), default="", nullable=False)
    reviewed_by: Mapped[str | None] = mapped_column(String(100))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    production_client_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: The production secret, sealed until the developer has seen it once.
    production_secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)


class RateCounter(Base):
    """Requests of one client in one fixed window (``m:<minute>`` or ``d:<day>``), in the
    database so that every uvicorn worker counts against the same limit."""

    __tablename__ = "sandbox_rate_counters"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    window: Mapped[str] = mapped_column(String(24), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class RequestLog(Base, TenantScoped, Timestamped):
    """One API request of an app: what a developer needs to debug, never a secret."""

    __tablename__ = "sandbox_request_log"
    __table_args__ = (Index("ix_sandbox_request_log_client_created", "client_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(String(64), nullable=False)
    method: Mapped[str] = mapped_column(String(8), nullable=False)
    path: Mapped[str] = mapped_column(String(500), nullable=False)
    status: Mapped[int] = mapped_column(Integer, nullable=False)
    latency_ms: Mapped[int] = mapped_column(Integer, nullable=False)
    request_body: Mapped[str] = mapped_column(Text, default="", nullable=False)
    response_body: Mapped[str] = mapped_column(Text, default="", nullable=False)


class VoteKit(Base, TenantScoped, Timestamped):
    """What the sandbox plays for a vote it seeded: the simulated owners' voting
    credentials and the simulated trustees' key shares, sealed under the platform secret.

    On the platform these never exist in one place (owners keep their credentials,
    trustees their shares); in a sandbox they let a developer cast as the synthetic
    owners and have the vote decrypted, to try a whole vote's life."""

    __tablename__ = "sandbox_vote_kits"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    election_id: Mapped[str] = mapped_column(
        ForeignKey("vote_elections.id", ondelete="CASCADE"), unique=True, nullable=False
    )
    secrets_sealed: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


# --- schemas ---------------------------------------------------------------------------


class RequestLogOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    client_id: str
    method: str
    path: str
    status: int
    latency_ms: int
    request_body: str
    response_body: str
    created_at: datetime


class SimulatedCredentialOut(BaseModel):
    """A synthetic owner's voting credential, as the sandbox's credential letter gives it."""

    unit_id: str
    owner_id: str
    public_key: str
    private_key: str
    voted: bool


class SimulatedBallotIn(BaseModel):
    """A ballot the sandbox casts as the unit's synthetic owner, from their own device."""

    model_config = ConfigDict(extra="forbid")

    unit_id: str
    choice: Annotated[str, Field(pattern="^(agree|oppose|abstain)$")]


class ResetOut(BaseModel):
    tenant_id: str
    counts: dict[str, int]


class SandboxAppOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    category: str
    tenant_id: str
    client_id: str
    promotion: Promotion
    promotion_note: str
    promotion_redirect_uri: str
    production_client_id: str | None
    created_at: datetime


class PromotionReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    approve: bool
    reason: Annotated[str, Field(max_length=2000)] = ""


class MockRecord(Base):
    """State of a mock external platform (an order placed, a bill paid), in the database so
    that every uvicorn worker serving the mock sees the same."""

    __tablename__ = "sandbox_mock_records"

    platform: Mapped[str] = mapped_column(String(32), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
