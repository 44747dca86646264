"""The REST API of estates, units, owners and staff, over HTTP with real tokens."""

from __future__ import annotations

import pytest

from tests.factories import make_tenant

PROBLEM = "application/problem+json"


@pytest.fixture
def tenant(database):
    return make_tenant(database)


@pytest.fixture
def auth(token_for, tenant):
    return token_for(tenant)


def _estate(client, auth, code="E1", **extra):
    body = {"code": code, "name": f"小区{code}", "city": "杭州"} | extra
    r = client.post("/api/v1/estates", json=body, headers=auth)
    assert r.status_code == 201, r.text
    return r.json()


def _unit(client, auth, estate_id, number="101", area="88.50"):
    b = client.post(
        f"/api/v1/estates/{estate_id}/buildings", json={"name": "1幢", "floors": 18}, headers=auth
    )
    assert b.status_code in (201, 409), b.text
    building_id = b.json()["id"] if b.status_code == 201 else None
    if building_id is None:
        listing = client.get(f"/api/v1/estates/{estate_id}/buildings", headers=auth).json()
        building_id = listing["items"][0]["id"]
    r = client.post(
        f"/api/v1/buildings/{building_id}/units",
        json={"number": number, "floor": 1, "floor_area_m2": area},
        headers=auth,
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_create_and_read_an_estate(client, auth):
    created = _estate(client, auth, code="XX-01", latitude=30.27, longitude=120.06)
    got = client.get(f"/api/v1/estates/{created['id']}", headers=auth)
    assert got.status_code == 200
    assert got.json()["code"] == "XX-01"


def test_a_request_without_a_token_is_401_problem(client):
    r = client.get("/api/v1/estates")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["type"] == "/problems/unauthorized"
    assert "Bearer" in r.headers["www-authenticate"]


def test_a_forged_token_is_401(client):
    r = client.get("/api/v1/estates", headers={"Authorization": "Bearer abc.def.ghi"})
    assert r.status_code == 401
    assert r.json()["type"] == "/problems/unauthorized"


def test_a_token_without_the_scope_is_403_naming_it(client, token_for, tenant):
    r = client.post(
        "/api/v1/estates",
        json={"code": "E", "name": "n"},
        headers=token_for(tenant, "estates:read"),
    )
    assert r.status_code == 403
    assert r.json()["type"] == "/problems/insufficient-scope"
    assert "estates:write" in r.json()["detail"]


def test_invalid_body_is_a_problem_naming_the_field(client, auth):
    r = client.post("/api/v1/estates", json={"code": "bad code!", "name": ""}, headers=auth)
    assert r.status_code == 422
    body = r.json()
    assert r.headers["content-type"].startswith(PROBLEM)
    assert {e["field"] for e in body["errors"]} == {"code", "name"}


def test_duplicate_code_is_409_and_the_first_estate_is_intact(client, auth):
    first = _estate(client, auth, code="DUP")
    r = client.post("/api/v1/estates", json={"code": "DUP", "name": "另一个"}, headers=auth)
    assert r.status_code == 409
    assert r.json()["type"] == "/problems/conflict"
    assert client.get(f"/api/v1/estates/{first['id']}", headers=auth).json()["name"] == "小区DUP"


def test_list_paginates_filters_and_sorts(client, auth):
    for i, city in enumerate(["杭州", "杭州", "宁波", "杭州"]):
        _estate(client, auth, code=f"E{i}", city=city)
    r = client.get("/api/v1/estates?city=杭州&limit=2&sort=-code", headers=auth)
    page = r.json()
    assert page["total"] == 3
    assert [e["code"] for e in page["items"]] == ["E3", "E1"]
    nxt = client.get("/api/v1/estates?city=杭州&limit=2&offset=2&sort=-code", headers=auth)
    assert [e["code"] for e in nxt.json()["items"]] == ["E0"]


def test_sorting_by_an_unknown_field_is_a_problem(client, auth):
    r = client.get("/api/v1/estates?sort=secret", headers=auth)
    assert r.status_code == 422
    assert "sortable" in r.json()["detail"]


def test_unit_area_round_trips_exactly(client, auth):
    unit = _unit(client, auth, _estate(client, auth)["id"], area="143.88")
    assert client.get(f"/api/v1/units/{unit['id']}", headers=auth).json()["floor_area_m2"] in (
        "143.88",
        143.88,
    )


def test_unit_area_with_three_decimals_is_rejected(client, auth):
    estate = _estate(client, auth)
    b = client.post(f"/api/v1/estates/{estate['id']}/buildings", json={"name": "1幢"}, headers=auth)
    r = client.post(
        f"/api/v1/buildings/{b.json()['id']}/units",
        json={"number": "101", "floor": 1, "floor_area_m2": "88.505"},
        headers=auth,
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "floor_area_m2"


def test_owner_phone_is_masked_without_pii_scope(client, token_for, tenant):
    writer = token_for(tenant)
    created = client.post(
        "/api/v1/owners", json={"name": "王芳", "phone": "13912345678"}, headers=writer
    ).json()
    reader = token_for(tenant, "estates:read")
    assert client.get(f"/api/v1/owners/{created['id']}", headers=reader).json()["phone"] == (
        "139****5678"
    )
    full = token_for(tenant, "estates:read", "owners:pii")
    assert client.get(f"/api/v1/owners/{created['id']}", headers=full).json()["phone"] == (
        "13912345678"
    )


def test_owner_is_found_by_exact_phone(client, auth):
    client.post("/api/v1/owners", json={"name": "甲", "phone": "13900000001"}, headers=auth)
    client.post("/api/v1/owners", json={"name": "乙", "phone": "13900000002"}, headers=auth)
    r = client.get("/api/v1/owners?phone=13900000002", headers=auth)
    assert [o["name"] for o in r.json()["items"]] == ["乙"]


def test_co_owners_of_a_unit_are_listed_by_unit(client, auth):
    unit = _unit(client, auth, _estate(client, auth)["id"])
    ids = []
    for name, phone in (("甲", "13900000011"), ("乙", "13900000012")):
        owner = client.post("/api/v1/owners", json={"name": name, "phone": phone}, headers=auth)
        ids.append(owner.json()["id"])
        r = client.post(
            f"/api/v1/units/{unit['id']}/owners", json={"owner_id": ids[-1]}, headers=auth
        )
        assert r.status_code == 201
    listed = client.get(f"/api/v1/owners?unit_id={unit['id']}", headers=auth).json()
    assert sorted(o["id"] for o in listed["items"]) == sorted(ids)
    assert all(o["unit_ids"] == [unit["id"]] for o in listed["items"])


def test_staff_with_skills_and_location(client, auth):
    estate = _estate(client, auth)
    r = client.post(
        "/api/v1/staff",
        json={
            "name": "赵师傅",
            "skills": ["elevator", "electrical", "elevator"],
            "estate_id": estate["id"],
            "latitude": 30.2,
            "longitude": 120.1,
        },
        headers=auth,
    )
    assert r.status_code == 201
    assert r.json()["skills"] == ["electrical", "elevator"]


def test_unknown_skill_is_rejected(client, auth):
    r = client.post("/api/v1/staff", json={"name": "x", "skills": ["magic"]}, headers=auth)
    assert r.status_code == 422


def test_delete_then_get_is_404(client, auth):
    estate = _estate(client, auth)
    assert client.delete(f"/api/v1/estates/{estate['id']}", headers=auth).status_code == 204
    r = client.get(f"/api/v1/estates/{estate['id']}", headers=auth)
    assert r.status_code == 404
    assert r.json()["type"] == "/problems/not-found"


def test_a_page_past_the_end_is_empty_and_still_counts(client, auth):
    for i in range(3):
        _estate(client, auth, code=f"P{i}")
    page = client.get("/api/v1/estates?offset=10", headers=auth).json()
    assert (page["items"], page["total"]) == ([], 3)
