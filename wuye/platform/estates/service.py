"""Estates, buildings and units: plain functions over a tenant-scoped session."""

from __future__ import annotations

import random
from collections.abc import Sequence
from decimal import Decimal
from functools import cache

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from wuye.platform.crud import apply_patch, flush_or_conflict, get_or_404
from wuye.platform.db import reusable
from wuye.platform.estates.models import (
    Building,
    BuildingIn,
    BuildingPatch,
    Estate,
    EstateIn,
    EstatePatch,
    Unit,
    UnitIn,
    UnitPatch,
)
from wuye.platform.problems import Problem


def get_estate(*, session: Session, estate_id: str) -> Estate:
    return get_or_404(session, Estate, estate_id, what="estate")


def create_estate(*, session: Session, estate_in: EstateIn) -> Estate:
    estate = Estate(**estate_in.model_dump())
    session.add(estate)
    flush_or_conflict(session, f"estate code {estate_in.code!r} already exists")
    return estate


def update_estate(*, session: Session, estate_id: str, patch: EstatePatch) -> Estate:
    estate = apply_patch(get_estate(session=session, estate_id=estate_id), patch)
    flush_or_conflict(session, "estate update conflicts with another estate")
    return estate


def delete_estate(*, session: Session, estate_id: str) -> None:
    session.delete(get_estate(session=session, estate_id=estate_id))
    session.flush()


def estates_query(*, city: str | None = None, q: str | None = None) -> Select[tuple[Estate]]:
    stmt = select(Estate)
    if city:
        stmt = stmt.where(Estate.city == city)
    if q:
        stmt = stmt.where(Estate.name.contains(q, autoescape=True))
    return stmt


def get_building(*, session: Session, building_id: str) -> Building:
    return get_or_404(session, Building, building_id, what="building")


def create_building(*, session: Session, estate_id: str, building_in: BuildingIn) -> Building:
    estate = get_estate(session=session, estate_id=estate_id)
    building = Building(estate_id=estate.id, **building_in.model_dump())
    session.add(building)
    flush_or_conflict(session, f"building {building_in.name!r} already exists in this estate")
    return building


def update_building(*, session: Session, building_id: str, patch: BuildingPatch) -> Building:
    building = apply_patch(get_building(session=session, building_id=building_id), patch)
    flush_or_conflict(session, "building name already used in this estate")
    return building


def delete_building(*, session: Session, building_id: str) -> None:
    session.delete(get_building(session=session, building_id=building_id))
    session.flush()


def buildings_query(*, estate_id: str | None = None) -> Select[tuple[Building]]:
    stmt = select(Building)
    if estate_id:
        stmt = stmt.where(Building.estate_id == estate_id)
    return stmt


def get_unit(*, session: Session, unit_id: str) -> Unit:
    return get_or_404(session, Unit, unit_id, what="unit")


def _check_floor(building: Building, floor: int) -> None:
    if floor > building.floors:
        raise Problem(
            "validation-error",
            f"floor: building {building.name!r} has {building.floors} floors",
        )


def create_unit(*, session: Session, building_id: str, unit_in: UnitIn) -> Unit:
    building = get_building(session=session, building_id=building_id)
    _check_floor(building, unit_in.floor)
    unit = Unit(estate_id=building.estate_id, building_id=building.id, **unit_in.model_dump())
    session.add(unit)
    flush_or_conflict(session, f"unit {unit_in.number!r} already exists in this building")
    return unit


def update_unit(*, session: Session, unit_id: str, patch: UnitPatch) -> Unit:
    unit = apply_patch(get_unit(session=session, unit_id=unit_id), patch)
    if patch.floor is not None:
        _check_floor(get_building(session=session, building_id=unit.building_id), unit.floor)
    flush_or_conflict(session, "unit number already used in this building")
    return unit


def delete_unit(*, session: Session, unit_id: str) -> None:
    session.delete(get_unit(session=session, unit_id=unit_id))
    session.flush()


def units_query(
    *, estate_id: str | None = None, building_id: str | None = None, usage: str | None = None
) -> tuple[Select[tuple[Unit]], dict[str, str]]:
    """Units matching the filters given: a reusable statement (one per combination of
    filters, their values bound) and the values to execute it with."""
    given = {"estate_id": estate_id, "building_id": building_id, "usage": usage}
    values = {name: value for name, value in given.items() if value}
    return _units_query(frozenset(values)), values


@cache
def _units_query(filters: frozenset[str]) -> Select[tuple[Unit]]:
    stmt = select(Unit)
    for name in ("estate_id", "building_id", "usage"):
        if name in filters:
            stmt = stmt.where(getattr(Unit, name) == bindparam(name))
    return reusable(stmt)


def create_grid(
    *,
    session: Session,
    estate_id: str,
    buildings: int,
    floors: int,
    units_per_floor: int,
    areas: Sequence[str],
    rng: random.Random,
) -> list[str]:
    """Buildings ``1幢``..``N幢`` of ``floors`` floors, units numbered by floor (101, 102,
    201, ...), each unit's area drawn from ``areas``; returns the unit ids in order.
    Demo and sandbox estates are built this way."""
    unit_ids: list[str] = []
    for b in range(1, buildings + 1):
        building = create_building(
            session=session,
            estate_id=estate_id,
            building_in=BuildingIn(name=f"{b}幢", floors=floors),
        )
        for floor in range(1, floors + 1):
            for u in range(1, units_per_floor + 1):
                unit = create_unit(
                    session=session,
                    building_id=building.id,
                    unit_in=UnitIn(
                        number=f"{floor}{u:02d}",
                        floor=floor,
                        floor_area_m2=Decimal(rng.choice(areas)),
                    ),
                )
                unit_ids.append(unit.id)
    return unit_ids
