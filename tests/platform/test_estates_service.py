"""Estates, buildings and units as service functions (no HTTP)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.factories import make_estate, make_tenant, make_unit
from wuye.platform.db import Scope
from wuye.platform.estates import service
from wuye.platform.estates.models import BuildingIn, Estate, EstatePatch, Unit, UnitIn, UnitPatch
from wuye.platform.problems import Conflict, Problem


def test_unit_keeps_its_floor_area_to_two_decimals(database):
    t = make_tenant(database)
    with database.transaction(Scope.tenant(t)) as s:
        unit_id = make_unit(s, area="123.45").id
    with database.transaction(Scope.tenant(t)) as s:
        assert service.get_unit(session=s, unit_id=unit_id).floor_area_m2 == Decimal("123.45")


def test_duplicate_estate_code_is_a_conflict_and_writes_nothing(database):
    t = make_tenant(database)
    with database.transaction(Scope.tenant(t)) as s:
        make_estate(s, code="E1")
    with pytest.raises(Conflict), database.transaction(Scope.tenant(t)) as s:
        make_estate(s, code="E2")
        make_estate(s, code="E1")
    with database.transaction(Scope.tenant(t)) as s:
        assert sorted(s.scalars(select(Estate.code))) == ["E1"]


def test_two_tenants_may_use_the_same_estate_code(database):
    a, b = make_tenant(database), make_tenant(database)
    for t in (a, b):
        with database.transaction(Scope.tenant(t)) as s:
            make_estate(s, code="SAME")


def test_unit_above_the_top_floor_is_rejected(database):
    t = make_tenant(database)
    with database.transaction(Scope.tenant(t)) as s:
        estate = make_estate(s)
        building = service.create_building(
            session=s, estate_id=estate.id, building_in=BuildingIn(name="1号楼", floors=6)
        )
        with pytest.raises(Problem, match="6 floors"):
            service.create_unit(
                session=s,
                building_id=building.id,
                unit_in=UnitIn(number="701", floor=7, floor_area_m2=Decimal("90")),
            )


def test_patch_changes_only_the_fields_sent(database):
    t = make_tenant(database)
    with database.transaction(Scope.tenant(t)) as s:
        estate = make_estate(s, city="杭州", district="西湖区")
        service.update_estate(session=s, estate_id=estate.id, patch=EstatePatch(name="新名字"))
        assert (estate.name, estate.city, estate.district) == ("新名字", "杭州", "西湖区")


def test_patching_a_unit_above_the_top_floor_is_rejected(database):
    t = make_tenant(database)
    with database.transaction(Scope.tenant(t)) as s:
        unit = make_unit(s)
        with pytest.raises(Problem, match="floors"):
            service.update_unit(session=s, unit_id=unit.id, patch=UnitPatch(floor=99))


def test_deleting_an_estate_removes_its_buildings_and_units(database):
    t = make_tenant(database)
    with database.transaction(Scope.tenant(t)) as s:
        unit = make_unit(s)
    with database.transaction(Scope.tenant(t)) as s:
        service.delete_estate(session=s, estate_id=unit.estate_id)
    with database.transaction(Scope.tenant(t)) as s:
        assert s.scalar(select(func.count()).select_from(Unit)) == 0
