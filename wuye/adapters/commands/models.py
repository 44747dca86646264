"""The device command table, and the schemas the commands API speaks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from wuye.platform.db import Base, TenantScoped, Timestamped, new_id

#: queued -> sent -> acknowledged | failed; queued or sent -> expired.
COMMAND_STATUSES = ("queued", "sent", "acknowledged", "failed", "expired")
OPEN_STATUSES = ("queued", "sent")


class DeviceCommand(Base, TenantScoped, Timestamped):
    """A command (指令) to one device and what became of it.

    Sent protected under the platform's Sender Key of the device's security
    context with sequence number ``seq`` (the platform's own nonce space); the
    device's answer is bound to ``seq``, and accepted once.
    """

    __tablename__ = "device_commands"
    __table_args__ = (
        UniqueConstraint("device_id", "key_version", "seq"),
        Index("ix_device_commands_status", "status"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    device_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("devices.id", ondelete="CASCADE"), index=True, nullable=False
    )
    name: Mapped[str] = mapped_column(String(32), nullable=False)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False, default=dict)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="queued")
    requested_by: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    expires_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    key_version: Mapped[int | None] = mapped_column()
    seq: Mapped[int | None] = mapped_column(BigInteger)
    #: The protected message as published, to publish again unchanged after a restart.
    payload: Mapped[bytes | None] = mapped_column(LargeBinary)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(String(500))


# --- schemas ---------------------------------------------------------------

CommandName = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z_]+$")]


class CommandIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: CommandName = Field(description="指令，如 open、set_speed / command, e.g. open")
    params: dict[str, Any] = Field(default_factory=dict)
    ttl_s: Annotated[int, Field(ge=1, le=86_400)] = Field(
        60, description="有效期秒，过期未应答即失效 / seconds until it expires"
    )


class CommandOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    device_id: str
    name: str
    params: dict[str, Any]
    status: str
    requested_by: str
    expires_ms: int
    seq: int | None
    created_at: datetime
    sent_at: datetime | None
    answered_at: datetime | None
    result: dict[str, Any] | None
    error: str | None
