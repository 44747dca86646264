"""Fixtures for the telemetry tests: a firm with an estate, provisioned simulated devices."""

from __future__ import annotations

import getpass
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.factories import make_estate, make_tenant
from tests.serving import free_port
from wuye.adapters import simulator
from wuye.adapters.devices.keys import keyring_for_secret
from wuye.adapters.ingest import Pipeline
from wuye.adapters.thresholds import now_ms
from wuye.adapters.vendors import VENDORS, Sample
from wuye.platform.db import Scope

SYSTEM_MOSQUITTO = ("127.0.0.1", 1883)


@pytest.fixture
def keyring(settings):
    return keyring_for_secret(settings.secret_bytes())


@pytest.fixture
def tenant(database):
    return make_tenant(database)


@pytest.fixture
def estate_id(database, tenant):
    with database.transaction(Scope.tenant(tenant)) as session:
        return make_estate(session, latitude=30.2741, longitude=120.1551).id


@pytest.fixture
def provision(database, keyring, estate_id):
    """``provision(n, types=..., vendors=..., faults=...)`` -> simulated devices."""
    calls = iter(range(1000))

    def make(count=1, **kwargs):
        kwargs.setdefault("prefix", f"T{next(calls)}")
        return simulator.provision_devices(
            database, keyring, estate_id=estate_id, count=count, **kwargs
        )

    return make


@pytest.fixture
def pipeline(database, keyring):
    return Pipeline(database, keyring)


def message(device, values, ts_ms=None, **protect):
    """A protected message of ``device`` carrying ``values`` (metric -> value)."""
    body = VENDORS[device.vendor].encode(
        [Sample(ts_ms if ts_ms is not None else now_ms(), values)], device.device_type
    )
    return device.topic, device.sender.protect(body, device.topic, **protect)


def reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.fixture
def system_mosquitto() -> str:
    if not reachable(*SYSTEM_MOSQUITTO):
        pytest.skip("Mosquitto not reachable at 127.0.0.1:1883")
    return "mqtt://127.0.0.1:1883"


class OwnMosquitto:
    """A Mosquitto this test starts on a free port, with persistence, and may restart."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {workdir}/\n"
            "max_queued_messages 0\n"
            "max_inflight_messages 0\n"
            "autosave_interval 1\n"
            # Started as root, Mosquitto would drop to its own user and fail to save.
            f"user {getpass.getuser()}\n"
        )
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not reachable("127.0.0.1", self.port):
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError("mosquitto did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: Mosquitto saves its persistence file
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None


@pytest.fixture
def own_mosquitto(tmp_path):
    if not (shutil.which("mosquitto") or Path("/usr/sbin/mosquitto").exists()):
        pytest.skip("no mosquitto binary to start a broker of the test's own")
    broker = OwnMosquitto(tmp_path)
    broker.start()
    yield broker
    broker.stop()
