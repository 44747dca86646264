"""Device table, and the schemas the devices API speaks."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field
from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from wuye.adapters.devices.types import DEVICE_TYPES
from wuye.platform.db import Base, TenantScoped, Timestamped, new_id

DEVICE_STATUSES = ("active", "disabled")
KEY_MODES = ("psk", "sm2-agreement")


class Device(Base, TenantScoped, Timestamped):
    """A device (设备) of an estate, known by its unique code (唯一识别码).

    The code is unique within its firm and appears in the device's MQTT
    topics ``wuye/{tenant}/{estate}/{code}/telemetry`` and ``.../commands``.
    Key material is stored sealed under the platform's device KEK only.
    """

    __tablename__ = "devices"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    estate_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("estates.id", ondelete="CASCADE"), index=True, nullable=False
    )
    building_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("buildings.id", ondelete="SET NULL"), index=True
    )
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    type: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    vendor: Mapped[str] = mapped_column(String(32), nullable=False, default="json")
    floor: Mapped[int | None] = mapped_column()
    latitude: Mapped[float | None] = mapped_column()
    longitude: Mapped[float | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="active")
    #: Learned thresholds: a higher sensitivity narrows the band (see thresholds.py).
    sensitivity: Mapped[float] = mapped_column(nullable=False, default=1.0)
    vendor_credentials_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    # --- keys (RFC 8613-style security context) ---
    key_mode: Mapped[str | None] = mapped_column(String(16))
    key_version: Mapped[int] = mapped_column(nullable=False, default=0)
    master_secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    public_key_hex: Mapped[str | None] = mapped_column(String(130))
    provisioned_at: Mapped[datetime | None] = mapped_column()
    #: Highest sender sequence number accepted (the replay window's right edge), -1 if none.
    rx_seq: Mapped[int] = mapped_column(BigInteger, nullable=False, default=-1)
    last_seen_ms: Mapped[int | None] = mapped_column(BigInteger)
    #: Next sender sequence number of the platform's commands to this device (its own
    #: nonce space, RFC 8613, 7.2.1); reset with the keys.
    tx_seq: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


# --- schemas ---------------------------------------------------------------

DeviceCode = Annotated[
    str,
    Field(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="唯一识别码 / unique device code (letters, digits, _ . : -)",
    ),
]
DeviceTypeName = Annotated[str, Field(pattern=f"^({'|'.join(DEVICE_TYPES)})$")]
VendorName = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_]+$")]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
Sensitivity = Annotated[float, Field(gt=0, le=10)]
Status = Literal["active", "disabled"]


class DeviceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    estate_id: str
    code: DeviceCode
    type: DeviceTypeName
    name: Annotated[str, Field(max_length=200)] = ""
    vendor: VendorName = "json"
    building_id: str | None = None
    floor: Annotated[int, Field(ge=-10, le=200)] | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    sensitivity: Sensitivity = 1.0
    vendor_credentials: dict[str, Any] | None = Field(
        None, description="厂商平台凭据，加密保存，不回显 / stored sealed, never returned"
    )


class DevicePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(max_length=200)] | None = None
    vendor: VendorName | None = None
    building_id: str | None = None
    floor: Annotated[int, Field(ge=-10, le=200)] | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None
    status: Status | None = None
    sensitivity: Sensitivity | None = None
    vendor_credentials: dict[str, Any] | None = None


class DeviceOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    estate_id: str
    code: str
    type: str
    name: str
    vendor: str
    building_id: str | None
    floor: int | None
    latitude: float | None
    longitude: float | None
    status: str
    sensitivity: float
    key_mode: str | None
    key_version: int
    public_key_hex: str | None
    provisioned_at: datetime | None
    last_seen_ms: int | None
    created_at: datetime
    tenant_id: str = Field(exclude=True)
    vendor_credentials_sealed: bytes | None = Field(None, exclude=True)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def has_vendor_credentials(self) -> bool:
        return self.vendor_credentials_sealed is not None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def telemetry_topic(self) -> str:
        return telemetry_topic(self.tenant_id, self.estate_id, self.code)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def commands_topic(self) -> str:
        return commands_topic(self.tenant_id, self.estate_id, self.code)


class ProvisionIn(BaseModel):
    """``psk``: the platform makes an SM2 key pair and an SM4 master secret and shows them once.

    ``sm2-agreement``: the device sends its static and ephemeral SM2 public keys;
    both sides derive the master secret by SM2 key agreement (GB/T 32918.3) and
    no secret crosses the wire.
    """

    model_config = ConfigDict(extra="forbid")

    mode: Literal["psk", "sm2-agreement"] = "psk"
    device_public_key: Annotated[str, Field(pattern=r"^04[0-9a-fA-F]{128}$")] | None = None
    device_ephemeral_public_key: Annotated[str, Field(pattern=r"^04[0-9a-fA-F]{128}$")] | None = (
        None
    )


class ProvisionOut(BaseModel):
    """What the device needs; secrets appear here once and are never shown again."""

    device_id: str
    code: str
    mode: str
    key_version: int
    telemetry_topic: str
    commands_topic: str
    master_secret: str | None = Field(None, description="SM4 主密钥 hex，仅显示一次 / shown once")
    device_private_key: str | None = Field(None, description="SM2 私钥 hex，仅显示一次 / once")
    device_public_key: str
    platform_public_key: str | None = None
    platform_ephemeral_public_key: str | None = None
    platform_confirmation: str | None = Field(
        None, description="S_B: the device checks it to confirm the agreed key"
    )


def telemetry_topic(tenant_id: str, estate_id: str, code: str) -> str:
    return f"wuye/{tenant_id}/{estate_id}/{code}/telemetry"


def commands_topic(tenant_id: str, estate_id: str, code: str) -> str:
    return f"wuye/{tenant_id}/{estate_id}/{code}/commands"


def command_results_topic(tenant_id: str, estate_id: str, code: str) -> str:
    """Where a device answers the commands it received."""
    return f"wuye/{tenant_id}/{estate_id}/{code}/commands/result"
