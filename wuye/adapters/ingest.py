"""The telemetry ingest: verify, decode, store and threshold-check device messages in batches.

:class:`Pipeline` is transport-free: it takes ``(topic, payload)`` pairs and,
per tenant named by the topics, opens one transaction limited to that tenant
(``Scope.tenant``) in which it resolves the devices, unprotects each payload
(``oscore.py``), decodes it with the device's vendor format, stores the
readings in bulk, advances the replay windows, evaluates the thresholds and
persists alarm transitions (opening work orders for severe alarms).

A message that fails any check is counted under its reason — ``malformed``,
``unknown_device``, ``disabled``, ``auth_failed`` (forged or tampered),
``replayed``, ``stale``, ``bad_signature``, ``undecodable`` — and dropped:
never stored, and never holding up the messages around it.

:class:`MqttIngest` feeds the pipeline from a broker (``mqtt.py``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import BigInteger, bindparam, select, update
from sqlalchemy.orm import Session

from wuye import crypto
from wuye.adapters import oscore
from wuye.adapters.alarms import engine
from wuye.adapters.alarms import service as alarms
from wuye.adapters.devices.keys import DeviceKeyring
from wuye.adapters.devices.models import Device
from wuye.adapters.devices.types import DEVICE_TYPES, DeviceType
from wuye.adapters.telemetry.models import SignedBatch
from wuye.adapters.telemetry.store import insert_readings
from wuye.adapters.thresholds import Band, hour_of_day, learned_bands, now_ms, static_bands
from wuye.adapters.vendors import VENDORS, DecodeError, VendorFormat
from wuye.platform.db import Database, Scope

log = logging.getLogger(__name__)

TELEMETRY_FILTER = "wuye/+/+/+/telemetry"
#: Readings older than this, or this far in the future, make a message stale.
MAX_AGE_MS = 7 * 24 * 3_600_000
MAX_SKEW_MS = 5 * 60_000
#: Device state older than this is reloaded (keys, status, learned bands).
REFRESH_S = 60.0
#: An unknown topic is not looked up again for this long (a flood of strangers stays cheap).
NEGATIVE_TTL_S = 5.0

_DEVICES = Device.__table__


@dataclass(slots=True)
class DeviceState:
    """What the pipeline keeps in memory about one device."""

    device: Device
    device_type: DeviceType
    vendor: VendorFormat
    recipient: oscore.RecipientContext
    static: dict[str, Band]
    learned: dict[str, list[Band | None]]
    alarms: dict[tuple[str, str], engine.ActiveAlarm] = field(default_factory=dict)
    loaded_at: float = field(default_factory=time.monotonic)


def parse_topic(topic: str) -> tuple[str, str, str] | None:
    """``wuye/{tenant}/{estate}/{code}/telemetry`` -> (tenant, estate, code)."""
    parts = topic.split("/")
    if len(parts) != 5 or parts[0] != "wuye" or parts[4] != "telemetry" or not all(parts[1:4]):
        return None
    return parts[1], parts[2], parts[3]


class Pipeline:
    """Batches in, stored and checked readings out; counters of everything."""

    def __init__(self, database: Database, keyring: DeviceKeyring) -> None:
        self.database = database
        self.keyring = keyring
        self.counts: Counter[str] = Counter()
        self._states: dict[str, DeviceState] = {}
        self._unknown: dict[str, float] = {}

    # --- device state ----------------------------------------------------

    def _load(self, session: Session, tenant_id: str, topics: dict[str, tuple[str, str]]) -> None:
        """Load the devices behind ``topics`` (topic -> (estate, code)) of one tenant."""
        codes = {code for _estate, code in topics.values()}
        devices = {d.code: d for d in session.scalars(select(Device).where(Device.code.in_(codes)))}
        found = {}
        for topic, (estate_id, code) in topics.items():
            device = devices.get(code)
            if device is None or device.estate_id != estate_id or device.tenant_id != tenant_id:
                self._unknown[topic] = time.monotonic()
                self._states.pop(topic, None)
                continue
            found[topic] = device
        ids = [d.id for d in found.values()]
        learned = learned_bands(session, ids)
        active = alarms.active_alarms(session, ids)
        for topic, device in found.items():
            previous = self._states.get(topic)
            state = self._state_for(device, previous)
            if state is None:
                self._unknown[topic] = time.monotonic()
                continue
            state.learned = learned.get(device.id, {})
            state.alarms = {(a.metric, a.kind): a for a in active.get(device.id, [])}
            self._states[topic] = state

    def _state_for(self, device: Device, previous: DeviceState | None) -> DeviceState | None:
        if device.master_secret_sealed is None or device.vendor not in VENDORS:
            return None
        if previous is not None and previous.device.key_version == device.key_version:
            recipient = previous.recipient  # same keys: keep the replay window
        else:
            secret = self.keyring.open_master_secret(
                device.id, device.key_version, device.master_secret_sealed
            )
            public = (
                crypto.SM2PublicKey.from_hex(device.public_key_hex)
                if device.public_key_hex
                else None
            )
            recipient = oscore.RecipientContext(
                oscore.CommonContext(secret, device.code.encode()),
                oscore.DEVICE_SENDER_ID,
                window=oscore.ReplayWindow(device.rx_seq),
                signer_public_key=public,
            )
        device_type = DEVICE_TYPES[device.type]
        return DeviceState(
            device=device,
            device_type=device_type,
            vendor=VENDORS[device.vendor],
            recipient=recipient,
            static=static_bands(device_type),
            learned={},
        )

    def forget(self) -> None:
        """Drop every cached device (after re-provisioning, in tests)."""
        self._states.clear()
        self._unknown.clear()

    # --- processing ------------------------------------------------------

    def process(self, messages: Iterable[tuple[str, bytes]]) -> None:
        by_tenant: dict[str, list[tuple[str, bytes]]] = {}
        for topic, payload in messages:
            parsed = parse_topic(topic)
            if parsed is None:
                self.counts["rejected:malformed"] += 1
                continue
            by_tenant.setdefault(parsed[0], []).append((topic, payload))
        for tenant_id, batch in by_tenant.items():
            try:
                self._process_tenant(tenant_id, batch)
            except Exception:  # noqa: BLE001 - one tenant's failure must not stall the rest
                log.exception(
                    "ingest batch of %d messages for tenant %s failed", len(batch), tenant_id
                )
                self.counts["failed:store"] += len(batch)
                self._states = {
                    t: s for t, s in self._states.items() if not t.startswith(f"wuye/{tenant_id}/")
                }

    def _process_tenant(self, tenant_id: str, batch: list[tuple[str, bytes]]) -> None:
        now = time.monotonic()
        counts = self.counts
        with self.database.transaction(Scope.tenant(tenant_id)) as session:
            wanted: dict[str, tuple[str, str]] = {}
            for topic, _payload in batch:
                state = self._states.get(topic)
                if state is not None and now - state.loaded_at < REFRESH_S:
                    continue
                if state is None and now - self._unknown.get(topic, -1e9) < NEGATIVE_TTL_S:
                    continue
                _tenant, estate_id, code = parse_topic(topic)  # type: ignore[misc]
                wanted[topic] = (estate_id, code)
            if wanted:
                self._load(session, tenant_id, wanted)

            rows: list[tuple] = []
            seqs: dict[str, int] = {}
            seen_ms: dict[str, int] = {}
            signed: list[dict] = []
            transitions: dict[str, list[engine.Transition]] = {}
            clock_ms = now_ms()
            oldest, newest = clock_ms - MAX_AGE_MS, clock_ms + MAX_SKEW_MS
            touched: dict[str, DeviceState] = {}
            for topic, payload in batch:
                state = self._states.get(topic)
                if state is None:
                    counts["rejected:unknown_device"] += 1
                    continue
                device = state.device
                if device.status != "active":
                    counts["rejected:disabled"] += 1
                    continue
                try:
                    message = self._unprotect(session, tenant_id, topic, state, payload)
                    state = self._states[topic]
                    readings = state.vendor.decode(message.body, state.device_type)
                except oscore.Rejected as exc:
                    counts[f"rejected:{exc.reason}"] += 1
                    continue
                except DecodeError:
                    counts["rejected:undecodable"] += 1
                    continue
                if any(r.ts_ms < oldest or r.ts_ms > newest for r in readings):
                    counts["rejected:stale"] += 1
                    continue
                device_id = device.id
                seqs[device_id] = (
                    message.seq if message.seq > seqs.get(device_id, -1) else seqs[device_id]
                )
                seen_ms[device_id] = clock_ms
                touched[device_id] = state
                if message.signature is not None:
                    signed.append(
                        {
                            "device_id": device_id,
                            "key_version": device.key_version,
                            "seq": message.seq,
                            "topic": topic,
                            "body": message.body,
                            "signature": message.signature,
                        }
                    )
                static, learned, active = state.static, state.learned, state.alarms
                for metric, unit, value, ts in readings:
                    rows.append((tenant_id, device_id, metric, unit, value, ts))
                    band = static.get(metric)
                    # Fast path: no alarm open on this device and the value inside the band.
                    if band is not None and (
                        active
                        or (band.low is not None and value < band.low)
                        or (band.high is not None and value > band.high)
                    ):
                        t = engine.check(active, metric, "static", band, value, ts)
                        if t is not None:
                            transitions.setdefault(device_id, []).append(t)
                    hours = learned.get(metric)
                    if hours is not None:
                        band = hours[hour_of_day(ts)]
                        if band is not None:
                            t = engine.check(active, metric, "learned", band, value, ts)
                            if t is not None:
                                transitions.setdefault(device_id, []).append(t)
                counts["stored"] += 1
            insert_readings(session, rows)
            for item in signed:
                session.add(SignedBatch(**item))
            if seqs:
                session.execute(
                    update(_DEVICES)
                    .where(_DEVICES.c.id == bindparam("b_id"), _DEVICES.c.tenant_id == tenant_id)
                    .values(
                        rx_seq=bindparam("b_seq", type_=BigInteger),
                        last_seen_ms=bindparam("b_seen", type_=BigInteger),
                    ),
                    [{"b_id": d, "b_seq": s, "b_seen": seen_ms[d]} for d, s in seqs.items()],
                )
            for device_id, items in transitions.items():
                device = touched[device_id].device
                counts["alarms_raised"] += sum(t.action == "raise" for t in items)
                counts["alarms_cleared"] += sum(t.action == "clear" for t in items)
                counts["work_orders_opened"] += alarms.persist(session, device, items)
            counts["readings"] += len(rows)

    def _unprotect(
        self, session: Session, tenant_id: str, topic: str, state: DeviceState, payload: bytes
    ) -> oscore.Unprotected:
        try:
            return state.recipient.unprotect(payload, topic)
        except oscore.Rejected as exc:
            # Keys may have been re-provisioned since the state was loaded: look once.
            if exc.reason != "auth_failed" or time.monotonic() - state.loaded_at < NEGATIVE_TTL_S:
                raise
            _tenant, estate_id, code = parse_topic(topic)  # type: ignore[misc]
            self._load(session, tenant_id, {topic: (estate_id, code)})
            fresh = self._states.get(topic)
            if fresh is None or fresh.device.key_version == state.device.key_version:
                if fresh is not None:
                    fresh.loaded_at = time.monotonic()
                raise
            return fresh.recipient.unprotect(payload, topic)


class BatchingInbox:
    """Messages from the network thread, drained by one worker in batches."""

    def __init__(
        self, pipeline: Pipeline, *, batch_size: int = 2000, interval: float = 0.05
    ) -> None:
        self.pipeline = pipeline
        self.batch_size = batch_size
        self.interval = interval
        self._queue: deque[tuple[str, bytes]] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._idle = threading.Event()
        self._thread: threading.Thread | None = None
        self.received = 0

    def put(self, topic: str, payload: bytes) -> None:
        self._queue.append((topic, payload))
        self.received += 1
        if len(self._queue) >= self.batch_size:
            self._wake.set()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="wuye-ingest", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        queue = self._queue
        while True:
            self._wake.wait(self.interval)
            self._wake.clear()
            stopping = self._stop.is_set()
            while queue:
                n = min(len(queue), self.batch_size)
                batch = [queue.popleft() for _ in range(n)]
                self.pipeline.process(batch)
            if stopping:
                return

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def pending(self) -> int:
        return len(self._queue)


class MqttIngest:
    """The ingest service: a persistent QoS 1 subscription feeding the pipeline in batches."""

    def __init__(
        self,
        database: Database,
        keyring: DeviceKeyring,
        url: str,
        *,
        client_id: str = "wuye-ingest",
        topic_filter: str = TELEMETRY_FILTER,
        batch_size: int = 2000,
        interval: float = 0.05,
        settings: object | None = None,
    ) -> None:
        from wuye.adapters.mqtt import Subscriber

        self.pipeline = Pipeline(database, keyring)
        self.inbox = BatchingInbox(self.pipeline, batch_size=batch_size, interval=interval)
        self.subscriber = Subscriber(
            url,
            topic_filter,
            self.inbox.put,
            client_id=client_id,
            settings=settings,  # type: ignore[arg-type]
        )

    @property
    def counts(self) -> Counter[str]:
        return self.pipeline.counts

    def start(self, timeout: float = 10.0) -> MqttIngest:
        self.inbox.start()
        try:
            self.subscriber.start(timeout)
        except BaseException:
            self.inbox.stop()
            raise
        return self

    def stop(self) -> None:
        self.subscriber.stop()
        self.inbox.stop()

    def wait_until(self, done: object, timeout: float) -> bool:
        """Poll ``done()`` until true or ``timeout`` seconds pass."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if done():  # type: ignore[operator]
                return True
            time.sleep(0.02)
        return bool(done())  # type: ignore[operator]
