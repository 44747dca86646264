"""Telemetry over real brokers: Mosquitto, the embedded broker, and a broker restart mid-stream."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
from sqlalchemy import func, select

from tests.adapters.conftest import free_port
from wuye.adapters import simulator
from wuye.adapters.broker import EmbeddedBroker
from wuye.adapters.ingest import MqttIngest
from wuye.adapters.mqtt import Publisher, make_client
from wuye.adapters.telemetry.models import Reading
from wuye.platform.db import Scope

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _ingest(database, keyring, url, tenant, client_id=None):
    return MqttIngest(
        database,
        keyring,
        url,
        client_id=client_id or f"ingest-{uuid.uuid4().hex[:8]}",
        topic_filter=f"wuye/{tenant}/+/+/telemetry",
        interval=0.02,
    )


def _readings(database, tenant) -> int:
    with database.transaction(Scope.tenant(tenant)) as session:
        return session.scalar(select(func.count()).select_from(Reading))


def _forget_session(url, client_id):
    """Remove a persistent session from a shared broker when the test is done."""
    from wuye.adapters.mqtt import broker_address

    client = make_client(client_id, persistent=False)
    client.connect(*broker_address(url))
    client.disconnect()


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_simulated_devices_through_mosquitto_are_all_stored(
    system_mosquitto, database, keyring, tenant, provision
):
    devices = provision(20, vendors=("compact", "json", "modbus"))
    expected_readings = sum(len(d.device_type.metrics) for d in devices) * 10
    client_id = f"ingest-{uuid.uuid4().hex[:8]}"
    ingest = _ingest(database, keyring, system_mosquitto, tenant, client_id).start()
    publisher = Publisher(system_mosquitto, client_id=f"sim-{uuid.uuid4().hex[:8]}").start()
    try:
        sent = simulator.run(publisher.publish, devices, rate=0, count=200)
        assert ingest.wait_until(lambda: ingest.counts["stored"] >= sent, timeout=20)
    finally:
        publisher.stop()
        ingest.stop()
        _forget_session(system_mosquitto, client_id)
    assert ingest.counts["stored"] == 200
    assert _readings(database, tenant) == expected_readings


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_embedded_broker_carries_protected_telemetry(database, keyring, tenant, provision):
    broker = EmbeddedBroker(port=free_port()).start()
    devices = provision(5, types=("elevator", "water_meter"))
    ingest = _ingest(database, keyring, broker.url, tenant).start()
    publisher = Publisher(broker.url, client_id="sim-embedded").start()
    try:
        simulator.run(publisher.publish, devices, rate=0, count=50)
        assert ingest.wait_until(lambda: ingest.counts["stored"] >= 50, timeout=20)
    finally:
        publisher.stop()
        ingest.stop()
        broker.stop()
    assert ingest.counts["stored"] == 50


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_broker_restart_mid_stream_loses_no_qos1_message(
    own_mosquitto, database, keyring, tenant, provision
):
    total = 3000
    devices = provision(30, types=("water_meter", "power_meter", "elevator"))
    per_message = {d.topic: len(d.device_type.metrics) for d in devices}
    ingest = _ingest(database, keyring, own_mosquitto.url, tenant, "ingest-restart").start()
    publisher = Publisher(own_mosquitto.url, client_id="sim-restart").start()
    published: list[str] = []

    def publish_all() -> None:
        def publish(topic, payload):
            publisher.publish(topic, payload)
            published.append(topic)

        simulator.run(publish, devices, rate=4000, count=total)

    thread = threading.Thread(target=publish_all)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while len(published) < total // 3 and time.monotonic() < deadline:
            time.sleep(0.01)
        stored_before = ingest.counts["stored"]
        own_mosquitto.stop()  # mid-stream: the publisher keeps going, queueing
        time.sleep(0.5)
        own_mosquitto.start()
        thread.join(30)
        assert ingest.wait_until(lambda: ingest.counts["stored"] >= total, timeout=40)
        time.sleep(0.3)  # anything duplicated by the restart would arrive now
    finally:
        publisher.stop()
        ingest.stop()
    assert 0 < stored_before < total
    assert len(published) == total
    assert ingest.subscriber.connects >= 2  # it did lose the broker, and came back
    assert ingest.counts["stored"] == total
    assert ingest.counts["failed:store"] == 0
    assert _readings(database, tenant) == sum(per_message[t] for t in published)
    rejected = {k: v for k, v in ingest.counts.items() if k.startswith("rejected:")}
    assert set(rejected) <= {"rejected:replayed"}  # redeliveries, dropped as such
