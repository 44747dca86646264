"""Periodic jobs of the telemetry side: relearn thresholds, escalate overdue work orders.

Each job lists the firms that have devices (the only host-scope read), then
does its work in one transaction per firm, limited to that firm's scope.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable

from sqlalchemy import select

from wuye.adapters import BATCH_SIZE, thresholds
from wuye.adapters.devices.models import Device
from wuye.platform.db import Database, Scope

log = logging.getLogger(__name__)


def tenants_with_devices(database: Database) -> list[str]:
    with database.transaction(Scope.for_host()) as session:
        return sorted(session.scalars(select(Device.tenant_id).distinct()))


def relearn_thresholds(database: Database, *, window_days: int = 14) -> int:
    """Recompute every device's learned bands; returns how many bands there are now."""
    bands = 0
    for tenant_id in tenants_with_devices(database):
        with database.transaction(Scope.tenant(tenant_id)) as session:
            bands += thresholds.learn_all(session, window_days=window_days)
    return bands


def escalate_work_orders(database: Database) -> int:
    """Escalate every overdue work order of every firm; returns how many."""
    from wuye.platform.workorders.service import escalate_overdue

    count = 0
    for tenant_id in tenants_with_devices(database):
        with database.transaction(Scope.tenant(tenant_id)) as session:
            count += len(escalate_overdue(session=session))
    return count


class Every:
    """Runs ``job`` every ``seconds`` on a daemon thread until stopped."""

    def __init__(self, seconds: float, job: Callable[[], object], name: str) -> None:
        self.seconds = seconds
        self.job = job
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"wuye-{name}", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.seconds):
            try:
                self.job()
            except Exception:  # noqa: BLE001 - a failed run is logged; the next one tries again
                log.exception("scheduled job %s failed", self._thread.name)

    def start(self) -> Every:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)


class TelemetryService:
    """The ingest, the command relay and the periodic jobs, started and stopped together.

    ``wuye devices ingest`` runs one in the foreground (or one per process with
    ``--processes``, see :class:`IngestProcesses`); ``wuye run`` runs one beside
    the embedded broker, so that `make run` stores and checks telemetry too.
    ``jobs=False`` leaves the relay and the periodic jobs to another process.
    """

    def __init__(
        self,
        database: Database,
        settings: object,
        url: str,
        *,
        client_id: str = "wuye-ingest",
        batch_size: int = BATCH_SIZE,
        relearn_every: float = 3600.0,
        escalate_every: float = 60.0,
        share_group: str | None = None,
        topic_filter: str | None = None,
        jobs: bool = True,
        secret: bytes | None = None,
    ) -> None:
        from wuye.adapters.commands.relay import CommandRelay
        from wuye.adapters.devices.keys import keyring_for_secret
        from wuye.adapters.ingest import TELEMETRY_FILTER, MqttIngest

        keyring = keyring_for_secret(secret or settings.secret_bytes())  # type: ignore[attr-defined]
        self.ingest = MqttIngest(
            database,
            keyring,
            url,
            client_id=client_id,
            topic_filter=topic_filter or TELEMETRY_FILTER,
            share_group=share_group,
            batch_size=batch_size,
            settings=settings,
        )
        self.relay = (
            CommandRelay(
                database, keyring, url, client_id=f"{client_id}-commands", settings=settings
            )
            if jobs
            else None
        )
        self.jobs = (
            [
                Every(relearn_every, lambda: relearn_thresholds(database), "relearn"),
                Every(escalate_every, lambda: escalate_work_orders(database), "sla"),
                Every(PRUNE_EVERY_S, lambda: prune_accepted_messages(database), "prune"),
            ]
            if jobs
            else []
        )

    @property
    def counts(self):  # noqa: ANN201 - a Counter of outcomes by reason
        return self.ingest.counts

    def start(self) -> TelemetryService:
        self.ingest.start()
        if self.relay is not None:
            self.relay.start()
        for job in self.jobs:
            job.start()
        return self

    def stop(self) -> None:
        for job in self.jobs:
            job.stop()
        if self.relay is not None:
            self.relay.stop()
        self.ingest.stop()


#: How often the record of accepted messages is pruned (see ``prune_messages``).
PRUNE_EVERY_S = 600.0
SHARE_GROUP = "wuye-ingest"


def prune_accepted_messages(database: Database) -> int:
    """Forget accepted messages a day older than the oldest readings the ingest takes."""
    from wuye.adapters.ingest import MAX_AGE_MS
    from wuye.adapters.telemetry.store import prune_messages
    from wuye.adapters.thresholds import DAY_MS, now_ms

    removed = 0
    before = now_ms() - MAX_AGE_MS - DAY_MS
    for tenant_id in tenants_with_devices(database):
        with database.transaction(Scope.tenant(tenant_id)) as session:
            removed += prune_messages(session, received_before_ms=before)
    return removed


def _ingest_worker(
    index: int,
    jobs: bool,
    database_url: str,
    secret: bytes,
    url: str,
    options: dict,
    stop,  # noqa: ANN001 - a multiprocessing Event
    reports,  # noqa: ANN001 - a multiprocessing Queue
    report_every: float,
) -> None:
    """One ingest process: a member of the shared subscription; the first one runs the jobs."""
    import signal

    import wuye.platform.models  # noqa: F401 - every table, for the foreign keys
    from wuye.platform.settings import get_settings

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us through ``stop``
    database = Database(database_url)
    service = TelemetryService(
        database, get_settings(), url, secret=secret, jobs=jobs, **options
    ).start()
    reports.put((index, {}))  # subscribed: ready
    try:
        while not stop.wait(report_every):
            reports.put((index, dict(service.counts)))
    finally:
        service.stop()
        reports.put((index, dict(service.counts)))
        database.dispose()


class IngestProcesses:
    """``n`` ingest processes sharing ``$share/wuye-ingest/wuye/+/+/+/telemetry``.

    Why shared subscriptions and per-device state in the database, not one
    device per process: MQTT brokers hand a shared subscription's messages out
    round-robin (Mosquitto has no sticky-by-topic strategy), and a topic filter
    cannot split devices by hash, so any process may get any device's next
    message. What must hold across processes is therefore kept in the database:
    each accepted message's (device, key version, sequence number) in
    ``telemetry_messages`` (a unique key: a replay or redelivery stored by one
    process is a duplicate for all), and the replay window's right edge in
    ``devices.rx_seq``, which only moves right. Each process keeps its window
    in memory as a pre-filter. Each process has a fixed client id
    (``{client_id}-{i}``) and a persistent session, so a process that dies is
    restarted under the same id and gets its unacknowledged messages again.
    """

    def __init__(
        self,
        n: int,
        *,
        database_url: str,
        secret: bytes,
        url: str,
        client_id: str = "wuye-ingest",
        batch_size: int = BATCH_SIZE,
        topic_filter: str | None = None,
        share_group: str = SHARE_GROUP,
        jobs: bool = True,
        report_every: float = 1.0,
        relearn_every: float = 3600.0,
        escalate_every: float = 60.0,
    ) -> None:
        import multiprocessing

        self.n = n
        self._ctx = multiprocessing.get_context("spawn")
        self._stop = self._ctx.Event()
        self._reports = self._ctx.Queue()
        self._latest: dict[int, dict[str, int]] = {}
        self._retired: Counter[str] = Counter()
        self._args = (database_url, secret, url)
        self._jobs = jobs
        self._options = {
            "batch_size": batch_size,
            "topic_filter": topic_filter,
            "share_group": share_group,
            "relearn_every": relearn_every,
            "escalate_every": escalate_every,
        }
        self._client_id = client_id
        self._report_every = report_every
        self.procs: list = [None] * n
        self.restarts = 0

    def _spawn(self, index: int) -> None:
        options = self._options | {"client_id": f"{self._client_id}-{index}"}
        proc = self._ctx.Process(
            target=_ingest_worker,
            args=(
                index,
                self._jobs and index == 0,  # one process runs the relay and the jobs
                *self._args,
                options,
                self._stop,
                self._reports,
                self._report_every,
            ),
            name=f"wuye-ingest-{index}",
            daemon=False,
        )
        proc.start()
        self.procs[index] = proc

    def start(self) -> IngestProcesses:
        for index in range(self.n):
            self._spawn(index)
        return self

    def supervise(self) -> None:
        """Restart any process that died (under the same client id: its session resumes)."""
        if self._stop.is_set():
            return
        for index, proc in enumerate(self.procs):
            if proc is not None and not proc.is_alive():
                log.warning("ingest process %d exited with %s; restarting", index, proc.exitcode)
                self.restarts += 1
                self.counts()  # what it reported before dying still counts
                self._retired.update(self._latest.pop(index, {}))
                self._spawn(index)

    def ready(self) -> bool:
        """Every process has subscribed (each reports once it has)."""
        self.counts()
        return len(self._latest) == self.n

    def counts(self) -> Counter[str]:
        """The latest counters of every process, summed."""
        import queue

        while True:
            try:
                index, counts = self._reports.get_nowait()
            except queue.Empty:
                break
            self._latest[index] = counts
        total: Counter[str] = Counter(self._retired)
        for counts in self._latest.values():
            total.update(counts)
        return total

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        for proc in self.procs:
            if proc is not None:
                proc.join(timeout)
                if proc.is_alive():
                    proc.terminate()
                    proc.join(5)
        self.counts()
