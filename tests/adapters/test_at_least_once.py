"""At least once, never twice: acknowledged to the broker only after commit, stored once.

Counted end to end: every message published is stored exactly once (its
readings, and its row in ``telemetry_messages``), whether the commit fails
and is retried, or the ingest dies between receiving and committing.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import uuid

import pytest
import sqlalchemy.exc
from sqlalchemy import func, select

from wuye.adapters import simulator
from wuye.adapters.ingest import MqttIngest, Pipeline
from wuye.adapters.mqtt import Publisher
from wuye.adapters.telemetry.models import Reading, TelemetryMessage
from wuye.platform.db import Database, Scope

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.parametrize("database", ["sqlite"], indirect=True),
]


def _stored(database, tenant) -> tuple[int, int]:
    """(messages, readings) in the database."""
    with database.transaction(Scope.tenant(tenant)) as session:
        messages = session.scalar(select(func.count()).select_from(TelemetryMessage))
        readings = session.scalar(select(func.count()).select_from(Reading))
    return messages, readings


def _publish(url, devices, count) -> int:
    publisher = Publisher(url, client_id=f"sim-{uuid.uuid4().hex[:8]}").start()
    try:
        sent = simulator.run(publisher.publish, devices, rate=0, count=count)
        while publisher.unacknowledged():
            threading.Event().wait(0.01)
    finally:
        publisher.stop()
    return sent


def _ingest(database, keyring, url, tenant, client_id, pipeline=None, batch_size=50):
    return MqttIngest(
        database,
        keyring,
        url,
        client_id=client_id,
        topic_filter=f"wuye/{tenant}/+/+/telemetry",
        batch_size=batch_size,
        interval=0.02,
        pipeline=pipeline,
    )


class FailingCommits(Pipeline):
    """A pipeline whose first ``n`` commits fail as if the database went away."""

    def __init__(self, *args, n: int = 2, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.failures_left = n

    def before_commit(self, session, batch) -> None:
        if self.failures_left > 0:
            self.failures_left -= 1
            raise sqlalchemy.exc.OperationalError("COMMIT", {}, Exception("database went away"))


def test_a_failing_commit_is_retried_and_nothing_is_lost_or_doubled(
    own_mosquitto, database, keyring, tenant, provision
):
    devices = provision(10, types=("water_meter", "elevator"))
    per_message = {d.topic: len(d.device_type.metrics) for d in devices}
    pipeline = FailingCommits(database, keyring, n=3)
    ingest = _ingest(database, keyring, own_mosquitto.url, tenant, "ingest-fail", pipeline)
    ingest.start()
    try:
        sent = _publish(own_mosquitto.url, devices, 400)
        assert ingest.wait_until(lambda: ingest.counts["stored"] >= sent, timeout=30)
    finally:
        ingest.stop()
    assert pipeline.failures_left == 0 and ingest.counts["retried"] > 0
    assert ingest.counts["stored"] == 400
    expected_readings = sum(per_message[d.topic] * d.sent for d in devices)
    assert _stored(database, tenant) == (400, expected_readings)


class DiesBeforeCommit(Pipeline):
    """Stores the first batch, then dies inside the second batch's transaction."""

    batches = 0

    def before_commit(self, session, batch) -> None:
        DiesBeforeCommit.batches += 1
        if DiesBeforeCommit.batches == 2:
            os._exit(17)  # no rollback, no acknowledgement, no goodbye


def _doomed_ingest(database_url, secret, url, tenant, client_id, ready) -> None:
    from wuye.adapters.devices.keys import keyring_for_secret

    database = Database(database_url)
    keyring = keyring_for_secret(secret)
    pipeline = DiesBeforeCommit(database, keyring)
    _ingest(database, keyring, url, tenant, client_id, pipeline).start()
    ready.set()
    threading.Event().wait(60)


def test_an_ingest_killed_between_receipt_and_commit_loses_nothing_and_doubles_nothing(
    own_mosquitto, database, settings, keyring, tenant, provision
):
    devices = provision(10, types=("water_meter", "power_meter"))
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    doomed = ctx.Process(
        target=_doomed_ingest,
        args=(
            database.url,
            settings.secret_bytes(),
            own_mosquitto.url,
            tenant,
            "ingest-doomed",
            ready,
        ),
    )
    doomed.start()
    try:
        assert ready.wait(30)
        sent = _publish(own_mosquitto.url, devices, 500)
        doomed.join(30)
    finally:
        if doomed.is_alive():
            doomed.kill()
    assert doomed.exitcode == 17
    messages_before, _ = _stored(database, tenant)
    assert 0 < messages_before < sent  # the first batch committed, the rest did not

    # The same persistent session comes back: the broker delivers what was never acknowledged.
    ingest = _ingest(database, keyring, own_mosquitto.url, tenant, "ingest-doomed").start()
    try:
        assert ingest.wait_until(lambda: _stored(database, tenant)[0] >= sent, timeout=30)
        ingest.wait_until(lambda: ingest.inbox.pending == 0, timeout=5)
    finally:
        ingest.stop()
    expected_readings = sum(len(d.device_type.metrics) * d.sent for d in devices)
    assert _stored(database, tenant) == (sent, expected_readings)
    assert ingest.counts["stored"] == sent - messages_before
