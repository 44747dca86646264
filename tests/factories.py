"""Factories: explicit builders for rows the tests need, one call per thing."""

from __future__ import annotations

import itertools
from decimal import Decimal

from sqlalchemy.orm import Session

from wuye.federation.models import Tenant, TenantKind, TenantStatus
from wuye.platform.db import Database, Scope
from wuye.platform.estates import service as estates
from wuye.platform.estates.models import BuildingIn, EstateIn, UnitIn

_seq = itertools.count(1)


def make_tenant(database: Database, name: str | None = None, *, kind=TenantKind.MEMBER) -> str:
    n = next(_seq)
    with database.transaction(Scope.for_host()) as session:
        tenant = Tenant(
            name=name or f"物业公司{n}",
            credit_code=f"91{n:016d}",
            kind=kind,
            status=TenantStatus.ACTIVE,
        )
        session.add(tenant)
        session.flush()
        return tenant.id


def make_estate(session: Session, code: str | None = None, **fields) -> object:
    n = next(_seq)
    data = {"code": code or f"EST{n}", "name": f"小区{n}", "city": "杭州"} | fields
    return estates.create_estate(session=session, estate_in=EstateIn(**data))


def make_unit(
    session: Session, *, estate=None, number: str = "101", area: str = "88.50", floor: int = 1
):
    estate = estate or make_estate(session)
    building = estates.create_building(
        session=session,
        estate_id=estate.id,
        building_in=BuildingIn(name=f"{next(_seq)}号楼", floors=30),
    )
    return estates.create_unit(
        session=session,
        building_id=building.id,
        unit_in=UnitIn(number=number, floor=floor, floor_area_m2=Decimal(area)),
    )
