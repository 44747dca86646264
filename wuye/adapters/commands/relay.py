"""The command relay: publishes queued commands to devices and records their answers.

One MQTT client: it publishes each protected command on
``wuye/{tenant}/{estate}/{code}/commands`` (QoS 1) once its ``sent`` state
committed, and subscribes to ``wuye/+/+/+/commands/result`` for the devices'
answers, acknowledging each to the broker only after it is recorded. A pass
every ``interval`` seconds expires overdue commands and sends queued ones;
on start, commands sent but not answered are published again unchanged.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque

from sqlalchemy import select

from wuye.adapters import oscore
from wuye.adapters.commands import service
from wuye.adapters.commands.models import OPEN_STATUSES, DeviceCommand
from wuye.adapters.devices.keys import DeviceKeyring
from wuye.adapters.mqtt import QOS, Subscriber, shared
from wuye.platform.db import Database, Scope

log = logging.getLogger(__name__)

RESULTS_FILTER = "wuye/+/+/+/commands/result"


class CommandRelay:
    """Sends commands and takes answers, until stopped; ``counts`` says what happened."""

    def __init__(
        self,
        database: Database,
        keyring: DeviceKeyring,
        url: str,
        *,
        client_id: str = "wuye-commands",
        results_filter: str = RESULTS_FILTER,
        share_group: str | None = None,
        interval: float = 0.2,
        settings: object | None = None,
    ) -> None:
        self.database = database
        self.keyring = keyring
        self.interval = interval
        self.counts: Counter[str] = Counter()
        self._answers: deque[tuple[str, bytes, int]] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.subscriber = Subscriber(
            url,
            shared(share_group, results_filter) if share_group else results_filter,
            self._on_answer,
            client_id=client_id,
            settings=settings,  # type: ignore[arg-type]
            manual_ack=True,
        )

    def _on_answer(self, topic: str, payload: bytes, mid: int) -> None:
        self._answers.append((topic, payload, mid))
        self._wake.set()

    def poke(self) -> None:
        """Send now rather than at the next pass (after queueing a command)."""
        self._wake.set()

    # --- one pass ----------------------------------------------------------

    def _tenants_with_open_commands(self) -> list[str]:
        with self.database.transaction(Scope.for_host()) as session:
            return sorted(
                session.scalars(
                    select(DeviceCommand.tenant_id)
                    .where(DeviceCommand.status.in_(OPEN_STATUSES))
                    .distinct()
                )
            )

    def _publish(self, outgoing: list[service.Outgoing]) -> None:
        for item in outgoing:
            self.subscriber.client.publish(item.topic, item.payload, qos=QOS)
        self.counts["sent"] += len(outgoing)

    def send_pass(self) -> None:
        for tenant_id in self._tenants_with_open_commands():
            with self.database.transaction(Scope.tenant(tenant_id)) as session:
                self.counts["expired"] += service.expire_overdue(session=session)
                outgoing = service.send_queued(session=session, keyring=self.keyring)
            self._publish(outgoing)  # after commit: a crash before this resends on restart

    def resend_unanswered(self) -> None:
        for tenant_id in self._tenants_with_open_commands():
            with self.database.transaction(Scope.tenant(tenant_id)) as session:
                outgoing = service.unanswered(session=session)
            self._publish(outgoing)
            self.counts["resent"] += len(outgoing)
            self.counts["sent"] -= len(outgoing)

    def take_answers(self) -> None:
        while self._answers:
            topic, payload, mid = self._answers.popleft()
            parsed = service.parse_result_topic(topic)
            try:
                if parsed is None:
                    raise oscore.Rejected("malformed", topic)
                with self.database.transaction(Scope.tenant(parsed[0])) as session:
                    command = service.record_answer(
                        session=session, keyring=self.keyring, topic=topic, payload=payload
                    )
                    self.counts[command.status] += 1
            except oscore.Rejected as exc:
                self.counts[f"rejected:{exc.reason}"] += 1
            except Exception:  # noqa: BLE001 - left unacknowledged: the broker resends it
                log.exception("recording a command answer on %s failed", topic)
                self.counts["failed:store"] += 1
                continue
            if mid:
                self.subscriber.ack([mid])

    # --- thread ------------------------------------------------------------

    def _run(self) -> None:
        try:
            self.resend_unanswered()
        except Exception:  # noqa: BLE001
            log.exception("resending unanswered commands failed")
        while not self._stop.is_set():
            for step in (self.take_answers, self.send_pass):
                try:
                    step()
                except Exception:  # noqa: BLE001 - the next pass tries again
                    log.exception("command relay step %s failed", step.__name__)
            self._wake.wait(self.interval)
            self._wake.clear()

    def start(self, timeout: float = 10.0) -> CommandRelay:
        self.subscriber.start(timeout)
        self._thread = threading.Thread(target=self._run, name="wuye-commands", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        self.subscriber.stop()

    def wait_until(self, done: object, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if done():  # type: ignore[operator]
                return True
            time.sleep(0.02)
        return bool(done())  # type: ignore[operator]
