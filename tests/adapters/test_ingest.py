"""The ingest pipeline: protected messages in, readings stored, every rejection counted."""

from __future__ import annotations

import os

from sqlalchemy import func, select, update

from tests.adapters.conftest import message
from wuye.adapters import oscore
from wuye.adapters.devices import service as devices
from wuye.adapters.devices.models import Device, DevicePatch, ProvisionIn
from wuye.adapters.ingest import MAX_AGE_MS, Pipeline
from wuye.adapters.telemetry.models import Reading, SignedBatch
from wuye.adapters.thresholds import DAY_MS, now_ms
from wuye.platform.db import Scope

NORMAL = {"flow_m3h": 5.0, "pressure_mpa": 0.35}


def _stored(database, tenant) -> int:
    with database.transaction(Scope.tenant(tenant)) as session:
        return session.scalar(select(func.count()).select_from(Reading))


def test_messages_in_every_vendor_format_are_stored_as_normalised_readings(
    pipeline, provision, database, tenant
):
    meters = provision(3, types=("water_meter",), vendors=("json", "compact", "modbus"))
    pipeline.process([message(m, NORMAL, ts_ms=now_ms() - i) for i, m in enumerate(meters)])
    assert pipeline.counts["stored"] == 3
    with database.transaction(Scope.tenant(tenant)) as session:
        rows = session.execute(select(Reading.metric, Reading.unit, Reading.value)).all()
    assert (
        sorted((m, u) for m, u, _ in rows)
        == [("flow_m3h", "m3/h")] * 3 + [("pressure_mpa", "MPa")] * 3
    )
    assert all(abs(v - NORMAL[m]) < 0.01 for m, _, v in rows)


def test_every_kind_of_bad_message_is_counted_by_reason_and_never_stored(
    pipeline, provision, database, tenant, keyring
):
    meter, other = provision(2, types=("water_meter",), vendors=("json",))
    good = message(meter, NORMAL)
    forger, _ = oscore.device_contexts(os.urandom(16), meter.code, next_seq=1000)
    forged = (meter.topic, forger.protect(b'{"ts":1,"values":{}}', meter.topic))
    topic, data = message(meter, NORMAL)
    tampered = (topic, data[:-1] + bytes([data[-1] ^ 1]))
    stale_time = message(meter, NORMAL, ts_ms=now_ms() - 30 * 86_400_000)
    undecodable = (meter.topic, meter.sender.protect(b"\xff not a sample", meter.topic))
    unknown = (meter.topic.replace(meter.code, "NOPE-1"), data)
    malformed_topic = ("wuye/only/three", data)
    garbage = (meter.topic, b"\x07")
    with database.transaction(Scope.tenant(tenant)) as session:
        row = session.scalars(select(Device).where(Device.code == other.code)).one()
        devices.update_device(
            session=session, keyring=keyring, device_id=row.id, patch=DevicePatch(status="disabled")
        )
    disabled = message(other, NORMAL)
    pipeline.process(
        [
            good,
            forged,
            tampered,
            good,
            stale_time,
            undecodable,
            unknown,
            malformed_topic,
            garbage,
            disabled,
        ]
    )
    rejected = {k.split(":", 1)[1]: v for k, v in pipeline.counts.items() if ":" in k}
    assert rejected == {
        "auth_failed": 2,
        "replayed": 1,
        "stale": 1,
        "undecodable": 1,
        "unknown_device": 1,
        "malformed": 2,
        "disabled": 1,
    }
    assert pipeline.counts["stored"] == 1
    assert _stored(database, tenant) == 2


def test_a_sequence_number_left_of_the_window_is_rejected_as_stale(pipeline, provision):
    (meter,) = provision(1, types=("water_meter",))
    old = message(meter, NORMAL)
    pipeline.process([message(meter, NORMAL) for _ in range(oscore.REPLAY_WINDOW + 1)])
    pipeline.process([old])
    assert pipeline.counts["rejected:stale"] == 1


def test_a_message_replayed_after_a_restart_of_the_ingest_is_a_duplicate_not_stored_again(
    pipeline, provision, database, keyring, tenant
):
    (meter,) = provision(1, types=("water_meter",))
    first = message(meter, NORMAL)
    pipeline.process([first])
    restarted = Pipeline(database, keyring)
    restarted.process([first, message(meter, NORMAL)])
    assert restarted.counts["duplicate"] == 1
    assert restarted.counts["stored"] == 1
    assert _stored(database, tenant) == 2 * len(meter.device_type.metrics)


def test_a_message_delivered_out_of_order_after_a_restart_is_still_stored(
    pipeline, provision, database, keyring, tenant
):
    (meter,) = provision(1, types=("water_meter",))
    late, second = message(meter, NORMAL), message(meter, NORMAL)
    pipeline.process([second])
    Pipeline(database, keyring).process([late])
    assert _stored(database, tenant) == 2 * len(meter.device_type.metrics)


def test_a_reprovisioned_device_is_picked_up_and_its_old_keys_stop_working(
    pipeline, provision, database, tenant, keyring
):
    (meter,) = provision(1, types=("water_meter",))
    pipeline.process([message(meter, NORMAL)])
    with database.transaction(Scope.tenant(tenant)) as session:
        row = session.scalars(select(Device).where(Device.code == meter.code)).one()
        keys = devices.provision_device(
            session=session, keyring=keyring, device_id=row.id, provision_in=ProvisionIn()
        )
    stale_key = message(meter, NORMAL)
    meter.sender, _ = oscore.device_contexts(bytes.fromhex(keys.master_secret), meter.code)
    for state in pipeline._states.values():  # noqa: SLF001 - age the cache as time would
        state.loaded_at -= 3600
    pipeline.process([stale_key, message(meter, NORMAL)])
    assert pipeline.counts["rejected:auth_failed"] == 1
    assert pipeline.counts["stored"] == 2


def test_a_signed_batch_is_kept_with_its_signature_for_non_repudiation(
    pipeline, provision, database, tenant, keyring
):
    from wuye import crypto

    (meter,) = provision(1, types=("water_meter",))
    key = crypto.SM2PrivateKey.generate()
    with database.transaction(Scope.tenant(tenant)) as session:
        row = session.scalars(select(Device).where(Device.code == meter.code)).one()
        row.public_key_hex = key.public_key.to_hex()
    pipeline.process([message(meter, NORMAL, signer=key)])
    assert pipeline.counts["stored"] == 1
    with database.transaction(Scope.tenant(tenant)) as session:
        batch = session.scalars(select(SignedBatch)).one()
    key.public_key.verify(
        batch.signature,
        oscore.batch_signing_input(batch.topic.encode(), bytes([batch.seq]), batch.body),
    )


def test_messages_of_two_firms_are_stored_each_under_its_own_tenant(
    pipeline, provision, database, keyring, tenant
):
    from tests.factories import make_estate, make_tenant
    from wuye.adapters import simulator

    other_tenant = make_tenant(database)
    with database.transaction(Scope.tenant(other_tenant)) as session:
        other_estate = make_estate(session).id
    (mine,) = provision(1, types=("water_meter",))
    (theirs,) = simulator.provision_devices(
        database, keyring, estate_id=other_estate, count=1, types=("water_meter",)
    )
    pipeline.process([message(mine, NORMAL), message(theirs, NORMAL)])
    assert _stored(database, tenant) == 2
    assert _stored(database, other_tenant) == 2
    with database.transaction(Scope.tenant(other_tenant)) as session:
        tenants = set(session.scalars(select(Reading.tenant_id)))
    assert tenants == {other_tenant}


def test_a_replay_of_a_message_pruned_from_the_record_is_still_refused_as_stale(
    pipeline, provision, database, keyring, tenant, monkeypatch
):
    from wuye.adapters.schedule import prune_accepted_messages
    from wuye.adapters.telemetry.models import TelemetryMessage

    (meter,) = provision(1, types=("water_meter",))
    old = message(meter, NORMAL, ts_ms=now_ms() - MAX_AGE_MS + 60_000)
    pipeline.process([old])
    with database.transaction(Scope.tenant(tenant)) as session:
        session.execute(update(TelemetryMessage).values(received_ms=0))  # long ago
    assert prune_accepted_messages(database) == 1
    later = now_ms() + 2 * DAY_MS  # pruning runs only once messages are this old
    monkeypatch.setattr("wuye.adapters.ingest.now_ms", lambda: later)
    replayer = Pipeline(database, keyring)  # a fresh process, nothing recorded
    replayer.process([old])
    assert replayer.counts["rejected:stale"] == 1
    assert _stored(database, tenant) == len(meter.device_type.metrics)


def test_the_inbox_stores_a_batch_when_full_when_gathered_long_enough_or_when_the_flow_stops(
    monkeypatch,
):
    """A broker sends only so many unacknowledged messages (Mosquitto: 20 by default) and
    then waits for acknowledgements, which come after the batch commits: the inbox must
    not wait for a full batch or its whole interval once nothing more arrives."""
    import time

    from wuye.adapters import ingest

    inbox = ingest.BatchingInbox(None, batch_size=100, interval=1.0)  # type: ignore[arg-type]
    assert inbox._due() is None  # nothing waiting
    for i in range(20):
        inbox.put("t", b"x", i + 1)
    monkeypatch.setattr(ingest, "QUIET_S", 60.0)
    assert inbox._due() is None  # still arriving
    monkeypatch.setattr(ingest, "QUIET_S", 0.0)
    assert inbox._due() == "waited"  # the flow stopped
    monkeypatch.setattr(ingest, "QUIET_S", 60.0)
    inbox._first = time.monotonic() - 1.5
    assert inbox._due() == "waited"  # gathered for the whole interval
    inbox._first = time.monotonic()
    for i in range(80):
        inbox.put("t", b"x", i + 21)
    assert inbox._due() == "full"


def test_under_a_steady_flow_the_inbox_stores_full_batches_and_the_rest_when_it_stops(
    monkeypatch,
):
    """Full batches are stored as they fill; the remainder waits for its interval or the
    end of the flow - never stored in the small pieces that arrive meanwhile."""
    import threading
    import time

    from wuye.adapters import ingest

    sizes: list[int] = []
    acked: list[int] = []

    class Slow:
        def process(self, batch):
            sizes.append(len(batch))
            time.sleep(0.002)
            return []

    # A flow that never pauses (however the machine schedules the feeding thread).
    monkeypatch.setattr(ingest, "QUIET_S", 60.0)
    inbox = ingest.BatchingInbox(Slow(), batch_size=50, interval=30.0, ack=acked.extend)  # type: ignore[arg-type]
    inbox.start()
    stop = threading.Event()

    def flow():  # one message every 0.5 ms
        mid = 0
        while not stop.is_set() and mid < 1000:
            mid += 1
            inbox.put("t", b"x", mid)
            time.sleep(0.0005)

    feeder = threading.Thread(target=flow)
    feeder.start()
    feeder.join(30)
    stop.set()
    inbox.stop()
    assert sorted(acked) == list(range(1, 1001))  # everything stored, each once
    assert all(size == 50 for size in sizes[:-1]), sizes
