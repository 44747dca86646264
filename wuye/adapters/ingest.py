"""The telemetry ingest: verify, decode, store and threshold-check device messages in batches.

:class:`Pipeline` is transport-free: it takes ``(topic, payload)`` pairs and,
per tenant named by the topics, opens one transaction limited to that tenant
(``Scope.tenant``) in which it resolves the devices, unprotects each payload
(``oscore.py``), decodes it with the device's vendor format, stores the
readings in bulk, advances the replay windows, evaluates the thresholds and
persists alarm transitions (opening work orders for severe alarms).

Each verified message is claimed by its (device, key version, sequence
number) in ``telemetry_messages`` in the same transaction as its readings: a
message stored before — redelivered by the broker after a crash, or replayed
to another ingest process — is counted ``duplicate`` and not stored again.

A message that fails any check is counted under its reason — ``malformed``,
``unknown_device``, ``disabled``, ``auth_failed`` (forged or tampered),
``replayed``, ``stale``, ``bad_signature``, ``undecodable`` — and dropped:
never stored, and never holding up the messages around it.

:class:`MqttIngest` feeds the pipeline from a broker (``mqtt.py``) and
acknowledges each QoS 1 message only after its transaction committed.
"""

from __future__ import annotations

import logging
import operator
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import sqlalchemy.exc
from sqlalchemy import BigInteger, bindparam, case, select, update
from sqlalchemy.orm import Session

from wuye import crypto
from wuye.adapters import BATCH_INTERVAL, BATCH_SIZE, oscore
from wuye.adapters.alarms import engine
from wuye.adapters.alarms import service as alarms
from wuye.adapters.devices.keys import DeviceKeyring
from wuye.adapters.devices.models import Device
from wuye.adapters.devices.types import DEVICE_TYPES, DeviceType
from wuye.adapters.telemetry.models import SignedBatch
from wuye.adapters.telemetry.store import claim_messages, insert_readings
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
#: A device's ``rx_seq`` and ``last_seen_ms`` are written at most this often by one process.
#: They only seed the replay window of a process that loads the device (the record of
#: accepted messages is the authority) and say when it was last heard, so a few seconds
#: behind is harmless, and ingest processes rarely wait on each other's device row locks.
EDGE_WRITE_MS = 5_000

_DEVICES = Device.__table__

#: ``(topic, payload)``, or ``(topic, payload, mid)`` from the broker: the ingest acks ``mid``.
Message = tuple
#: Messages of one firm whose transaction failed, and why.
Failure = tuple[list[Message], Exception]


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
    #: When this process last wrote the device's ``rx_seq`` and ``last_seen_ms``.
    edge_written_ms: int = 0


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
                # The window refuses what is left of it; within it, the table of
                # accepted messages decides (shared by every ingest process).
                window=oscore.ReplayWindow(device.rx_seq, edge_seen=False),
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
            edge_written_ms=previous.edge_written_ms if previous is not None else 0,
        )

    def forget(self) -> None:
        """Drop every cached device (after re-provisioning, in tests)."""
        self._states.clear()
        self._unknown.clear()

    # --- processing ------------------------------------------------------

    def process(self, messages: Iterable[Message]) -> list[Failure]:
        """Store and check ``(topic, payload, ...)`` messages, one transaction per firm.

        Returns the messages whose transaction failed, grouped with the error:
        nothing of them was stored, and the caller may offer them again (they
        are idempotent, see :func:`claim_messages`). Counters move only for
        what committed.
        """
        by_tenant: dict[str, list[Message]] = {}
        failures: list[Failure] = []
        for item in messages:
            parsed = parse_topic(item[0])
            if parsed is None:
                self.counts["rejected:malformed"] += 1
                continue
            by_tenant.setdefault(parsed[0], []).append(item)
        for tenant_id, batch in by_tenant.items():
            try:
                self.counts.update(self._process_tenant(tenant_id, batch))
            except Exception as exc:  # noqa: BLE001 - one firm's failure must not stall the rest
                log.warning(
                    "ingest batch of %d messages for tenant %s failed: %r",
                    len(batch),
                    tenant_id,
                    exc,
                )
                self.counts["failed:store"] += len(batch)
                failures.append((batch, exc))
                # The replay windows and alarm states saw messages that did not
                # commit: reload them from the database.
                prefix = f"wuye/{tenant_id}/"
                self._states = {t: s for t, s in self._states.items() if not t.startswith(prefix)}
        return failures

    def _process_tenant(self, tenant_id: str, batch: list[Message]) -> Counter[str]:
        now = time.monotonic()
        counts: Counter[str] = Counter()
        with self.database.transaction(Scope.tenant(tenant_id)) as session:
            wanted: dict[str, tuple[str, str]] = {}
            for item in batch:
                topic = item[0]
                state = self._states.get(topic)
                if state is not None and now - state.loaded_at < REFRESH_S:
                    continue
                if state is None and now - self._unknown.get(topic, -1e9) < NEGATIVE_TTL_S:
                    continue
                _tenant, estate_id, code = parse_topic(topic)  # type: ignore[misc]
                wanted[topic] = (estate_id, code)
            if wanted:
                self._load(session, tenant_id, wanted)

            clock_ms = now_ms()
            oldest, newest = clock_ms - MAX_AGE_MS, clock_ms + MAX_SKEW_MS
            # 1. verify and decode every message
            verified: list[tuple[str, DeviceState, oscore.Unprotected, list]] = []
            for item in batch:
                topic, payload = item[0], item[1]
                state = self._states.get(topic)
                if state is None:
                    counts["rejected:unknown_device"] += 1
                    continue
                if state.device.status != "active":
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
                verified.append((topic, state, message, readings))

            # 2. claim them: a message any process stored before is a duplicate
            new = claim_messages(
                session,
                sorted(  # in key order, as the readings below
                    (tenant_id, st.device.id, st.device.key_version, m.seq, clock_ms)
                    for _t, st, m, _r in verified
                ),
            )

            # 3. store the new ones' readings, check thresholds
            rows: list[tuple] = []
            seqs: dict[str, int] = {}
            signed: list[dict] = []
            transitions: dict[str, list[engine.Transition]] = {}
            touched: dict[str, DeviceState] = {}
            for topic, state, message, readings in verified:
                device = state.device
                device_id = device.id
                if (device_id, device.key_version, message.seq) not in new:
                    counts["duplicate"] += 1
                    continue
                if clock_ms - state.edge_written_ms >= EDGE_WRITE_MS and message.seq > seqs.get(
                    device_id, -1
                ):
                    seqs[device_id] = message.seq
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
            # In index order (device, metric, time), each index page visited once per batch;
            # the sort is stable, so equal keys keep the order they were received in.
            rows.sort(key=_INDEX_ORDER)
            insert_readings(session, rows)
            for item in signed:
                session.add(SignedBatch(**item))
            if seqs:
                # Several ingest processes may advance one device: the edge only moves right.
                new_seq = bindparam("b_seq", type_=BigInteger)
                session.execute(
                    update(_DEVICES)
                    .where(_DEVICES.c.id == bindparam("b_id"), _DEVICES.c.tenant_id == tenant_id)
                    .values(
                        rx_seq=case(
                            (_DEVICES.c.rx_seq < new_seq, new_seq), else_=_DEVICES.c.rx_seq
                        ),
                        last_seen_ms=bindparam("b_seen", type_=BigInteger),
                    ),
                    # In one order, so that two processes never wait on each other in a cycle.
                    [{"b_id": d, "b_seq": seqs[d], "b_seen": clock_ms} for d in sorted(seqs)],
                )
                for device_id in seqs:
                    touched[device_id].edge_written_ms = clock_ms
            for device_id, items in transitions.items():
                device = touched[device_id].device
                counts["alarms_raised"] += sum(t.action == "raise" for t in items)
                counts["alarms_cleared"] += sum(t.action == "clear" for t in items)
                counts["work_orders_opened"] += alarms.persist(session, device, items)
            counts["readings"] += len(rows)
            self.before_commit(session, batch)
        return counts

    def before_commit(self, session: Session, batch: list[Message]) -> None:
        """Called inside the transaction once everything is written (tests crash here)."""

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


#: Readings rows ``(tenant, device, metric, unit, value, ts)`` in the order of their index.
_INDEX_ORDER = operator.itemgetter(1, 2, 5)
#: No message for this long (seconds) and the waiting ones are stored at once.
QUIET_S = 0.01

#: Errors of the database being away: retried until it is back, never dropped.
TRANSIENT = (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError, TimeoutError)
#: Attempts at a batch failing otherwise, before its messages are tried one by one.
ATTEMPTS = 3
RETRY_MAX_S = 5.0


class BatchingInbox:
    """Messages from the network thread, drained by one worker in batches.

    ``ack(mids)`` is called with the broker's message ids once their batch has
    committed, never before: a crash in between leaves them unacknowledged, and
    the broker delivers them again (MQTT 3.1.1, 4.4). A batch whose transaction
    fails is retried with backoff, in order, before anything newer; if it keeps
    failing for a reason other than the database being away, its messages are
    tried one by one, so one bad message cannot hold up the others; a message
    that fails alone is counted ``failed:unacknowledged``, logged and left
    unacknowledged: the broker still holds it and delivers it again on the next
    connection (nothing is acknowledged that did not commit).
    """

    def __init__(
        self,
        pipeline: Pipeline,
        *,
        batch_size: int = BATCH_SIZE,
        interval: float = BATCH_INTERVAL,
        ack: Callable[[list[int]], None] | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.batch_size = batch_size
        self.interval = interval
        self.ack = ack
        self._queue: deque[Message] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.received = 0
        #: When the oldest waiting message and the newest arrived (monotonic seconds).
        self._first: float | None = None
        self._last = 0.0

    def put(self, topic: str, payload: bytes, mid: int | None = None) -> None:
        self._queue.append((topic, payload, mid))
        self.received += 1
        now = time.monotonic()
        if self._first is None:
            self._first = now
        self._last = now
        if len(self._queue) >= self.batch_size:
            self._wake.set()

    def _due(self) -> str | None:
        """Why a batch is due: ``"full"``; or ``"waited"``, gathered for ``interval`` or
        nothing arrived for :data:`QUIET_S` (the burst is over, or the broker holds back
        the rest until it has acknowledgements); None while it is not."""
        if not self._queue:
            return None
        if len(self._queue) >= self.batch_size:
            return "full"
        now = time.monotonic()
        first = self._first
        if now - self._last >= QUIET_S or (first is not None and now - first >= self.interval):
            return "waited"
        return None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="wuye-ingest", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        queue = self._queue
        while True:
            self._wake.wait(min(QUIET_S, self.interval))
            self._wake.clear()
            stopping = self._stop.is_set()
            due = self._due()
            if stopping or due:
                # Full batches while the flow keeps filling them; a remainder waits for its
                # own moment, unless this is that moment or the inbox is stopping.
                everything = stopping or due == "waited"
                self._first = None
                while len(queue) >= self.batch_size or (everything and queue):
                    n = min(len(queue), self.batch_size)
                    self._handle([queue.popleft() for _ in range(n)])
                if not queue:
                    self._first = None
                elif self._first is None:
                    self._first = time.monotonic()
            if stopping:
                return

    def _acknowledge(self, items: list[Message]) -> None:
        if self.ack is not None:
            mids = [item[2] for item in items if len(item) > 2 and item[2]]
            if mids:
                self.ack(mids)

    def _handle(self, batch: list[Message]) -> None:
        failures = self.pipeline.process(batch)
        if not failures:
            self._acknowledge(batch)
            return
        failed = {id(item) for items, _exc in failures for item in items}
        self._acknowledge([item for item in batch if id(item) not in failed])
        for items, exc in failures:
            self._retry(items, exc)

    def _retry(self, items: list[Message], exc: Exception, *, alone: bool = False) -> None:
        counts = self.pipeline.counts
        attempt = 0
        while True:
            attempt += 1
            if not isinstance(exc, TRANSIENT) and attempt >= ATTEMPTS:
                break
            if self._stop.wait(min(RETRY_MAX_S, 0.05 * 2**attempt)) and isinstance(exc, TRANSIENT):
                return  # stopping with the database away: the broker keeps them for later
            counts["retried"] += len(items)
            failures = self.pipeline.process(items)
            if not failures:
                self._acknowledge(items)
                return
            exc = failures[0][1]
        if not alone and len(items) > 1:
            for item in items:  # find the message that fails
                failures = self.pipeline.process([item])
                if failures:
                    self._retry([item], failures[0][1], alone=True)
                else:
                    self._acknowledge([item])
            return
        # Never acknowledge what did not commit: the broker keeps it in this
        # session and delivers it again on the next connection.
        log.error("a message cannot be stored, left unacknowledged (%s): %r", items[0][0], exc)
        counts["failed:unacknowledged"] += len(items)

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
    """The ingest service: a persistent QoS 1 subscription feeding the pipeline in batches.

    Messages are acknowledged to the broker only after their readings commit
    (``manual_ack``). Several processes share the load through an MQTT shared
    subscription (``share_group``): each message goes to one of them, and the
    ``telemetry_messages`` table keeps them from storing one twice.
    """

    def __init__(
        self,
        database: Database,
        keyring: DeviceKeyring,
        url: str,
        *,
        client_id: str = "wuye-ingest",
        topic_filter: str = TELEMETRY_FILTER,
        share_group: str | None = None,
        batch_size: int = BATCH_SIZE,
        interval: float = BATCH_INTERVAL,
        settings: object | None = None,
        pipeline: Pipeline | None = None,
    ) -> None:
        from wuye.adapters.mqtt import Subscriber, shared

        self.pipeline = pipeline or Pipeline(database, keyring)
        self.subscriber = Subscriber(
            url,
            shared(share_group, topic_filter) if share_group else topic_filter,
            self._on_message,
            client_id=client_id,
            settings=settings,  # type: ignore[arg-type]
            manual_ack=True,
        )
        self.inbox = BatchingInbox(
            self.pipeline, batch_size=batch_size, interval=interval, ack=self.subscriber.ack
        )

    def _on_message(self, topic: str, payload: bytes, mid: int) -> None:
        self.inbox.put(topic, payload, mid)

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
        # Drain first, so what was received is committed and acknowledged while
        # still connected; what arrives meanwhile stays unacknowledged, for later.
        self.inbox.stop()
        self.subscriber.stop()

    def wait_until(self, done: object, timeout: float) -> bool:
        """Poll ``done()`` until true or ``timeout`` seconds pass."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if done():  # type: ignore[operator]
                return True
            time.sleep(0.02)
        return bool(done())  # type: ignore[operator]
