"""Several ingest processes share one MQTT shared subscription; each message is stored once."""

from __future__ import annotations

import time
import uuid

import pytest
from sqlalchemy import func, select

from wuye.adapters import simulator
from wuye.adapters.mqtt import Publisher
from wuye.adapters.schedule import IngestProcesses
from wuye.adapters.telemetry.models import Reading, TelemetryMessage
from wuye.platform.db import Scope

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.parametrize("database", ["sqlite"], indirect=True),
]


def _stored(database, tenant) -> tuple[int, int]:
    with database.transaction(Scope.tenant(tenant)) as session:
        messages = session.scalar(select(func.count()).select_from(TelemetryMessage))
        readings = session.scalar(select(func.count()).select_from(Reading))
    return messages, readings


def _wait(condition, timeout=30.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return bool(condition())


@pytest.fixture
def two_processes(own_mosquitto, database, settings, tenant):
    group = IngestProcesses(
        2,
        database_url=database.url,
        secret=settings.secret_bytes(),
        url=own_mosquitto.url,
        client_id=f"ingest-{uuid.uuid4().hex[:6]}",
        batch_size=100,
        topic_filter=f"wuye/{tenant}/+/+/telemetry",
        jobs=False,
        report_every=0.05,
    ).start()
    yield group
    group.stop()


def test_two_ingest_processes_share_the_load_and_store_each_message_once(
    own_mosquitto, database, tenant, provision, two_processes
):
    devices = provision(20, types=("water_meter", "elevator", "power_meter"))
    assert _wait(two_processes.ready)
    publisher = Publisher(own_mosquitto.url, client_id="sim-shared").start()
    try:
        sent = simulator.run(publisher.publish, devices, rate=0, count=600)
        assert _wait(lambda: publisher.unacknowledged() == 0)
    finally:
        publisher.stop()
    assert _wait(lambda: two_processes.counts()["stored"] >= sent), two_processes._latest
    per_process = [c.get("stored", 0) for c in two_processes._latest.values()]  # noqa: SLF001
    assert all(n > 0 for n in per_process) and sum(per_process) == 600
    expected_readings = sum(len(d.device_type.metrics) * d.sent for d in devices)
    assert _stored(database, tenant) == (600, expected_readings)
    assert two_processes.counts()["duplicate"] == 0


def test_a_replay_reaching_either_process_is_not_stored_again(
    own_mosquitto, database, tenant, provision, two_processes
):
    (meter,) = provision(1, types=("water_meter",))
    assert _wait(two_processes.ready)
    topic, payload = meter.message(simulator.now_ms())
    publisher = Publisher(own_mosquitto.url, client_id="sim-replay").start()
    try:
        publisher.publish(topic, payload)
        assert _wait(lambda: two_processes.counts()["stored"] == 1)
        for _ in range(4):  # round robin: both processes see the replay
            publisher.publish(topic, payload)
        counts = two_processes.counts
        assert _wait(lambda: counts()["rejected:replayed"] + counts()["duplicate"] == 4)
    finally:
        publisher.stop()
    assert _stored(database, tenant)[0] == 1
    assert two_processes.counts()["stored"] == 1
    assert all(
        c.get("rejected:replayed", 0) + c.get("duplicate", 0) > 0
        for c in two_processes._latest.values()
    )  # noqa: SLF001
