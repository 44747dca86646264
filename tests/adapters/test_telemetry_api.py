"""Telemetry over HTTP: latest values, downsampled history, thresholds, peaks and troughs."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.adapters.conftest import message
from wuye.adapters.devices.models import Device
from wuye.adapters.telemetry.models import Reading
from wuye.adapters.thresholds import DAY_MS, HOUR_MS, LOCAL_OFFSET_MS, now_ms
from wuye.platform.db import Scope


@pytest.fixture
def auth(token_for, tenant):
    return token_for(tenant)


def _device_id(database, tenant, code):
    with database.transaction(Scope.tenant(tenant)) as session:
        return session.scalars(select(Device.id).where(Device.code == code)).one()


def _history(database, tenant, device_id, metric, unit, value_at, days=7, step_ms=HOUR_MS // 4):
    """Readings every ``step_ms`` over ``days`` days, ``value_at(local hour)``."""
    end = (now_ms() // HOUR_MS) * HOUR_MS
    rows = [
        {
            "tenant_id": tenant,
            "device_id": device_id,
            "metric": metric,
            "unit": unit,
            "value": float(value_at((t + LOCAL_OFFSET_MS) // HOUR_MS % 24)),
            "ts_ms": t,
        }
        for t in range(end - days * DAY_MS, end, step_ms)
    ]
    with database.transaction(Scope.tenant(tenant)) as session:
        session.execute(Reading.__table__.insert(), rows)
    return end


def test_latest_gives_the_newest_value_of_each_metric(
    client, auth, pipeline, provision, database, tenant
):
    (meter,) = provision(1, types=("water_meter",), vendors=("json",))
    t = now_ms()
    pipeline.process(
        [
            message(meter, {"flow_m3h": 1.0, "pressure_mpa": 0.3}, ts_ms=t - 2000),
            message(meter, {"flow_m3h": 2.0}, ts_ms=t - 1000),
        ]
    )
    device_id = _device_id(database, tenant, meter.code)
    r = client.get(f"/api/v1/devices/{device_id}/telemetry/latest", headers=auth)
    assert r.status_code == 200
    assert {(x["metric"], x["value"], x["ts_ms"]) for x in r.json()} == {
        ("flow_m3h", 2.0, t - 1000),
        ("pressure_mpa", 0.3, t - 2000),
    }


def test_history_is_downsampled_into_buckets_with_min_max_and_mean(
    client, auth, provision, database, tenant
):
    (meter,) = provision(1, types=("water_meter",), vendors=("json",))
    device_id = _device_id(database, tenant, meter.code)
    end = _history(database, tenant, device_id, "flow_m3h", "m3/h", lambda h: h, days=1)
    r = client.get(
        f"/api/v1/devices/{device_id}/telemetry/history",
        params={"metric": "flow_m3h", "start_ms": end - DAY_MS, "end_ms": end, "bucket_s": 3600},
        headers=auth,
    )
    assert r.status_code == 200, r.text
    points = r.json()["points"]
    assert len(points) == 24 and all(p["count"] == 4 for p in points)
    assert all(p["min"] == p["max"] == p["avg"] for p in points)
    assert r.json()["unit"] == "m3/h"


def test_history_refuses_too_many_points(client, auth, provision, database, tenant):
    (meter,) = provision(1, types=("water_meter",))
    device_id = _device_id(database, tenant, meter.code)
    r = client.get(
        f"/api/v1/devices/{device_id}/telemetry/history",
        params={"start_ms": 0, "end_ms": now_ms(), "bucket_s": 1},
        headers=auth,
    )
    assert r.status_code == 422 and "bucket_s" in r.json()["detail"]


def test_profile_finds_the_evening_peak_and_the_night_trough(
    client, auth, provision, database, tenant, estate_id
):
    meters = provision(2, types=("power_meter",), vendors=("json",))
    for meter in meters:
        device_id = _device_id(database, tenant, meter.code)
        _history(
            database,
            tenant,
            device_id,
            "power_kw",
            "kW",
            lambda h: 200 if 18 <= h <= 20 else (40 if 1 <= h <= 3 else 100),
        )
    r = client.get(
        f"/api/v1/devices/{device_id}/profile", params={"metric": "power_kw"}, headers=auth
    )
    assert r.json()["peak_hours"] == [18, 19, 20] and r.json()["trough_hours"] == [1, 2, 3]
    r = client.get(f"/api/v1/estates/{estate_id}/load-profile", headers=auth)
    body = r.json()
    assert body["hourly_mean"][19] == pytest.approx(400)  # two meters summed
    assert body["peak_to_trough"] == pytest.approx(5.0)


def test_run_schedule_runs_pumps_with_demand_and_lights_in_the_dark(
    client, auth, provision, database, tenant, estate_id
):
    pump, lamp = provision(2, types=("water_pump", "lighting"), vendors=("json",))
    _history(
        database,
        tenant,
        _device_id(database, tenant, pump.code),
        "flow_m3h",
        "m3/h",
        lambda h: 60 if 6 <= h <= 9 or 18 <= h <= 22 else 10,
    )
    _history(
        database,
        tenant,
        _device_id(database, tenant, lamp.code),
        "lux",
        "lx",
        lambda h: 500 if 7 <= h <= 17 else 5,
    )
    r = client.get(f"/api/v1/estates/{estate_id}/run-schedule", headers=auth)
    schedule = {s["device_type"]: s["run_hours"] for s in r.json()}
    assert schedule["water_pump"] == [6, 7, 8, 9, 18, 19, 20, 21, 22]
    assert schedule["lighting"] == [0, 1, 2, 3, 4, 5, 6, 18, 19, 20, 21, 22, 23]


def test_thresholds_list_static_limits_and_learn_adds_hourly_bands(
    client, auth, provision, database, tenant
):
    (pump,) = provision(1, types=("water_pump",))
    device_id = _device_id(database, tenant, pump.code)
    _history(database, tenant, device_id, "current_a", "A", lambda h: 20 + h % 3)
    before = client.get(f"/api/v1/devices/{device_id}/thresholds", headers=auth).json()
    assert {t["kind"] for t in before} == {"static"}
    r = client.post(f"/api/v1/devices/{device_id}/thresholds/learn", headers=auth)
    assert r.status_code == 200 and r.json() == {
        "device_id": device_id,
        "bands": 24,
        "metrics": ["current_a"],
    }
    after = client.get(f"/api/v1/devices/{device_id}/thresholds", headers=auth).json()
    learned = [t for t in after if t["kind"] == "learned"]
    assert len(learned) == 24 and learned[5]["median"] == 22.0


def test_alarms_are_listed_and_acknowledged_over_http_once(
    client, auth, pipeline, provision, database, tenant
):
    (meter,) = provision(1, types=("water_meter",), vendors=("json",))
    pipeline.process([message(meter, {"pressure_mpa": 0.9})])
    listed = client.get("/api/v1/alarms", params={"state": "active"}, headers=auth).json()
    (alarm,) = listed["items"]
    assert (alarm["metric"], alarm["state"], alarm["severity"]) == (
        "pressure_mpa",
        "raised",
        "major",
    )
    url = f"/api/v1/alarms/{alarm['id']}/acknowledge"
    r = client.post(url, json={"note": "已派人 / on it"}, headers=auth)
    assert r.status_code == 200 and r.json()["state"] == "acknowledged"
    assert client.post(url, json={}, headers=auth).status_code == 409
    orders = client.get(
        "/api/v1/workorders", params={"device_id": alarm["device_id"]}, headers=auth
    )
    assert [o["alarm_id"] for o in orders.json()["items"]] == [alarm["id"]]
