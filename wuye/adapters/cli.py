"""`wuye devices`: simulate devices, run the ingest, relearn thresholds, escalate work orders."""

from __future__ import annotations

import time
import uuid

import click

from wuye.adapters import BATCH_SIZE
from wuye.platform.settings import get_settings


def _database():
    from wuye.platform.db import Database

    return Database(get_settings().effective_database_url)


def _keyring():
    from wuye.adapters.devices.keys import keyring_for_secret

    return keyring_for_secret(get_settings().secret_bytes())


def _csv(choices: tuple[str, ...]):
    def convert(_ctx, _param, value: str | None) -> tuple[str, ...]:
        if not value:
            return ()
        items = tuple(v.strip() for v in value.split(",") if v.strip())
        unknown = [v for v in items if v not in choices]
        if unknown:
            raise click.BadParameter(
                f"unknown {', '.join(unknown)}; choose from {', '.join(choices)}"
            )
        return items

    return convert


@click.group()
def devices() -> None:
    """设备与遥测 / Devices and telemetry."""


@devices.command()
@click.option("--estate", "estate_id", required=True, help="小区 ID / estate id.")
@click.option("--devices", "count", type=click.IntRange(1, 100_000), default=10, show_default=True)
@click.option(
    "--rate",
    type=click.FloatRange(0),
    default=10.0,
    show_default=True,
    help="每秒消息数（0 为不限）/ messages per second overall, 0 for no limit.",
)
@click.option("--faults", default="", help="spike,drift,stuck,silence")
@click.option("--fault-share", type=click.FloatRange(0, 1), default=0.2, show_default=True)
@click.option(
    "--messages",
    "total",
    type=click.IntRange(1),
    default=None,
    help="发送条数 / messages to send (default: until Ctrl-C).",
)
@click.option("--types", default="", help="设备类型，逗号分隔 / device types (default: all).")
def simulate(
    estate_id: str,
    count: int,
    rate: float,
    faults: str,
    fault_share: float,
    total: int | None,
    types: str,
) -> None:
    """模拟设备上报受保护的遥测 / Publish protected telemetry as real devices would."""
    from wuye.adapters import simulator
    from wuye.adapters.devices.types import DEVICE_TYPES
    from wuye.adapters.mqtt import Publisher

    fault_list = _csv(simulator.FAULTS)(None, None, faults)
    type_list = _csv(tuple(DEVICE_TYPES))(None, None, types) or None
    settings = get_settings()
    click.echo(f"登记并下发密钥 / provisioning {count} devices in estate {estate_id} ...")
    sims = simulator.provision_devices(
        _database(),
        _keyring(),
        estate_id=estate_id,
        count=count,
        types=type_list,
        faults=fault_list,
        fault_share=fault_share,
    )
    faulty = sum(1 for s in sims if s.fault)
    click.echo(f"  {len(sims)} devices, {faulty} with faults {','.join(fault_list) or '-'}")
    publisher = Publisher(
        settings.mqtt_url, client_id=f"wuye-sim-{uuid.uuid4().hex[:8]}", settings=settings
    ).start()
    from wuye.adapters.mqtt import broker_address

    host, port = broker_address(settings.mqtt_url, settings)
    listener = simulator.CommandListener(
        f"mqtt://{host}:{port}", sims, client_id=f"wuye-sim-cmd-{uuid.uuid4().hex[:8]}"
    ).start()
    click.echo("  设备应答指令 / the devices answer commands on their .../commands topics")
    started = time.monotonic()
    sent = [0]

    def publish(topic: str, payload: bytes) -> None:
        publisher.publish(topic, payload)
        sent[0] += 1

    try:
        simulator.run(
            publish,
            sims,
            rate=rate,
            count=total or 2**62,
            progress=lambda n: click.echo(f"  已发送 / sent {n}", err=True),
        )
    except KeyboardInterrupt:
        click.echo("停止 / stopping")
    finally:
        deadline = time.monotonic() + 10
        while publisher.unacknowledged() and time.monotonic() < deadline:
            time.sleep(0.05)
        publisher.stop()
        listener.stop()
        executed = sum(len(s.executed) for s in sims)
        if executed:
            click.echo(f"  已执行指令 / commands executed: {executed}")
    elapsed = time.monotonic() - started
    click.echo(f"完成 / done: {sent[0]} messages in {elapsed:.1f}s")


@devices.command()
@click.option(
    "--client-id",
    default="wuye-ingest",
    show_default=True,
    help="持久会话的客户端 ID（多进程时加 -序号）/ client id of the persistent session "
    "(with --processes, suffixed -0, -1, ...).",
)
@click.option("--batch-size", type=click.IntRange(1), default=BATCH_SIZE, show_default=True)
@click.option(
    "--processes",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="接收进程数，经 MQTT 共享订阅分担 / ingest processes sharing the load through an "
    "MQTT shared subscription ($share/wuye-ingest/...).",
)
@click.option(
    "--relearn-every",
    type=click.FloatRange(1),
    default=3600.0,
    show_default=True,
    help="阈值重学周期秒 / seconds between threshold relearning.",
)
@click.option(
    "--escalate-every",
    type=click.FloatRange(1),
    default=60.0,
    show_default=True,
    help="工单超时检查周期秒 / seconds between SLA checks.",
)
def ingest(
    client_id: str, batch_size: int, processes: int, relearn_every: float, escalate_every: float
) -> None:
    """接收、校验并存储遥测，下发指令 / Receive, verify, store and check telemetry; relay commands.

    Runs until Ctrl-C. Messages are acknowledged to the broker only once stored.
    """
    settings = get_settings()
    if processes > 1:
        _ingest_processes(settings, client_id, batch_size, processes, relearn_every, escalate_every)
        return
    from wuye.adapters.schedule import TelemetryService

    service = TelemetryService(
        _database(),
        settings,
        settings.mqtt_url,
        client_id=client_id,
        batch_size=batch_size,
        relearn_every=relearn_every,
        escalate_every=escalate_every,
    ).start()
    click.echo(f"遥测接收中 / ingesting from {settings.mqtt_url} as {client_id}; Ctrl-C to stop")
    try:
        while True:
            time.sleep(5)
            _echo_counts(service.counts)
    except KeyboardInterrupt:
        click.echo("停止 / stopping")
    finally:
        service.stop()


def _echo_counts(counts) -> None:  # noqa: ANN001
    items = sorted(counts.items())
    click.echo("  " + (", ".join(f"{k}={v}" for k, v in items) or "idle"))


def _ingest_processes(
    settings,  # noqa: ANN001
    client_id: str,
    batch_size: int,
    processes: int,
    relearn_every: float,
    escalate_every: float,
) -> None:
    from wuye.adapters.schedule import SHARE_GROUP, IngestProcesses

    if settings.mqtt_url == "embedded":
        raise click.ClickException(
            "--processes needs a broker with shared subscriptions (Mosquitto, EMQX): "
            "set WUYE_MQTT_URL"
        )
    group = IngestProcesses(
        processes,
        database_url=settings.effective_database_url,
        secret=settings.secret_bytes(),
        url=settings.mqtt_url,
        client_id=client_id,
        batch_size=batch_size,
        relearn_every=relearn_every,
        escalate_every=escalate_every,
    ).start()
    click.echo(
        f"遥测接收中 / ingesting from {settings.mqtt_url} with {processes} processes "
        f"($share/{SHARE_GROUP}, {client_id}-0..{processes - 1}); Ctrl-C to stop"
    )
    try:
        while True:
            time.sleep(5)
            group.supervise()
            _echo_counts(group.counts())
    except KeyboardInterrupt:
        click.echo("停止 / stopping")
    finally:
        group.stop()
        _echo_counts(group.counts())


@devices.command()
@click.option("--window-days", type=click.IntRange(1, 90), default=14, show_default=True)
def learn(window_days: int) -> None:
    """按历史重新学习动态阈值 / Relearn every device's thresholds from its history."""
    from wuye.adapters.schedule import relearn_thresholds

    bands = relearn_thresholds(_database(), window_days=window_days)
    click.echo(f"已学习 / learned {bands} hourly bands")


@devices.command()
def escalate() -> None:
    """升级超时工单 / Escalate work orders past their SLA."""
    from wuye.adapters.schedule import escalate_work_orders

    click.echo(f"已升级 / escalated {escalate_work_orders(_database())} work orders")
