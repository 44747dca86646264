"""Periodic jobs of the telemetry side: relearn thresholds, escalate overdue work orders.

Each job lists the firms that have devices (the only host-scope read), then
does its work in one transaction per firm, limited to that firm's scope.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import select

from wuye.adapters import thresholds
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
    """The ingest and its periodic jobs, started and stopped together.

    ``wuye devices ingest`` runs one in the foreground; ``wuye run`` runs one beside
    the embedded broker, so that `make run` stores and checks telemetry too.
    """

    def __init__(
        self,
        database: Database,
        settings: object,
        url: str,
        *,
        client_id: str = "wuye-ingest",
        batch_size: int = 2000,
        relearn_every: float = 3600.0,
        escalate_every: float = 60.0,
    ) -> None:
        from wuye.adapters.devices.keys import keyring_for_secret
        from wuye.adapters.ingest import MqttIngest

        self.ingest = MqttIngest(
            database,
            keyring_for_secret(settings.secret_bytes()),  # type: ignore[attr-defined]
            url,
            client_id=client_id,
            batch_size=batch_size,
            settings=settings,
        )
        self.jobs = [
            Every(relearn_every, lambda: relearn_thresholds(database), "relearn"),
            Every(escalate_every, lambda: escalate_work_orders(database), "sla"),
        ]

    @property
    def counts(self):  # noqa: ANN201 - a Counter of outcomes by reason
        return self.ingest.counts

    def start(self) -> TelemetryService:
        self.ingest.start()
        for job in self.jobs:
            job.start()
        return self

    def stop(self) -> None:
        for job in self.jobs:
            job.stop()
        self.ingest.stop()
