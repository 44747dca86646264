"""Estate, building and unit tables, and the schemas the API speaks."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from wuye.platform.db import Base, TenantScoped, Timestamped, new_id


class Estate(Base, TenantScoped, Timestamped):
    """A residential estate (小区) managed by one firm."""

    __tablename__ = "estates"
    __table_args__ = (UniqueConstraint("tenant_id", "code"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    city: Mapped[str] = mapped_column(String(64), nullable=False, default="", index=True)
    district: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    address: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    latitude: Mapped[float | None] = mapped_column()
    longitude: Mapped[float | None] = mapped_column()

    buildings: Mapped[list[Building]] = relationship(
        back_populates="estate", cascade="all, delete-orphan", passive_deletes=True
    )


class Building(Base, TenantScoped, Timestamped):
    """A building (楼栋) of an estate."""

    __tablename__ = "buildings"
    __table_args__ = (UniqueConstraint("estate_id", "name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    estate_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("estates.id", ondelete="CASCADE"), index=True, nullable=False
    )
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    floors: Mapped[int] = mapped_column(nullable=False, default=1)

    estate: Mapped[Estate] = relationship(back_populates="buildings")
    units: Mapped[list[Unit]] = relationship(
        back_populates="building", cascade="all, delete-orphan", passive_deletes=True
    )


class Unit(Base, TenantScoped, Timestamped):
    """A unit (房屋) with its registered floor area, which weighs votes and fund shares."""

    __tablename__ = "units"
    __table_args__ = (
        UniqueConstraint("building_id", "number"),
        # A tenant's units in their default list order: a page reads its own rows only.
        Index("ix_units_tenant_id_id", "tenant_id", "id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    estate_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("estates.id", ondelete="CASCADE"), index=True, nullable=False
    )
    building_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("buildings.id", ondelete="CASCADE"), index=True, nullable=False
    )
    number: Mapped[str] = mapped_column(String(32), nullable=False)
    floor: Mapped[int] = mapped_column(nullable=False)
    #: Registered floor area (建筑面积) in m², two decimals.
    floor_area_m2: Mapped[Decimal] = mapped_column(Numeric(10, 2), nullable=False)
    usage: Mapped[str] = mapped_column(String(32), nullable=False, default="residential")

    building: Mapped[Building] = relationship(back_populates="units")


# --- schemas ---------------------------------------------------------------

Text200 = Annotated[str, Field(min_length=1, max_length=200)]
Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
AreaM2 = Annotated[
    Decimal,
    Field(gt=0, max_digits=10, decimal_places=2, description="建筑面积 m², two decimals"),
]
UNIT_USAGES = ("residential", "commercial", "office", "parking", "storage", "other")
Usage = Annotated[str, Field(pattern=f"^({'|'.join(UNIT_USAGES)})$")]


class EstateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
    name: Text200
    city: Annotated[str, Field(max_length=64)] = ""
    district: Annotated[str, Field(max_length=64)] = ""
    address: Annotated[str, Field(max_length=300)] = ""
    latitude: Latitude | None = None
    longitude: Longitude | None = None


class EstatePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text200 | None = None
    city: Annotated[str, Field(max_length=64)] | None = None
    district: Annotated[str, Field(max_length=64)] | None = None
    address: Annotated[str, Field(max_length=300)] | None = None
    latitude: Latitude | None = None
    longitude: Longitude | None = None


class EstateOut(EstateIn):
    model_config = ConfigDict(from_attributes=True)

    id: str
    created_at: datetime


class BuildingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=100)]
    floors: Annotated[int, Field(ge=1, le=200)] = 1


class BuildingPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    floors: Annotated[int, Field(ge=1, le=200)] | None = None


class BuildingOut(BuildingIn):
    model_config = ConfigDict(from_attributes=True)

    id: str
    estate_id: str
    created_at: datetime


class UnitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: Annotated[str, Field(min_length=1, max_length=32)]
    floor: Annotated[int, Field(ge=-10, le=200)]
    floor_area_m2: AreaM2
    usage: Usage = "residential"


class UnitPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    floor: Annotated[int, Field(ge=-10, le=200)] | None = None
    floor_area_m2: AreaM2 | None = None
    usage: Usage | None = None


class UnitOut(UnitIn):
    model_config = ConfigDict(from_attributes=True)

    id: str
    estate_id: str
    building_id: str
    created_at: datetime
