"""Commands to devices: protected both ways, verified answers, a lifecycle; through Mosquitto."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from wuye.adapters import oscore, simulator
from wuye.adapters.commands import service
from wuye.adapters.commands.models import CommandIn, DeviceCommand
from wuye.adapters.commands.relay import CommandRelay
from wuye.adapters.devices.models import Device
from wuye.adapters.mqtt import Publisher, make_client
from wuye.adapters.thresholds import now_ms
from wuye.platform.db import Scope
from wuye.platform.problems import Problem

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _queue(database, tenant, device, name="open", params=None, ttl_s=60) -> str:
    with database.transaction(Scope.tenant(tenant)) as session:
        row = session.scalars(select(Device).where(Device.code == device.code)).one()
        command = service.create_command(
            session=session,
            device_id=row.id,
            command_in=CommandIn(name=name, params=params or {}, ttl_s=ttl_s),
            actor="test",
        )
        return command.id


def _send(database, tenant, keyring) -> list[service.Outgoing]:
    with database.transaction(Scope.tenant(tenant)) as session:
        return service.send_queued(session=session, keyring=keyring)


def _answer(database, tenant, keyring, device, reply) -> DeviceCommand:
    with database.transaction(Scope.tenant(tenant)) as session:
        return service.record_answer(
            session=session, keyring=keyring, topic=device.results_topic, payload=reply
        )


def _command(database, tenant, command_id) -> DeviceCommand:
    with database.transaction(Scope.tenant(tenant)) as session:
        return service.get_command(session=session, command_id=command_id)


@pytest.fixture
def gate(provision):
    (device,) = provision(1, types=("barrier_gate",))
    return device


# --- without a broker ------------------------------------------------------


def test_a_command_is_executed_once_and_its_verified_answer_acknowledges_it(
    database, tenant, keyring, gate
):
    command_id = _queue(database, tenant, gate)
    (outgoing,) = _send(database, tenant, keyring)
    assert _command(database, tenant, command_id).status == "sent"
    reply = gate.on_command(outgoing.payload)
    command = _answer(database, tenant, keyring, gate, reply)
    assert command.status == "acknowledged"
    assert command.result == {"state": {"gate": "open"}}
    assert gate.executed == ["open"]


def test_commands_take_the_platforms_own_sequence_numbers_in_order(database, tenant, keyring, gate):
    for _ in range(3):
        _queue(database, tenant, gate, name="ping")
    outgoing = _send(database, tenant, keyring)
    seqs = [_command(database, tenant, o.command_id).seq for o in outgoing]
    assert seqs == [0, 1, 2]


def test_a_command_unanswered_in_time_expires(database, tenant, gate):
    command_id = _queue(database, tenant, gate, ttl_s=60)
    with database.transaction(Scope.tenant(tenant)) as session:
        assert service.expire_overdue(session=session, at_ms=now_ms() + 61_000) == 1
    assert _command(database, tenant, command_id).status == "expired"


def test_an_answer_after_the_command_expired_is_refused_as_late(database, tenant, keyring, gate):
    _queue(database, tenant, gate)
    (outgoing,) = _send(database, tenant, keyring)
    reply = gate.on_command(outgoing.payload)
    with database.transaction(Scope.tenant(tenant)) as session:
        service.expire_overdue(session=session, at_ms=now_ms() + 61_000)
    with pytest.raises(oscore.Rejected) as rejected:
        _answer(database, tenant, keyring, gate, reply)
    assert rejected.value.reason == "late"


def test_the_device_refuses_a_command_past_its_expiry_and_says_so(database, tenant, keyring, gate):
    command_id = _queue(database, tenant, gate)
    (outgoing,) = _send(database, tenant, keyring)
    reply = gate.on_command(outgoing.payload, clock=lambda: now_ms() + 3_600_000)
    _answer(database, tenant, keyring, gate, reply)
    command = _command(database, tenant, command_id)
    assert (command.status, command.error) == ("failed", "expired")
    assert gate.executed == []


def test_a_tampered_answer_is_rejected_and_leaves_the_command_sent(database, tenant, keyring, gate):
    command_id = _queue(database, tenant, gate)
    (outgoing,) = _send(database, tenant, keyring)
    reply = bytearray(gate.on_command(outgoing.payload))
    reply[-1] ^= 1
    with pytest.raises(oscore.Rejected) as rejected:
        _answer(database, tenant, keyring, gate, bytes(reply))
    assert rejected.value.reason == "auth_failed"
    assert _command(database, tenant, command_id).status == "sent"


def test_a_command_the_device_type_does_not_know_is_refused_before_it_is_queued(
    database, tenant, gate
):
    with pytest.raises(Problem) as problem:
        _queue(database, tenant, gate, name="set_speed", params={"speed_pct": 50})
    assert problem.value.status == 422


def test_a_command_with_a_parameter_out_of_range_is_refused(database, tenant, provision):
    (pump,) = provision(1, types=("water_pump",))
    with pytest.raises(Problem):
        _queue(database, tenant, pump, name="set_speed", params={"speed_pct": 150})


# --- through Mosquitto -------------------------------------------------------


def _forget_session(url, client_id):
    from wuye.adapters.mqtt import broker_address

    client = make_client(client_id, persistent=False)
    client.connect(*broker_address(url))
    client.disconnect()


@pytest.fixture
def mosquitto_devices(system_mosquitto, gate):
    listener = simulator.CommandListener(
        system_mosquitto, [gate], client_id=f"dev-{uuid.uuid4().hex[:8]}"
    ).start()
    publisher = Publisher(system_mosquitto, client_id=f"attacker-{uuid.uuid4().hex[:8]}").start()
    yield listener, publisher
    publisher.stop()
    listener.stop()


@pytest.fixture
def relay(system_mosquitto, database, keyring, tenant):
    client_id = f"relay-{uuid.uuid4().hex[:8]}"
    relay = CommandRelay(
        database,
        keyring,
        system_mosquitto,
        client_id=client_id,
        results_filter=f"wuye/{tenant}/+/+/commands/result",
        interval=0.05,
    ).start()
    yield relay
    relay.stop()
    _forget_session(system_mosquitto, client_id)


def _wait(condition, timeout=10.0) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return bool(condition())


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_command_through_mosquitto_is_sent_executed_and_acknowledged(
    database, tenant, gate, mosquitto_devices, relay
):
    command_id = _queue(database, tenant, gate)
    relay.poke()
    assert _wait(lambda: _command(database, tenant, command_id).status == "acknowledged")
    assert gate.state == {"gate": "open"}
    assert relay.counts["sent"] == 1 and relay.counts["acknowledged"] == 1


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_tampered_command_through_mosquitto_is_rejected_by_the_device(
    database, tenant, keyring, gate, mosquitto_devices
):
    _listener, publisher = mosquitto_devices
    _queue(database, tenant, gate)
    (outgoing,) = _send(database, tenant, keyring)
    tampered = bytearray(outgoing.payload)
    tampered[-5] ^= 0x40
    publisher.publish(outgoing.topic, bytes(tampered))
    assert _wait(lambda: gate.counts["rejected:auth_failed"] == 1)
    publisher.publish(outgoing.topic, outgoing.payload)  # the genuine one still works
    assert _wait(lambda: gate.executed == ["open"])
    assert gate.counts["rejected:auth_failed"] == 1


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_replayed_command_through_mosquitto_is_rejected_by_the_device_and_not_run_twice(
    database, tenant, gate, mosquitto_devices, relay
):
    _listener, publisher = mosquitto_devices
    command_id = _queue(database, tenant, gate)
    relay.poke()
    assert _wait(lambda: _command(database, tenant, command_id).status == "acknowledged")
    publisher.publish(gate.commands_topic, _command(database, tenant, command_id).payload)
    assert _wait(lambda: relay.counts["rejected:replayed"] == 1)  # its cached answer, again
    assert gate.counts["rejected:replayed"] == 1
    assert gate.executed == ["open"]
    assert _command(database, tenant, command_id).status == "acknowledged"
