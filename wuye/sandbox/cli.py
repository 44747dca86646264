"""`wuye sandbox`: developer apps, the host's review of promotion requests, resets, and
devices of a sandbox streaming simulated telemetry (the telemetry issue's simulator)."""

from __future__ import annotations

import time
import uuid

import click

from wuye.platform.settings import get_settings


def _database():
    import wuye.platform.models  # noqa: F401 - every table
    from wuye.platform.db import Database

    return Database(get_settings().effective_database_url)


@click.group()
def sandbox() -> None:
    """开发者沙箱 / Developer sandbox: apps, promotion reviews, resets, simulated devices."""


@sandbox.command("apps")
def apps() -> None:
    """开发者应用 / List developer apps and their promotion state."""
    from wuye.platform.db import Scope
    from wuye.sandbox import service

    database = _database()
    try:
        with database.transaction(Scope.for_host()) as session:
            rows = service.pending_promotions(session=session)
            for app in rows:
                click.echo(
                    f"{app.id}  {app.promotion:<9}  {app.name}  tenant {app.tenant_id}"
                    + (
                        f"  redirect {app.promotion_redirect_uri}"
                        if app.promotion_redirect_uri
                        else ""
                    )
                )
            if not rows:
                click.echo("暂无应用 / no apps")
    finally:
        database.dispose()


@sandbox.command("review")
@click.argument("app_id")
@click.option("--approve/--reject", required=True, help="批准或驳回 / approve or reject.")
@click.option("--reason", default="", help="审核意见 / the reason, shown to the developer.")
@click.option("--reviewer", default="host-cli", show_default=True)
def review(app_id: str, approve: bool, reason: str, reviewer: str) -> None:
    """审核上线申请 / Decide a request for production credentials."""
    from wuye.platform.db import Scope
    from wuye.sandbox import service

    database = _database()
    try:
        with database.transaction(Scope.for_host()) as session:
            app = service.review_promotion(
                session=session,
                app_id=app_id,
                reviewer=reviewer,
                approve=approve,
                reason=reason,
                settings=get_settings(),
            )
            click.echo(
                f"{app.name}: {app.promotion}"
                + (
                    f", production client_id {app.production_client_id}"
                    if app.production_client_id
                    else ""
                )
            )
    finally:
        database.dispose()


@sandbox.command("reset")
@click.argument("app_id")
def reset(app_id: str) -> None:
    """重置沙箱 / Reset an app's sandbox to its seed data."""
    from wuye.adapters.devices.keys import keyring_for_secret
    from wuye.platform.db import Scope
    from wuye.platform.pii import PersonalDataCipher
    from wuye.sandbox import service

    settings = get_settings()
    database = _database()
    try:
        with database.transaction(Scope.for_host()) as session:
            tenant_id = service.get_app(session=session, app_id=app_id).tenant_id
        from wuye.sandbox.chain import ledgers

        counts = service.reset(
            chain=ledgers(settings),
            database=database,
            cipher=PersonalDataCipher(settings.secret_bytes()),
            keyring=keyring_for_secret(settings.secret_bytes()),
            tenant_id=tenant_id,
        )
        click.echo("已重置 / reset: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    finally:
        database.dispose()


@sandbox.command("simulate")
@click.argument("app_id")
@click.option(
    "--rate",
    type=click.FloatRange(0.1),
    default=2.0,
    show_default=True,
    help="每秒条数 / messages per second.",
)
@click.option(
    "--messages",
    "total",
    type=click.IntRange(1),
    default=None,
    help="发送条数 / messages to send (default: until Ctrl-C).",
)
@click.option(
    "--direct",
    is_flag=True,
    help="直接送入接入管道，不经 MQTT / feed the ingest pipeline in-process.",
)
def simulate(app_id: str, rate: float, total: int | None, direct: bool) -> None:
    """沙箱设备持续上报 / Stream simulated telemetry from a sandbox's devices.

    Over MQTT (to the broker of WUYE_MQTT_URL, where `wuye devices ingest` or
    `wuye run` takes it in), or with --direct straight into the ingest pipeline.
    """
    from sqlalchemy import select

    from wuye.adapters import simulator
    from wuye.adapters.devices.keys import keyring_for_secret
    from wuye.platform.db import Scope
    from wuye.platform.estates.models import Estate
    from wuye.sandbox import seed, service

    settings = get_settings()
    database = _database()
    keyring = keyring_for_secret(settings.secret_bytes())
    with database.transaction(Scope.for_host()) as session:
        app = service.get_app(session=session, app_id=app_id)
        estate_id = session.scalars(
            select(Estate.id).where(
                Estate.tenant_id == app.tenant_id, Estate.code == seed.ESTATE.code
            )
        ).one()
        app_seed = app.seed
    devices = seed.simulated_devices(database, keyring, estate_id=estate_id, seed=app_seed)
    click.echo(f"{len(devices)} 台设备 / devices of sandbox {app_id}")
    if direct:
        from wuye.adapters.ingest import Pipeline

        pipeline = Pipeline(database, keyring)

        def publish(topic: str, payload: bytes) -> None:
            pipeline.process([(topic, payload)])

        stop = lambda: None  # noqa: E731 - nothing to close
    else:
        from wuye.adapters.mqtt import Publisher

        publisher = Publisher(
            settings.mqtt_url, client_id=f"wuye-sbx-{uuid.uuid4().hex[:8]}", settings=settings
        ).start()
        publish = publisher.publish  # type: ignore[assignment]

        def stop() -> None:
            deadline = time.monotonic() + 10
            while publisher.unacknowledged() and time.monotonic() < deadline:
                time.sleep(0.05)
            publisher.stop()

    try:
        sent = simulator.run(
            publish,
            devices,
            rate=rate,
            count=total or 2**62,
            progress=lambda n: click.echo(f"  已发送 / sent {n}", err=True),
        )
    except KeyboardInterrupt:
        sent = None
        click.echo("停止 / stopping")
    finally:
        stop()
        database.dispose()
    if sent is not None:
        click.echo(f"完成 / done: {sent} messages")
