"""Telemetry throughput, publish to stored and threshold-checked, beside a bare subscriber.

Starts a Mosquitto of its own on a free port (queues sized so that no QoS 1
message is dropped for a slow subscriber: ``max_queued_messages 0``), makes a
firm with an estate of simulated devices, provisions them, and prepares the
protected messages up front (SM4-GCM, vendor formats rotating). Then, with the
same messages from the same publisher process at QoS 1:

1. bare: a paho subscriber that only counts what it receives;
2. wuye: the ingest (``MqttIngest``) — unprotect, replay window, decode,
   claim each message once, bulk insert, thresholds and alarms — counted when
   committed, and acknowledged to the broker only then. With ``--processes N``
   it is N ingest processes sharing ``$share/wuye-ingest/...`` (``IngestProcesses``).

Each run is timed from the publisher's first message to the last message
received (bare) or stored (wuye). Prints both rates, their ratio, losses and
rejections; with ``--rounds N`` the two alternate N times (fresh messages each
round) and the medians are printed, which steadies the figures on a shared machine.

    .venv/bin/python bench/telemetry.py [--devices 1000] [--messages 60000] [--database-url URL]
        [--processes N] [--publishers N]
"""

from __future__ import annotations

import argparse
import getpass
import multiprocessing
import os
import pickle
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import paho.mqtt.client as mqtt  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_mosquitto(workdir: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    conf = workdir / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        "max_queued_messages 0\nmax_inflight_messages 0\n"
        f"user {getpass.getuser()}\n"
    )
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    proc = subprocess.Popen(
        [binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, port
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise SystemExit("mosquitto did not start") from None
            time.sleep(0.05)


def publisher_process(port: int, path: str, go, started, done, part: int, parts: int) -> None:  # noqa: ANN001
    """Publish this process's share of the prepared messages at QoS 1, as fast as it can."""
    with open(path, "rb") as f:
        messages = pickle.load(f)  # noqa: S301 - the file this benchmark wrote itself
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{uuid.uuid4().hex[:6]}"
    )
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    messages = messages[part::parts]
    go.wait()
    with started.get_lock():
        started.value = started.value or time.time()
    for topic, payload in messages:
        client.publish(topic, payload, qos=1)
    deadline = time.monotonic() + 120
    while client._out_messages and time.monotonic() < deadline:  # noqa: SLF001
        time.sleep(0.01)
    done.value = time.time()
    client.disconnect()
    client.loop_stop()


class Publishers:
    """``n`` publisher processes, started together on ``go()``."""

    def __init__(self, port: int, path: str, n: int) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._go, self.started, self.done = ctx.Event(), ctx.Value("d", 0.0), ctx.Value("d", 0.0)
        self.procs = [
            ctx.Process(
                target=publisher_process, args=(port, path, self._go, self.started, self.done, i, n)
            )
            for i in range(n)
        ]
        for proc in self.procs:
            proc.start()
        time.sleep(1.5)  # let them load the messages and connect

    def go(self) -> None:
        self._go.set()

    def join(self) -> None:
        for proc in self.procs:
            proc.join(120)


def bare_rate(port: int, path: str, topic_filter: str, total: int, n: int) -> tuple[float, int]:
    received = [0]
    last = [0.0]
    finished = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-bare")

    def on_message(_c, _u, _m) -> None:  # noqa: ANN001
        received[0] += 1
        if received[0] >= total:
            last[0] = time.time()
            finished.set()

    client.on_message = on_message
    client.connect("127.0.0.1", port)
    client.subscribe(topic_filter, qos=1)
    client.loop_start()
    time.sleep(0.3)
    publishers = Publishers(port, path, n)
    publishers.go()
    finished.wait(180)
    publishers.join()
    client.disconnect()
    client.loop_stop()
    end = last[0] or time.time()
    return received[0] / (end - publishers.started.value), received[0]


def forget_sessions(port: int, client_ids: list[str]) -> None:
    """Drop persistent sessions, so later rounds' messages are not queued for them."""
    for client_id in client_ids:
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True
        )
        client.connect("127.0.0.1", port)
        client.disconnect()


def _start_ingest(args, database, secret, keyring, port, topic_filter, client_id):  # noqa: ANN001, ANN202
    """The ingest under test, started and subscribed; and a function returning its counters."""
    from wuye.adapters.ingest import MqttIngest
    from wuye.adapters.schedule import IngestProcesses

    url = f"mqtt://127.0.0.1:{port}"
    if args.processes <= 1:
        ingest = MqttIngest(
            database,
            keyring,
            url,
            client_id=client_id,
            topic_filter=topic_filter,
            batch_size=args.batch_size,
        ).start()
        return ingest, lambda: dict(ingest.counts)
    group = IngestProcesses(
        args.processes,
        database_url=database.url,
        secret=secret,
        url=url,
        client_id=client_id,
        batch_size=args.batch_size,
        topic_filter=topic_filter,
        jobs=False,
        report_every=0.02,
    ).start()
    deadline = time.monotonic() + 120
    while not group.ready() and time.monotonic() < deadline:
        time.sleep(0.05)
    return group, group.counts


def wuye_rate(args, database, secret, keyring, port, topic_filter, path, k):  # noqa: ANN001, ANN201
    """Messages per second from the first publish to the last commit, and the counters."""
    client_id = f"bench-ingest-r{k}"
    ingest, counts_of = _start_ingest(
        args, database, secret, keyring, port, topic_filter, client_id
    )
    total = len(pickle.loads(path.read_bytes()))  # noqa: S301 - written by this benchmark
    publishers = Publishers(port, str(path), args.publishers)
    publishers.go()
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            c = counts_of()
        except RuntimeError:  # the ingest thread added a key meanwhile
            continue
        handled = sum(v for k, v in c.items() if k in ("stored", "duplicate") or ":" in k)
        if handled >= total:
            break
        time.sleep(0.005)
    end = time.time()
    publishers.join()
    ingest.stop()
    counts = dict(counts_of())
    ids = (
        [client_id] if args.processes <= 1 else [f"{client_id}-{i}" for i in range(args.processes)]
    )
    forget_sessions(port, ids)
    return counts.get("stored", 0) / (end - publishers.started.value), counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=60_000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--batch-size", type=int, default=5000, help="messages per transaction")
    parser.add_argument("--publishers", type=int, default=1, help="publisher processes")
    parser.add_argument(
        "--processes", type=int, default=1, help="ingest processes (shared subscription)"
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="bare and wuye runs, alternating; medians printed"
    )
    args = parser.parse_args()

    from wuye.adapters import simulator
    from wuye.adapters.devices.keys import keyring_for_secret
    from wuye.federation.models import Tenant, TenantKind, TenantStatus
    from wuye.platform.db import Database, Scope
    from wuye.platform.estates.models import EstateIn
    from wuye.platform.estates.service import create_estate

    workdir = Path(tempfile.mkdtemp(prefix="wuye-bench-telemetry-"))
    broker, port = start_mosquitto(workdir)
    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    database = Database(url)
    database.create_all()
    secret = os.urandom(32)
    keyring = keyring_for_secret(secret)
    try:
        with database.transaction(Scope.for_host()) as session:
            tenant = Tenant(
                name="基准物业",
                credit_code=f"91{uuid.uuid4().int % 10**16:016d}",
                kind=TenantKind.MEMBER,
                status=TenantStatus.ACTIVE,
            )
            session.add(tenant)
            session.flush()
            tenant_id = tenant.id
        with database.transaction(Scope.tenant(tenant_id)) as session:
            estate_id = create_estate(
                session=session,
                estate_in=EstateIn(code="BENCH", name="基准小区", latitude=30.27, longitude=120.15),
            ).id
        print(f"准备 / preparing {args.devices} devices, {args.messages} messages ...", flush=True)
        devices = simulator.provision_devices(
            database, keyring, estate_id=estate_id, count=args.devices
        )
        # Every round sends new messages (the next sequence numbers): a message
        # already stored would only count as a duplicate.
        messages = list(simulator.stream(devices, count=args.messages * args.rounds))
        topic_filter = f"wuye/{tenant_id}/+/+/telemetry"
        label = f"{args.processes} process{'es' if args.processes > 1 else ''}"
        results = []
        for k in range(args.rounds):
            part = messages[k * args.messages : (k + 1) * args.messages]
            path = workdir / f"messages-{k}.pickle"
            path.write_bytes(pickle.dumps(part))
            bare, bare_received = bare_rate(
                port, str(path), topic_filter, len(part), args.publishers
            )
            wuye, counts = wuye_rate(args, database, secret, keyring, port, topic_filter, path, k)
            results.append((bare, wuye))
            print(f"round {k + 1}/{args.rounds}")
            print(f"  bare paho subscriber (QoS 1): {bare:9,.0f} msg/s  ({bare_received} received)")
            print(
                f"  wuye ingest, {label}:{' ' * (16 - len(label))}{wuye:9,.0f} msg/s  "
                f"({counts.get('stored', 0)} stored, {counts.get('readings', 0)} readings)"
            )
            print(f"  ratio wuye / bare:            {wuye / bare:9.2f}")
            print(f"  lost:                         {len(part) - counts.get('stored', 0)}")
            print("  counts: " + ", ".join(f"{k}={v}" for k, v in sorted(counts.items())))
        bares, wuyes = [b for b, _ in results], [w for _, w in results]
        ratios = [w / b for b, w in results]
        print(
            f"median of {args.rounds} rounds ({label}; verified, stored once, threshold-checked, "
            "acked after commit):"
        )
        print(
            f"  bare {statistics.median(bares):,.0f} msg/s, wuye {statistics.median(wuyes):,.0f} "
            f"msg/s, ratio {statistics.median(ratios):.2f}"
        )
        print(f"database: {database.engine.url.render_as_string(hide_password=True)}")
    finally:
        broker.terminate()
        broker.wait(10)
        database.dispose()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
