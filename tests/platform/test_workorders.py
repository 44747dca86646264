"""Work orders: open, dispatch by distance and load, move through statuses, escalate past SLA."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import make_estate, make_tenant
from wuye.platform.db import Scope, utcnow
from wuye.platform.staff.models import StaffIn
from wuye.platform.staff.service import create_staff
from wuye.platform.workorders import dispatch, service
from wuye.platform.workorders.models import TransitionIn, WorkOrderIn

WEST_LAKE = (30.2590, 120.1388)


@pytest.fixture
def tenant(database):
    return make_tenant(database)


@pytest.fixture
def session(database, tenant):
    with database.transaction(Scope.tenant(tenant)) as s:
        yield s


def _tech(session, name, lat, lon, skills=("plumbing",), on_duty=True):
    return create_staff(
        session=session,
        staff_in=StaffIn(
            name=name, skills=list(skills), latitude=lat, longitude=lon, on_duty=on_duty
        ),
    )


def _order(session, estate, **kw):
    fields = {"estate_id": estate.id, "title": "漏水", "skill": "plumbing"} | kw
    return service.create_work_order(session=session, order_in=WorkOrderIn(**fields), actor="t")


def test_haversine_matches_a_known_distance():
    # Hangzhou West Lake to Shanghai People's Square: about 165 km.
    assert dispatch.haversine_km(*WEST_LAKE, 31.2304, 121.4737) == pytest.approx(165, abs=3)
    assert dispatch.haversine_km(*WEST_LAKE, *WEST_LAKE) == 0


def test_dispatch_picks_the_nearest_on_duty_technician_with_the_skill(session):
    estate = make_estate(session, latitude=WEST_LAKE[0], longitude=WEST_LAKE[1])
    _tech(session, "电工最近", *WEST_LAKE, skills=("electrical",))
    _tech(session, "休班最近", *WEST_LAKE, on_duty=False)
    near = _tech(session, "近", 30.262, 120.14)
    _tech(session, "远", 30.30, 120.20)
    assert _order(session, estate).assignee_id == near.id


def test_a_busy_technician_loses_to_a_slightly_farther_idle_one(session):
    estate = make_estate(session, latitude=WEST_LAKE[0], longitude=WEST_LAKE[1])
    busy = _tech(session, "忙", *WEST_LAKE)
    for _ in range(3):
        _order(session, estate)
    idle = _tech(session, "闲", 30.262, 120.14)  # ~0.3 km away
    assert _order(session, estate).assignee_id == idle.id
    assert dispatch.loads(session)[busy.id] == 3


def test_no_technician_leaves_the_order_open_with_the_reason_in_its_history(session):
    estate = make_estate(session)
    order = _order(session, estate, skill="elevator")
    events = session.scalars(service.events_query(work_order_id=order.id)).all()
    assert order.status == "open" and [e.kind for e in events] == ["created", "no_technician"]


def test_sla_follows_priority(session):
    estate = make_estate(session)
    order = _order(session, estate, priority="urgent", dispatch=False)
    created = order.created_at
    assert order.respond_due_at - created < timedelta(minutes=16)
    assert order.resolve_due_at - created < timedelta(hours=4, minutes=1)


def test_an_unstarted_order_past_its_response_time_is_escalated_and_reassigned(session):
    estate = make_estate(session, latitude=WEST_LAKE[0], longitude=WEST_LAKE[1])
    first = _tech(session, "甲", *WEST_LAKE)
    second = _tech(session, "乙", 30.27, 120.15)
    order = _order(session, estate, priority="urgent")
    assert order.assignee_id == first.id
    later = utcnow() + timedelta(minutes=20)
    assert service.escalate_overdue(session=session, now=later) == [order]
    assert (order.escalation_level, order.assignee_id) == (1, second.id)
    assert service.escalate_overdue(session=session, now=later) == []  # once per window
    kinds = [e.kind for e in session.scalars(service.events_query(work_order_id=order.id))]
    assert kinds.count("escalated") == 1 and kinds.count("assigned") == 2


def test_statuses_move_only_along_the_lifecycle(session):
    from wuye.platform.problems import Conflict

    estate = make_estate(session)
    _tech(session, "甲", 30.0, 120.0)
    order = _order(session, estate)
    with pytest.raises(Conflict):
        service.transition(
            session=session,
            work_order_id=order.id,
            transition_in=TransitionIn(status="closed"),
            actor="t",
        )
    for status in ("in_progress", "resolved", "closed"):
        service.transition(
            session=session,
            work_order_id=order.id,
            transition_in=TransitionIn(status=status),
            actor="t",
        )
    assert order.status == "closed" and order.escalate_at is None


# --- over HTTP -------------------------------------------------------------


def test_work_orders_over_http_with_their_history(client, token_for, database):
    tenant = make_tenant(database)
    auth = token_for(tenant)
    estate = client.post(
        "/api/v1/estates",
        json={"code": "W", "name": "工单小区", "latitude": 30.0, "longitude": 120.0},
        headers=auth,
    ).json()
    staff = client.post(
        "/api/v1/staff",
        json={"name": "王师傅", "skills": ["plumbing"], "latitude": 30.0, "longitude": 120.001},
        headers=auth,
    ).json()
    r = client.post(
        "/api/v1/workorders",
        json={
            "estate_id": estate["id"],
            "title": "水管爆裂",
            "skill": "plumbing",
            "priority": "urgent",
        },
        headers=auth,
    )
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["assignee_id"] == staff["id"] and order["status"] == "assigned"
    r = client.post(
        f"/api/v1/workorders/{order['id']}/transition",
        json={"status": "in_progress", "note": "已到场"},
        headers=auth,
    )
    assert r.status_code == 200 and r.json()["status"] == "in_progress"
    r = client.post(
        f"/api/v1/workorders/{order['id']}/transition", json={"status": "closed"}, headers=auth
    )
    assert r.status_code == 409 and r.json()["allowed"] == ["resolved"]
    events = client.get(f"/api/v1/workorders/{order['id']}/events", headers=auth).json()
    assert [e["kind"] for e in events["items"]] == ["created", "assigned", "status"]
    assert events["items"][-1]["detail"] == "已到场"
    listed = client.get("/api/v1/workorders", params={"status": "in_progress"}, headers=auth)
    assert [o["id"] for o in listed.json()["items"]] == [order["id"]]


def test_dispatch_to_a_named_technician_needs_the_skill(client, token_for, database):
    tenant = make_tenant(database)
    auth = token_for(tenant)
    estate = client.post("/api/v1/estates", json={"code": "W2", "name": "小区"}, headers=auth)
    staff = client.post("/api/v1/staff", json={"name": "李", "skills": ["cleaning"]}, headers=auth)
    order = client.post(
        "/api/v1/workorders",
        json={
            "estate_id": estate.json()["id"],
            "title": "灯坏",
            "skill": "electrical",
            "dispatch": False,
        },
        headers=auth,
    ).json()
    r = client.post(
        f"/api/v1/workorders/{order['id']}/dispatch",
        json={"staff_id": staff.json()["id"]},
        headers=auth,
    )
    assert r.status_code == 422 and "electrical" in r.json()["detail"]
    r = client.post(f"/api/v1/workorders/{order['id']}/dispatch", json={}, headers=auth)
    assert r.status_code == 409
