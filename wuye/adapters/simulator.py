"""Simulated devices that publish protected telemetry exactly as real ones would.

Each simulated device is registered and provisioned like a real one, holds
its own RFC 8613-style sender context, and sends readings drawn from its
type's daily profile (peaks in the morning and evening, daylight for lux)
through its vendor format. Faults make it misbehave the way field devices do:

- ``spike``: now and then a reading several times its normal value;
- ``drift``: a slowly growing offset (a sensor losing calibration);
- ``stuck``: the same value over and over;
- ``silence``: it stops sending after a while.

Simulated devices also take commands as real ones do (:class:`CommandListener`):
they verify each command under the platform's key with their own replay
window, refuse tampered, replayed and expired ones, execute the rest once and
answer with a protected result bound to the command.
"""

from __future__ import annotations

import json
import math
import random
import threading
import time
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from wuye import crypto
from wuye.adapters import oscore
from wuye.adapters.commands import catalog
from wuye.adapters.devices import service as devices
from wuye.adapters.devices.keys import DeviceKeyring
from wuye.adapters.devices.models import DeviceIn, ProvisionIn
from wuye.adapters.devices.types import DEVICE_TYPES, DeviceType
from wuye.adapters.thresholds import LOCAL_OFFSET_MS, now_ms
from wuye.adapters.vendors import VENDORS, Sample
from wuye.platform.db import Database, Scope

FAULTS = ("spike", "drift", "stuck", "silence")
#: Vendor formats the simulator rotates through, so every decoder sees traffic.
DEFAULT_VENDORS = ("compact", "json", "modbus")


def daily_shape(metric_name: str, ts_ms: int) -> float:
    """-1..1: where the day is for this kind of quantity (local time)."""
    hour = ((ts_ms + LOCAL_OFFSET_MS) % 86_400_000) / 3_600_000
    if metric_name == "lux":
        return math.cos(2 * math.pi * (hour - 13) / 24)
    # Residential demand: an evening peak (19 h), a morning one (8 h), a night trough.
    evening = math.cos(2 * math.pi * (hour - 19) / 24)
    morning = math.exp(-((hour - 8) ** 2) / 4)
    return max(-1.0, min(1.0, 0.7 * evening + 0.5 * morning - 0.1))


@dataclass
class SimulatedDevice:
    code: str
    topic: str
    device_type: DeviceType
    vendor: str
    sender: oscore.SenderContext
    signer: crypto.SM2PrivateKey | None = None
    fault: str | None = None
    rng: random.Random = field(default_factory=random.Random)
    sent: int = 0
    _stuck: dict[str, float] | None = None
    #: The platform's commands: verified under its Sender Key, with this replay window.
    recipient: oscore.RecipientContext | None = None
    state: dict[str, Any] = field(default_factory=dict)
    executed: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    #: Answers by command sequence number, sent again if the command comes again.
    answers: OrderedDict[int, bytes] = field(default_factory=OrderedDict)

    @property
    def commands_topic(self) -> str:
        return self.topic.rsplit("/", 1)[0] + "/commands"

    @property
    def results_topic(self) -> str:
        return self.commands_topic + "/result"

    def on_command(self, payload: bytes, *, clock: Callable[[], int] = now_ms) -> bytes | None:
        """Verify, execute and answer one command; None for one refused without an answer."""
        if self.recipient is None:
            self.counts["rejected:no_keys"] += 1
            return None
        try:
            message = self.recipient.unprotect(payload, self.commands_topic)
        except oscore.Rejected as exc:
            self.counts[f"rejected:{exc.reason}"] += 1
            if exc.reason == "replayed":  # answer a retransmission again, without re-running it
                flags = payload[0] & 0x07
                cached = self.answers.get(int.from_bytes(payload[1 : 1 + flags], "big"))
                if cached is not None:
                    self.counts["answers_resent"] += 1
                    return cached
            return None
        try:
            command = json.loads(message.body)
            name, params = command["name"], command.get("params") or {}
            answer: dict[str, Any] = {"id": command["id"]}
        except (ValueError, KeyError, TypeError):
            self.counts["rejected:undecodable"] += 1
            return None
        errors = catalog.check(self.device_type.name, name, params)
        if command.get("exp", 0) < clock():
            answer |= {"ok": False, "error": "expired"}
        elif errors:
            answer |= {"ok": False, "error": "; ".join(errors)}
        else:
            self.state.update(EFFECTS.get(name, lambda _p: {})(params))
            self.executed.append(name)
            answer |= {"ok": True, "result": {"state": dict(self.state)}}
        self.counts["acknowledged" if answer["ok"] else "failed"] += 1
        reply = self.sender.protect_response(
            json.dumps(answer, separators=(",", ":")).encode(),
            self.results_topic,
            request_kid=oscore.PLATFORM_SENDER_ID,
            request_seq=message.seq,
        )
        self.answers[message.seq] = reply
        while len(self.answers) > oscore.REPLAY_WINDOW:
            self.answers.popitem(last=False)
        return reply

    def sample(self, ts_ms: int) -> Sample:
        values: dict[str, float] = {}
        for m in self.device_type.metrics:
            if m.unit in ("flag", "count"):
                values[m.name] = 0.0
                continue
            v = m.nominal * (1 + m.swing * daily_shape(m.name, ts_ms))
            v += self.rng.gauss(0, m.noise * max(abs(m.nominal), 1e-3))
            if self.fault == "spike" and self.rng.random() < 0.02:
                v *= 4
            elif self.fault == "drift":
                v += m.nominal * 0.002 * self.sent
            if m.low is not None and m.low >= 0:
                v = max(0.0, v)
            values[m.name] = v
        if self.fault == "stuck":
            self._stuck = self._stuck or values
            values = dict(self._stuck)
        return Sample(ts_ms, values)

    def silent(self, total: int | None) -> bool:
        return self.fault == "silence" and self.sent >= max(1, (total or 1000) // 10)

    def message(self, ts_ms: int) -> tuple[str, bytes]:
        """The next protected message of this device."""
        body = VENDORS[self.vendor].encode([self.sample(ts_ms)], self.device_type)
        self.sent += 1
        return self.topic, self.sender.protect(body, self.topic, signer=self.signer)


#: What a command does to a simulated device's state.
EFFECTS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "open": lambda _p: {"gate": "open"},
    "close": lambda _p: {"gate": "closed"},
    "start": lambda _p: {"running": True},
    "stop": lambda _p: {"running": False},
    "set_speed": lambda p: {"speed_pct": p["speed_pct"]},
    "reset": lambda _p: {"alarm": "normal", "sounder": "on"},
    "silence": lambda _p: {"sounder": "off"},
    "switch": lambda p: {"on": p["on"]},
    "dim": lambda p: {"level_pct": p["level_pct"]},
    "set_power_limit": lambda p: {"kw_limit": p["kw"]},
    "return_to_ground": lambda _p: {"floor": 1},
    "reboot": lambda _p: {"booted_ms": now_ms()},
    "ping": lambda _p: {},
}


class CommandListener:
    """The simulated devices' side of commands: subscribe, verify, execute, answer over MQTT."""

    def __init__(self, url: str, devices: list[SimulatedDevice], *, client_id: str) -> None:
        from wuye.adapters.mqtt import QOS, broker_address, make_client

        self._qos = QOS
        self.host, self.port = broker_address(url)
        self.devices = {d.commands_topic: d for d in devices}
        self.client = make_client(client_id, persistent=False)
        self.ready = threading.Event()
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_a: self.ready.set()
        self.client.on_message = self._on_message

    def _on_connect(self, client, _userdata, _flags, reason_code, _properties) -> None:  # noqa: ANN001
        if not reason_code.is_failure:
            client.subscribe([(topic, self._qos) for topic in self.devices])

    def _on_message(self, client, _userdata, message) -> None:  # noqa: ANN001
        device = self.devices.get(message.topic)
        if device is None:
            return
        reply = device.on_command(message.payload)
        if reply is not None:
            client.publish(device.results_topic, reply, qos=self._qos)

    def start(self, timeout: float = 10.0) -> CommandListener:
        self.client.connect_async(self.host, self.port, keepalive=30)
        self.client.loop_start()
        if not self.ready.wait(timeout):
            self.stop()
            raise ConnectionError(f"MQTT broker at {self.host}:{self.port} did not answer")
        return self

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def provision_devices(
    database: Database,
    keyring: DeviceKeyring,
    *,
    estate_id: str,
    count: int,
    types: tuple[str, ...] | None = None,
    vendors: tuple[str, ...] = DEFAULT_VENDORS,
    faults: tuple[str, ...] = (),
    fault_share: float = 0.2,
    prefix: str = "SIM",
    seed: int = 0,
) -> list[SimulatedDevice]:
    """Register (or reuse) and provision ``count`` devices in ``estate_id``, as their owner would.

    The estate's firm is found once with the host scope; everything else runs in
    that firm's own scope. Re-provisioning gives reused devices fresh keys.
    """
    from sqlalchemy import select

    from wuye.adapters.devices.models import Device
    from wuye.platform.estates.models import Estate

    with database.transaction(Scope.for_host()) as session:
        estate = session.scalars(select(Estate).where(Estate.id == estate_id)).one_or_none()
        if estate is None:
            from wuye.platform.problems import NotFound

            raise NotFound("estate", estate_id)
        tenant_id = estate.tenant_id
    type_names = types or tuple(DEVICE_TYPES)
    n_faulty = round(count * fault_share) if faults else 0
    out: list[SimulatedDevice] = []
    with database.transaction(Scope.tenant(tenant_id)) as session:
        existing = {
            d.code: d
            for d in session.scalars(
                select(Device).where(Device.estate_id == estate_id, Device.code.like(f"{prefix}-%"))
            )
        }
        for i in range(count):
            type_name = type_names[i % len(type_names)]
            vendor = vendors[i % len(vendors)]
            code = f"{prefix}-{estate.code}-{i:05d}"
            device = existing.get(code)
            if device is None or device.type != type_name:
                if device is not None:
                    session.delete(device)
                    session.flush()
                jitter = random.Random(seed * 100_003 + i)
                lat = (estate.latitude or 30.27) + jitter.uniform(-0.002, 0.002)
                lon = (estate.longitude or 120.15) + jitter.uniform(-0.002, 0.002)
                device = devices.create_device(
                    session=session,
                    keyring=keyring,
                    device_in=DeviceIn(
                        estate_id=estate_id,
                        code=code,
                        type=type_name,
                        vendor=vendor,
                        name=f"模拟{DEVICE_TYPES[type_name].label}",
                        latitude=lat,
                        longitude=lon,
                    ),
                )
            else:
                device.vendor = vendor
                device.status = "active"
            keys = devices.provision_device(
                session=session, keyring=keyring, device_id=device.id, provision_in=ProvisionIn()
            )
            sender, recipient = oscore.device_contexts(
                bytes.fromhex(keys.master_secret or ""), code
            )
            out.append(
                SimulatedDevice(
                    code=code,
                    topic=keys.telemetry_topic,
                    device_type=DEVICE_TYPES[type_name],
                    vendor=vendor,
                    sender=sender,
                    recipient=recipient,
                    signer=None,
                    fault=faults[i % len(faults)] if i < n_faulty else None,
                    rng=random.Random(seed * 1_000_003 + i),
                )
            )
    return out


def stream(
    devices: list[SimulatedDevice],
    *,
    count: int,
    clock: Callable[[], int] = now_ms,
) -> Iterator[tuple[str, bytes]]:
    """``count`` messages, round-robin over the devices that are not silent."""
    produced = 0
    per_device = max(1, count // max(1, len(devices)))
    while produced < count:
        progressed = False
        for device in devices:
            if produced >= count:
                break
            if device.silent(per_device):
                continue
            progressed = True
            produced += 1
            yield device.message(clock())
        if not progressed:
            return


def run(
    publish: Callable[[str, bytes], object],
    devices: list[SimulatedDevice],
    *,
    rate: float,
    count: int,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Publish ``count`` messages at ``rate`` per second overall; returns how many were sent."""
    interval = 1.0 / rate if rate > 0 else 0.0
    start = time.monotonic()
    sent = 0
    for topic, payload in stream(devices, count=count):
        publish(topic, payload)
        sent += 1
        if interval:
            ahead = start + sent * interval - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
        if progress and sent % 1000 == 0:
            progress(sent)
    return sent
