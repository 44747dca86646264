"""Alarms from thresholds: one alarm per excursion (hysteresis), work orders for severe ones."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select

from tests.adapters.conftest import message
from wuye.adapters.alarms import service as alarms
from wuye.adapters.alarms.models import AcknowledgeIn, Alarm
from wuye.adapters.devices.models import Device
from wuye.adapters.telemetry.models import LearnedThreshold, Reading
from wuye.adapters.thresholds import (
    DAY_MS,
    HOUR_MS,
    hour_of_day,
    learn_all,
    now_ms,
    robust_bands,
)
from wuye.platform.db import Scope
from wuye.platform.staff.models import StaffIn
from wuye.platform.staff.service import create_staff
from wuye.platform.workorders.models import WorkOrder, WorkOrderEvent

# water_meter pressure_mpa: static band 0.15..0.6 MPa, severity major, hysteresis 5 % of width.


def _alarms(database, tenant):
    with database.transaction(Scope.tenant(tenant)) as session:
        return session.scalars(select(Alarm).order_by(Alarm.raised_ts_ms)).all()


def _send(pipeline, device, pressures, start=None):
    start = start or now_ms() - len(pressures) * 1000
    pipeline.process(
        [
            message(device, {"pressure_mpa": p}, ts_ms=start + i * 1000)
            for i, p in enumerate(pressures)
        ]
    )


def test_a_value_hovering_at_the_limit_raises_one_alarm_not_one_per_reading(
    pipeline, provision, database, tenant
):
    (meter,) = provision(1, types=("water_meter",), vendors=("json",))
    _send(pipeline, meter, [0.35, 0.61, 0.59, 0.605, 0.598, 0.61, 0.59])
    (alarm,) = _alarms(database, tenant)
    assert (alarm.metric, alarm.kind, alarm.state, alarm.severity) == (
        "pressure_mpa",
        "static",
        "raised",
        "major",
    )
    assert pipeline.counts["alarms_raised"] == 1 and pipeline.counts["alarms_cleared"] == 0


def test_an_alarm_clears_once_the_value_is_back_by_the_hysteresis_margin(
    pipeline, provision, database, tenant
):
    (meter,) = provision(1, types=("water_meter",), vendors=("json",))
    _send(pipeline, meter, [0.65, 0.58, 0.40, 0.70])
    first, second = _alarms(database, tenant)
    assert first.state == "cleared" and first.peak_value == 0.65
    assert second.state == "raised" and second.value == 0.70


def test_an_acknowledged_alarm_still_clears_when_the_value_recovers(
    pipeline, provision, database, tenant
):
    (meter,) = provision(1, types=("water_meter",), vendors=("json",))
    _send(pipeline, meter, [0.05])
    (alarm,) = _alarms(database, tenant)
    with database.transaction(Scope.tenant(tenant)) as session:
        alarms.acknowledge(
            session=session, alarm_id=alarm.id, ack=AcknowledgeIn(note="在修"), actor="tester"
        )
    _send(pipeline, meter, [0.3])
    (alarm,) = _alarms(database, tenant)
    assert (alarm.state, alarm.acknowledged_by, alarm.note) == ("cleared", "tester", "在修")


def test_a_severe_alarm_opens_a_work_order_for_the_nearest_technician_with_the_skill(
    pipeline, provision, database, tenant, estate_id
):
    (meter,) = provision(1, types=("water_meter",), vendors=("json",))
    with database.transaction(Scope.tenant(tenant)) as session:
        near_electrician = create_staff(
            session=session,
            staff_in=StaffIn(
                name="电工", skills=["electrical"], latitude=30.2741, longitude=120.1551
            ),
        )
        near_plumber = create_staff(
            session=session,
            staff_in=StaffIn(
                name="近水工", skills=["plumbing"], latitude=30.2800, longitude=120.1600
            ),
        )
        far_plumber = create_staff(
            session=session,
            staff_in=StaffIn(name="远水工", skills=["plumbing"], latitude=30.40, longitude=120.30),
        )
        ids = near_electrician.id, near_plumber.id, far_plumber.id
    _send(pipeline, meter, [0.02])
    with database.transaction(Scope.tenant(tenant)) as session:
        (order,) = session.scalars(select(WorkOrder)).all()
        kinds = [
            e.kind for e in session.scalars(select(WorkOrderEvent).order_by(WorkOrderEvent.seq))
        ]
    (alarm,) = _alarms(database, tenant)
    assert (order.alarm_id, order.skill, order.priority) == (alarm.id, "plumbing", "high")
    assert order.assignee_id == ids[1] and order.status == "assigned"
    assert kinds == ["created", "assigned"]
    assert pipeline.counts["work_orders_opened"] == 1


def test_a_minor_alarm_opens_no_work_order(pipeline, provision, database, tenant):
    (alarm_sensor,) = provision(1, types=("fire_alarm",), vendors=("json",))
    pipeline.process([message(alarm_sensor, {"battery_pct": 10})])
    (alarm,) = _alarms(database, tenant)
    assert alarm.severity == "minor"
    with database.transaction(Scope.tenant(tenant)) as session:
        assert session.scalars(select(WorkOrder)).all() == []


def test_robust_bands_follow_each_hour_and_ignore_outliers():
    rng = np.random.default_rng(1)
    ts = np.arange(0, 14 * DAY_MS, 10 * 60_000, dtype=np.int64)
    hours = np.array([hour_of_day(int(t)) for t in ts])
    values = np.where((hours >= 18) & (hours <= 21), 100.0, 20.0) + rng.normal(0, 1, ts.size)
    values[::97] = 10_000  # rare spikes barely move median and MAD
    bands = {h: (lo, hi) for h, _m, _mad, lo, hi, _n in robust_bands(ts, values)}
    assert len(bands) == 24
    assert bands[19][0] > 90 and bands[19][1] < 110
    assert bands[3][0] > 10 and bands[3][1] < 30


def test_higher_sensitivity_narrows_the_band():
    rng = np.random.default_rng(2)
    ts = np.arange(0, 7 * DAY_MS, 5 * 60_000, dtype=np.int64)
    values = 50 + rng.normal(0, 2, ts.size)
    wide = robust_bands(ts, values, sensitivity=0.5)[0]
    narrow = robust_bands(ts, values, sensitivity=2.0)[0]
    assert narrow[4] - narrow[3] < wide[4] - wide[3]


def test_learned_thresholds_flag_a_reading_unusual_for_its_hour(
    pipeline, provision, database, tenant
):
    (pump,) = provision(1, types=("water_pump",), vendors=("json",))
    end = now_ms() - HOUR_MS
    rng = np.random.default_rng(3)
    with database.transaction(Scope.tenant(tenant)) as session:
        device_id = session.scalars(select(Device.id).where(Device.code == pump.code)).one()
        session.execute(
            Reading.__table__.insert(),
            [
                {
                    "tenant_id": tenant,
                    "device_id": device_id,
                    "metric": "current_a",
                    "unit": "A",
                    "value": float(20 + rng.normal(0, 0.5)),
                    "ts_ms": t,
                }
                for t in range(end - 7 * DAY_MS, end, 15 * 60_000)
            ],
        )
        assert learn_all(session, now=end) == 24
        assert session.scalars(select(LearnedThreshold.metric)).all() == ["current_a"] * 24
    pipeline.process([message(pump, {"current_a": 20.2}), message(pump, {"current_a": 35.0})])
    (alarm,) = _alarms(database, tenant)
    assert (alarm.kind, alarm.severity, alarm.value) == ("learned", "minor", 35.0)


def test_two_ingest_processes_raise_one_alarm_for_one_excursion_and_clear_it(
    pipeline, provision, database, tenant, keyring
):
    from wuye.adapters.ingest import Pipeline

    (meter,) = provision(1, types=("water_meter",), vendors=("json",))
    other = Pipeline(database, keyring)  # a second process, loaded before the alarm existed
    _send(other, meter, [0.35])
    _send(pipeline, meter, [0.7])
    _send(other, meter, [0.72])
    _send(other, meter, [0.35])  # back inside: the second process clears the one alarm
    (alarm,) = _alarms(database, tenant)
    assert alarm.state == "cleared"
