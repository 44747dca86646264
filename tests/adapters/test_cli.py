"""`wuye devices simulate` publishes protected telemetry that the ingest accepts, faults and all."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from tests.adapters.conftest import free_port
from tests.factories import make_estate, make_tenant
from wuye.adapters.broker import EmbeddedBroker
from wuye.adapters.devices.keys import keyring_for_secret
from wuye.adapters.devices.models import Device
from wuye.adapters.devices.types import DEVICE_TYPES
from wuye.adapters.ingest import MqttIngest
from wuye.adapters.telemetry.models import Reading
from wuye.platform.cli import cli
from wuye.platform.db import Database, Scope
from wuye.platform.settings import get_settings

SECRET = "devices-cli-secret-0123456789"


@pytest.fixture
def broker():
    broker = EmbeddedBroker(port=free_port()).start()
    yield broker
    broker.stop()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, broker):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("WUYE_DATABASE_URL", url)
    monkeypatch.setenv("WUYE_SECRET_KEY", SECRET)
    monkeypatch.setenv("WUYE_MQTT_URL", broker.url)
    get_settings.cache_clear()
    database = Database(url)
    database.create_all()
    yield database
    database.dispose()
    get_settings.cache_clear()


def test_simulate_publishes_what_the_ingest_stores_and_faults_show_up(env, broker):
    tenant = make_tenant(env)
    with env.transaction(Scope.tenant(tenant)) as session:
        estate_id = make_estate(session).id
    ingest = MqttIngest(
        env, keyring_for_secret(SECRET.encode()), broker.url, client_id="cli-ingest", interval=0.02
    ).start()
    try:
        result = CliRunner().invoke(
            cli,
            [
                "devices",
                "simulate",
                "--estate",
                estate_id,
                "--devices",
                "5",
                "--rate",
                "0",
                "--messages",
                "100",
                "--faults",
                "silence",
                "--fault-share",
                "0.2",
                "--types",
                "water_meter,elevator",
            ],
        )
        assert result.exit_code == 0, result.output
        assert "done: 100 messages" in result.output
        assert ingest.wait_until(lambda: ingest.counts["stored"] >= 100, timeout=20)
    finally:
        ingest.stop()
    assert ingest.counts["stored"] == 100
    with env.transaction(Scope.tenant(tenant)) as session:
        devices = session.scalars(select(Device).order_by(Device.code)).all()
        per_device = dict(
            session.execute(
                select(Reading.device_id, func.count()).group_by(Reading.device_id)
            ).all()
        )
    assert len(devices) == 5 and all(d.last_seen_ms for d in devices)
    messages = [per_device[d.id] // len(DEVICE_TYPES[d.type].metrics) for d in devices]
    silent, *talking = messages  # the first device is the faulty one
    assert silent == 2 and sum(talking) == 98


def test_an_unknown_fault_is_refused_in_one_line(env):
    result = CliRunner().invoke(cli, ["devices", "simulate", "--estate", "x", "--faults", "fire"])
    assert result.exit_code != 0 and "unknown fire" in result.output


def test_ingest_processes_need_a_broker_with_shared_subscriptions(env, monkeypatch):
    monkeypatch.setenv("WUYE_MQTT_URL", "embedded")
    get_settings.cache_clear()
    result = CliRunner().invoke(cli, ["devices", "ingest", "--processes", "2"])
    assert result.exit_code != 0 and "shared subscriptions" in result.output
