"""`wuye run`: the platform on its embedded defaults, as `make run` starts it.

Migrates the database, seeds the demo estate on first start, starts the
in-process MQTT broker and ledger node unless URLs for real ones are
configured, prints the URLs to open, and serves until Ctrl-C.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack

import click

from wuye.platform.settings import EMBEDDED, Settings, get_settings


def start_services(settings: Settings, stack: ExitStack, echo: Callable[[str], None]) -> dict:
    """Start what is embedded; returns the URLs in use."""
    urls = {"mqtt": settings.mqtt_url, "ledger": settings.ledger_url}
    if settings.mqtt_url == EMBEDDED:
        from wuye.adapters.broker import EmbeddedBroker

        broker = EmbeddedBroker(port=settings.embedded_mqtt_port).start()
        stack.callback(broker.stop)
        urls["mqtt"] = broker.url
        echo(f"  MQTT 消息代理 / broker (embedded)   {broker.url}")
    from wuye.adapters.schedule import TelemetryService
    from wuye.platform.db import Database

    database = Database(settings.effective_database_url)
    stack.callback(database.dispose)
    telemetry = TelemetryService(database, settings, urls["mqtt"]).start()
    stack.callback(telemetry.stop)
    echo(f"  遥测接收 / telemetry ingest           {urls['mqtt']} wuye/+/+/+/telemetry")
    if settings.ledger_url == EMBEDDED:
        from wuye.ledger.embedded import start_embedded_node

        node = start_embedded_node(settings.var_dir / "ledger", port=settings.embedded_ledger_port)
        stack.callback(node.stop)
        urls["ledger"] = node.url
        echo(f"  区块链节点 / ledger JSON-RPC        {node.url}")
    if settings.sandbox_ledger_url == EMBEDDED:
        from wuye.ledger.embedded import start_sandbox_node
        from wuye.ledger.sites import sandbox_site

        sandbox = start_sandbox_node(sandbox_site(settings))
        stack.callback(sandbox.stop)
        urls["sandbox_ledger"] = sandbox.url
        echo(f"  沙箱账本 / sandbox ledger JSON-RPC   {sandbox.url}")
    return urls


def run(host: str | None = None, port: int | None = None) -> None:
    import uvicorn

    from wuye.platform import demo, migrate
    from wuye.platform.app import create_app
    from wuye.platform.pages import entry_points

    settings = get_settings()
    host = host or settings.host
    port = port or settings.port
    echo = click.echo
    echo("wuye 物业开放平台 — starting on embedded defaults")
    echo(f"  数据库 / database                  {settings.masked()['database_url']}")
    migrate.upgrade(settings.effective_database_url)
    if demo.is_seeded(settings):
        echo("  演示数据已存在 / demo data present: " + str(demo.credentials_path(settings)))
    else:
        echo("  写入演示数据 / seeding demo data ...")
        result = demo.seed(settings, progress=lambda line: echo("    " + line))
        echo(demo.describe(result))
    with ExitStack() as stack:
        start_services(settings, stack, echo)
        if settings.ledger_url == EMBEDDED:  # a real chain keeps its own history
            echo("  写入链上演示数据 / ledger demo history ...")
            demo.seed_on_ledger(settings, progress=lambda line: echo("    " + line))
        base = f"http://{host}:{port}"
        echo("")
        echo("打开 / Open:")
        for path, zh, en in entry_points():
            echo(f"  {base}{path:<42} {zh} / {en}")
        echo("按 Ctrl-C 停止 / Ctrl-C to stop")
        uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")
