"""Tenant isolation in the session layer: one place, failing closed, on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text, update

from tests.factories import make_estate, make_tenant, make_unit
from wuye.platform.db import Scope, TenantViolation
from wuye.platform.estates import service
from wuye.platform.estates.models import Estate, Unit
from wuye.platform.problems import NotFound


def test_a_tenant_sees_only_its_own_estates(database):
    a, b = make_tenant(database), make_tenant(database)
    with database.transaction(Scope.tenant(a)) as s:
        make_estate(s, code="A1")
    with database.transaction(Scope.tenant(b)) as s:
        make_estate(s, code="B1")
    with database.transaction(Scope.tenant(a)) as s:
        assert [e.code for e in s.scalars(select(Estate))] == ["A1"]


def test_another_tenants_row_is_not_found_by_id(database):
    a, b = make_tenant(database), make_tenant(database)
    with database.transaction(Scope.tenant(b)) as s:
        estate_b = make_estate(s).id
    with database.transaction(Scope.tenant(a)) as s, pytest.raises(NotFound):
        service.get_estate(session=s, estate_id=estate_b)


def test_counts_in_subqueries_are_limited_to_the_tenant(database):
    a, b = make_tenant(database), make_tenant(database)
    with database.transaction(Scope.tenant(b)) as s:
        make_estate(s)
        make_estate(s)
    with database.transaction(Scope.tenant(a)) as s:
        make_estate(s)
        inner = select(Estate).subquery()
        assert s.scalar(select(func.count()).select_from(inner)) == 1


def test_bulk_update_touches_only_the_tenants_rows(database):
    a, b = make_tenant(database), make_tenant(database)
    with database.transaction(Scope.tenant(b)) as s:
        make_estate(s, city="上海")
    with database.transaction(Scope.tenant(a)) as s:
        make_estate(s, city="上海")
        s.execute(update(Estate).values(city="北京"))
    with database.transaction(Scope.for_host()) as s:
        cities = sorted(s.scalars(select(Estate.city)))
    assert cities == ["上海", "北京"]


def test_new_rows_are_stamped_with_the_sessions_tenant(database):
    a = make_tenant(database)
    with database.transaction(Scope.tenant(a)) as s:
        estate = make_estate(s)
        assert estate.tenant_id == a


def test_writing_a_row_of_another_tenant_is_refused(database):
    a, b = make_tenant(database), make_tenant(database)
    with pytest.raises(TenantViolation):
        with database.transaction(Scope.tenant(a)) as s:
            s.add(Estate(tenant_id=b, code="X", name="x"))
    with database.transaction(Scope.for_host()) as s:
        assert s.scalar(select(func.count()).select_from(Estate)) == 0


def test_a_session_without_scope_refuses_queries(database):
    session = database.session(None)  # type: ignore[arg-type]
    with pytest.raises(TenantViolation):
        session.scalars(select(Estate)).all()
    session.close()


def test_a_unit_cannot_be_added_to_another_tenants_building(database):
    a, b = make_tenant(database), make_tenant(database)
    with database.transaction(Scope.tenant(b)) as s:
        building_b = make_unit(s).building_id
    from decimal import Decimal

    from wuye.platform.estates.models import UnitIn

    with database.transaction(Scope.tenant(a)) as s, pytest.raises(NotFound):
        service.create_unit(
            session=s,
            building_id=building_b,
            unit_in=UnitIn(number="1", floor=1, floor_area_m2=Decimal("1")),
        )


@pytest.mark.postgres
def test_row_level_security_hides_other_tenants_from_raw_sql(postgres_database):
    """The second wall: even SQL that bypasses the ORM sees one tenant's rows only."""
    database = postgres_database
    from tests.conftest import _truncate

    _truncate(database)
    a, b = make_tenant(database), make_tenant(database)
    with database.transaction(Scope.tenant(a)) as s:
        make_unit(s)
    with database.transaction(Scope.tenant(b)) as s:
        make_unit(s)
    with database.engine.connect() as conn:
        conn.execute(text("DROP ROLE IF EXISTS wuye_rls_probe"))
        conn.execute(text("CREATE ROLE wuye_rls_probe NOSUPERUSER"))
        conn.execute(text("GRANT SELECT ON ALL TABLES IN SCHEMA public TO wuye_rls_probe"))
        conn.execute(text("SET ROLE wuye_rls_probe"))
        conn.execute(text("SELECT set_config('wuye.tenant_id', :t, false)"), {"t": a})
        tenants = conn.execute(text("SELECT DISTINCT tenant_id FROM units")).scalars().all()
        conn.execute(text("SELECT set_config('wuye.tenant_id', '', false)"))
        nothing = conn.execute(text("SELECT count(*) FROM units")).scalar()
        conn.execute(text("RESET ROLE"))
        conn.execute(text("REASSIGN OWNED BY wuye_rls_probe TO CURRENT_USER"))
        conn.execute(text("DROP OWNED BY wuye_rls_probe"))
        conn.execute(text("DROP ROLE wuye_rls_probe"))
        conn.commit()
    assert tenants == [a]
    assert nothing == 0
    with database.transaction(Scope.for_host()) as s:
        assert s.scalar(select(func.count()).select_from(Unit)) == 2


def test_two_tenants_querying_in_turn_each_see_their_own_rows(database):
    """The tenant filter's compiled form is cached; its tenant value never is."""
    tenants = [make_tenant(database) for _ in range(3)]
    for t in tenants:
        with database.transaction(Scope.tenant(t)) as s:
            make_estate(s, code=f"C-{t[:6]}")
    for _ in range(2):
        for t in tenants:
            with database.transaction(Scope.tenant(t)) as s:
                assert [e.code for e in s.scalars(select(Estate))] == [f"C-{t[:6]}"]
                assert s.scalar(select(func.count()).select_from(Estate)) == 1
