"""The cheap request path of a tenant-scoped list: what it must still guarantee.

One thread crossing and one transaction per request: the token's state is read in
the route's own transaction (so revocation takes effect on the very next request),
reusable statements are restricted per tenant, plain-row reads fail closed, and the
page answered in one pass is byte for byte what ``response_model`` would produce.
"""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, select

from tests.factories import make_tenant, make_unit
from wuye.federation import service as tenants_service
from wuye.federation import tokens
from wuye.federation.models import OAuthToken
from wuye.platform.db import Database, Scope, TenantViolation, plain_rows, reusable
from wuye.platform.deps import Context
from wuye.platform.estates.models import Unit, UnitOut
from wuye.platform.listing import ListParams, Page, page_response, paginate

UNIT_SORT = frozenset({"number", "floor", "floor_area_m2", "created_at"})


def _units_of(database: Database, tenant_id: str, count: int) -> set[str]:
    with database.transaction(Scope.tenant(tenant_id)) as session:
        return {make_unit(session, number=f"{n + 1:03d}").id for n in range(count)}


def _jti(database: Database) -> str:
    with database.transaction(Scope.for_host()) as session:
        return session.scalars(
            select(OAuthToken.jti).order_by(OAuthToken.issued_at.desc()).limit(1)
        ).one()


def test_revoked_token_is_refused_on_its_very_next_request(client, database, token_for):
    tenant = make_tenant(database)
    auth = token_for(tenant, "estates:read")
    assert client.get("/api/v1/units", headers=auth).status_code == 200
    jti = _jti(database)
    with database.transaction(Scope.for_host()) as session:
        record = session.get(OAuthToken, jti)
        tokens.revoke_family(session, record.family_id)
    refused = client.get("/api/v1/units", headers=auth)
    assert refused.status_code == 401
    assert refused.json()["detail"] == "invalid access token: revoked"


def test_suspended_tenant_is_refused_on_its_very_next_request(client, database, token_for):
    tenant = make_tenant(database)
    auth = token_for(tenant, "estates:read")
    assert client.get("/api/v1/units", headers=auth).status_code == 200
    with database.transaction(Scope.for_host()) as session:
        tenants_service.suspend_tenant(session, tenant_id=tenant)
    refused = client.get("/api/v1/units", headers=auth)
    assert refused.status_code == 401
    assert refused.json()["type"] == "/problems/unauthorized"


def test_revoked_token_without_the_scope_is_still_401_not_403(client, database, token_for):
    tenant = make_tenant(database)
    auth = token_for(tenant, "devices:write")
    with database.transaction(Scope.for_host()) as session:
        tokens.revoke_family(session, session.get(OAuthToken, _jti(database)).family_id)
    assert client.get("/api/v1/units", headers=auth).status_code == 401


def test_reusable_statement_is_restricted_to_each_tenant_in_turn(database):
    a, b = make_tenant(database), make_tenant(database)
    units = {a: _units_of(database, a, 3), b: _units_of(database, b, 2)}
    stmt = reusable(select(Unit.id).where(Unit.floor == bindparam("floor")))
    for tenant in (a, b, a, b):
        with database.transaction(Scope.tenant(tenant)) as session:
            assert set(session.scalars(stmt, {"floor": 1})) == units[tenant]


def test_plain_rows_are_restricted_to_the_sessions_tenant(database):
    a, b = make_tenant(database), make_tenant(database)
    mine = _units_of(database, a, 2)
    _units_of(database, b, 2)
    with database.transaction(Scope.tenant(a)) as session:
        rows = plain_rows(session, select(Unit.id, Unit.tenant_id))
    assert {r.id for r in rows} == mine
    assert {r.tenant_id for r in rows} == {a}


def test_reusable_plain_rows_are_restricted_to_each_tenant_in_turn(database):
    """On SQLite a reusable statement runs by a plan compiled once, the tenant bound at
    each execution: the plan made for one tenant never answers for another."""
    a, b = make_tenant(database), make_tenant(database)
    units = {a: _units_of(database, a, 3), b: _units_of(database, b, 2)}
    stmt = reusable(select(Unit.id, Unit.tenant_id).where(Unit.floor == bindparam("floor")))
    for tenant in (a, b, a, b):
        with database.transaction(Scope.tenant(tenant)) as session:
            rows = plain_rows(session, stmt, {"floor": 1})
        assert {r[0] for r in rows} == units[tenant]
        assert {r[1] for r in rows} == {tenant}


def test_a_planned_read_gives_the_rows_the_orm_connection_gives(database):
    """Every column converted by its type as ``Connection.execute`` converts it (dates,
    decimals), whichever way the statement ran."""
    tenant = make_tenant(database)
    _units_of(database, tenant, 4)
    columns = (Unit.id, Unit.number, Unit.floor, Unit.floor_area_m2, Unit.created_at)
    stmt = reusable(select(*columns).order_by(Unit.id))
    with database.transaction(Scope.tenant(tenant)) as session:
        planned = [tuple(r) for r in plain_rows(session, stmt)]
        ordinary = [tuple(r) for r in session.execute(select(*columns).order_by(Unit.id))]
    assert planned == ordinary and len(planned) == 4
    assert [type(v) for v in planned[0]] == [type(v) for v in ordinary[0]]


def test_plain_rows_refuse_a_session_without_scope(database):
    session = database.session(Scope(tenant_id=None))
    try:
        with pytest.raises(TenantViolation):
            plain_rows(session, select(Unit.id))
    finally:
        session.close()


def test_plain_rows_refuse_a_statement_the_tenant_criteria_cannot_reach(database):
    tenant = make_tenant(database)
    with database.transaction(Scope.tenant(tenant)) as session:
        with pytest.raises(TenantViolation):
            plain_rows(session, select(Unit.__table__.c.id))


def test_page_response_is_what_the_response_model_would_serialise(database):
    tenant = make_tenant(database)
    _units_of(database, tenant, 7)
    params = ListParams(limit=5, offset=0, sort="-number")
    stmt = reusable(select(Unit))
    with database.transaction(Scope.tenant(tenant)) as session:
        fast = page_response(
            session, stmt, model=Unit, params=params, sortable=UNIT_SORT, schema=UnitOut
        )
        page = paginate(
            session, select(Unit), model=Unit, params=params, sortable=UNIT_SORT, schema=UnitOut
        )
    assert fast.body == Page[UnitOut].model_validate(page).model_dump_json().encode()
    assert page["total"] == 7


def test_a_page_past_the_end_still_counts_the_total(database):
    tenant = make_tenant(database)
    _units_of(database, tenant, 3)
    stmt = reusable(select(Unit))
    with database.transaction(Scope.tenant(tenant)) as session:
        body = page_response(
            session,
            stmt,
            model=Unit,
            params=ListParams(limit=5, offset=10),
            sortable=UNIT_SORT,
            schema=UnitOut,
        ).body
    assert Page[UnitOut].model_validate_json(body).total == 3


def test_context_refuses_its_principal_until_the_token_state_is_read(database):
    ctx = Context.unconfirmed(
        claims={"tenant_id": "t" * 32, "jti": "j"}, scopes=(), verifier=None, database=database
    )
    with pytest.raises(RuntimeError, match="token state not read"):
        _ = ctx.principal


def test_a_planned_read_binds_typed_values_as_the_orm_does(database):
    """Decimals and dates in a reusable statement's filters are converted by their column
    types before they reach the driver, as ``Connection.execute`` converts them."""
    from datetime import timedelta
    from decimal import Decimal

    tenant = make_tenant(database)
    _units_of(database, tenant, 3)
    with database.transaction(Scope.tenant(tenant)) as session:
        first = session.scalars(select(Unit).order_by(Unit.created_at)).first()
        at, area = first.created_at, first.floor_area_m2
    stmt = reusable(
        select(Unit.id).where(
            Unit.created_at >= bindparam("since"), Unit.floor_area_m2 >= bindparam("area")
        )
    )
    values = {"since": at - timedelta(seconds=1), "area": Decimal(area)}
    with database.transaction(Scope.tenant(tenant)) as session:
        planned = {r[0] for r in plain_rows(session, stmt, values)}
        ordinary = set(session.scalars(stmt, values))
    assert planned == ordinary and first.id in planned


@pytest.mark.parametrize("limit", [1, 3, 7, 8])
def test_every_page_of_a_reusable_list_counts_as_the_ordinary_list(database, limit):
    """Full pages, the last partial page, a page past the end: on SQLite the total comes
    from the page itself or from a count apart, and always agrees with the window."""
    tenant = make_tenant(database)
    _units_of(database, tenant, 7)
    stmt = reusable(select(Unit))
    for offset in range(0, 10, limit):
        params = ListParams(limit=limit, offset=offset, sort="number")
        with database.transaction(Scope.tenant(tenant)) as session:
            fast = page_response(
                session, stmt, model=Unit, params=params, sortable=UNIT_SORT, schema=UnitOut
            )
            page = paginate(
                session, select(Unit), model=Unit, params=params, sortable=UNIT_SORT,
                schema=UnitOut,
            )  # fmt: skip
        assert fast.body == Page[UnitOut].model_validate(page).model_dump_json().encode()
        assert page["total"] == 7
