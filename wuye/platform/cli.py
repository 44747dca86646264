"""The `wuye` command: serve, run, db, demo, config, plus the federation and ledger groups.

Every command has ``--help``; an error is one clear line on stderr and a non-zero exit.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from wuye.platform.settings import get_settings


class _Wuye(click.Group):
    """Turns expected failures into one line and exit status 1 (no traceback)."""

    def invoke(self, ctx: click.Context) -> Any:
        from sqlalchemy.exc import SQLAlchemyError

        from wuye.platform.problems import Problem

        try:
            return super().invoke(ctx)
        except Problem as exc:
            raise click.ClickException(f"{exc.title}: {exc.detail or ''}".rstrip(": ")) from exc
        except SQLAlchemyError as exc:
            first = str(exc).splitlines()[0]
            raise click.ClickException(f"数据库错误 / database error: {first}") from exc
        except OSError as exc:
            raise click.ClickException(f"{exc.strerror or exc}: {exc.filename or ''}") from exc


@click.group(cls=_Wuye, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="wuye")
def cli() -> None:
    """wuye 物业开放平台 — open platform for smart property management."""


@cli.command()
@click.option("--host", default=None, help="Bind address (default from WUYE_HOST or 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default from WUYE_PORT or 8000).")
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True)
def serve(host: str | None, port: int | None, workers: int) -> None:
    """Serve the API and web pages (uvicorn)."""
    import uvicorn

    settings = get_settings()
    uvicorn.run(
        "wuye.platform.asgi:app",
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        log_level="info",
        access_log=False,
    )


@cli.command()
@click.option("--host", default=None, help="Bind address.")
@click.option("--port", type=int, default=None, help="Port.")
def run(host: str | None, port: int | None) -> None:
    """Migrate, seed a demo estate on first start, start the embedded services and serve.

    This is what `make run` does on a fresh machine.
    """
    from wuye.platform import embedded

    embedded.run(host=host, port=port)


@cli.group()
def db() -> None:
    """Database schema (Alembic migrations, SQLite and PostgreSQL)."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION."""
    from wuye.platform import migrate

    url = get_settings().effective_database_url
    migrate.upgrade(url, revision)
    click.echo(f"数据库已升级 / database upgraded: {migrate.current(url)}")


@cli.group()
def demo() -> None:
    """Demo data for trying the platform."""


@demo.command("seed")
@click.option("--json", "as_json", is_flag=True, help="Print the credentials as JSON.")
def demo_seed(as_json: bool) -> None:
    """Seed a host firm, two member firms with estates, owners, staff and credentials."""
    from wuye.platform import demo as demo_data
    from wuye.platform import migrate

    settings = get_settings()
    migrate.upgrade(settings.effective_database_url)
    result = demo_data.seed(settings, progress=None if as_json else click.echo)
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        click.echo(demo_data.describe(result))


@cli.group()
def config() -> None:
    """Settings."""


@config.command("show")
@click.option("--json", "as_json", is_flag=True)
def config_show(as_json: bool) -> None:
    """The effective settings, secrets masked."""
    values = get_settings().masked()
    if as_json:
        click.echo(json.dumps(values, ensure_ascii=False, indent=2))
        return
    width = max(len(k) for k in values)
    for key, value in values.items():
        click.echo(f"WUYE_{key.upper():<{width}}  {value}")


def _add_package_groups() -> None:
    """The command groups other packages own: ``wuye federation ...``, ``wuye ledger ...``."""
    from wuye.federation.cli import federation
    from wuye.ledger.cli import ledger

    cli.add_command(federation)
    from wuye.adapters.cli import devices

    cli.add_command(devices)
    cli.add_command(ledger)
    from wuye.ledger.votes.cli import receipt, votes

    cli.add_command(votes)
    cli.add_command(receipt)
    from wuye.ledger.credit.cli import credit

    cli.add_command(credit)
    from wuye.ledger.fund.cli import fund

    cli.add_command(fund)
    from wuye.openapi.cli import adapters, openapi

    cli.add_command(openapi)
    cli.add_command(adapters)
    from wuye.sandbox.cli import sandbox

    cli.add_command(sandbox)


_add_package_groups()


def main() -> None:
    cli(prog_name="wuye")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
