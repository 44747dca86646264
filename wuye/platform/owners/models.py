"""Owner and ownership tables, and the API schemas (personal data masked by default)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy import Date, Enum, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from wuye.platform.db import Base, TenantScoped, Timestamped, new_id


class OwnerKind(enum.StrEnum):
    PERSON = "person"
    ORGANISATION = "organisation"
    #: The developer (建设单位) holding unsold units: counts as one head in votes.
    DEVELOPER = "developer"


class Owner(Base, TenantScoped, Timestamped):
    """An owner (业主): a person or organisation holding one or more units."""

    __tablename__ = "owners"
    __table_args__ = (UniqueConstraint("tenant_id", "phone_index"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    kind: Mapped[OwnerKind] = mapped_column(
        Enum(OwnerKind, native_enum=False, length=16), nullable=False, default=OwnerKind.PERSON
    )
    phone_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    phone_index: Mapped[str | None] = mapped_column(String(64))
    id_number_encrypted: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: Marks fake people of sandbox and demo estates.
    synthetic: Mapped[bool] = mapped_column(default=False, nullable=False)


class Ownership(Base, TenantScoped, Timestamped):
    """That an owner holds a unit; a unit with several rows has co-owners."""

    __tablename__ = "ownerships"
    __table_args__ = (UniqueConstraint("unit_id", "owner_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    unit_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("units.id", ondelete="CASCADE"), index=True, nullable=False
    )
    owner_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("owners.id", ondelete="CASCADE"), index=True, nullable=False
    )
    since: Mapped[date | None] = mapped_column(Date)


# --- schemas ---------------------------------------------------------------

#: Mainland mobile number: 11 digits starting with 1.
Phone = Annotated[str, Field(pattern=r"^1[3-9]\d{9}$", description="手机号 / mobile number")]
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def _check_id_number(value: str) -> str:
    """GB 11643-1999: the 18th character is ISO 7064 MOD 11-2 over the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != value[17]:
        raise ValueError("check character does not match (GB 11643)")
    return value


#: Resident identity card number (GB 11643): 17 digits and a check character.
IdNumber = Annotated[
    str,
    Field(pattern=r"^\d{17}[\dX]$", description="身份证号 / ID number"),
    AfterValidator(_check_id_number),
]


class OwnerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=100)]
    kind: OwnerKind = OwnerKind.PERSON
    phone: Phone | None = None
    id_number: IdNumber | None = None


class OwnerPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    phone: Phone | None = None
    id_number: IdNumber | None = None


class OwnerOut(BaseModel):
    id: str
    name: str
    kind: OwnerKind
    phone: str | None = Field(None, description="masked unless the token has owners:pii")
    id_number: str | None = Field(None, description="masked unless the token has owners:pii")
    synthetic: bool
    unit_ids: list[str] = []
    created_at: datetime


class OwnershipIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    owner_id: str
    since: date | None = None


class OwnershipOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    unit_id: str
    owner_id: str
    since: date | None
