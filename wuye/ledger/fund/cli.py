"""``wuye fund reconcile`` and ``wuye fund disclosure``: the fund's checks and reports."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click


@click.group()
def fund() -> None:
    """专项维修资金 / Maintenance fund."""


def _ledger(rpc_url: str | None, address: str | None, *, sandbox: bool):  # noqa: ANN202
    """The fund contract given on the command line, or the configured one of the estate's
    site: the sandbox ledger for a sandbox tenant's estate, the platform's otherwise."""
    from wuye.ledger.fund.chain import FundLedger, configured_ledger
    from wuye.ledger.sites import LedgerOff, site_for
    from wuye.ledger.votes.chain import connect
    from wuye.platform.settings import get_settings

    if rpc_url and address:
        return FundLedger.reader(connect(rpc_url), address)
    if rpc_url or address:
        raise click.UsageError("give both --rpc and --fund, or neither")
    settings = get_settings()
    try:
        return configured_ledger(
            settings, deploy_if_missing=False, site=site_for(settings, sandbox=sandbox)
        )
    except LedgerOff as exc:
        raise click.ClickException(f"沙箱账本未启用 / {exc}") from exc


@fund.command("reconcile")
@click.option("--estate", "estate_id", required=True, help="Estate id.")
@click.option("--rpc", "rpc_url", default=None, help="JSON-RPC URL of any ledger node.")
@click.option("--fund", "address", default=None, help="MaintenanceFund contract address.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def reconcile_cmd(estate_id: str, rpc_url: str | None, address: str | None, as_json: bool) -> None:
    """Prove unit balances add up to the estate's on the ledger and the database mirrors it."""
    from wuye.federation.models import Tenant, TenantKind
    from wuye.ledger.fund.reconcile import reconcile
    from wuye.platform.db import Database, Scope
    from wuye.platform.estates.models import Estate
    from wuye.platform.settings import get_settings

    database = Database(get_settings().effective_database_url)
    try:
        with database.transaction(Scope.for_host()) as session:
            estate = session.get(Estate, estate_id)
            if estate is None:
                raise click.ClickException(f"找不到小区 / estate {estate_id} not found")
            tenant = session.get(Tenant, estate.tenant_id)
            try:
                ledger = _ledger(
                    rpc_url,
                    address,
                    sandbox=tenant is not None and tenant.kind is TenantKind.SANDBOX,
                )
            except LookupError as exc:
                raise click.ClickException(f"找不到维修资金合约 / {exc}") from exc
            try:
                report = reconcile(session=session, ledger=ledger, estate_id=estate_id)
            except OSError as exc:
                raise click.ClickException(
                    f"无法连接账本 / cannot reach the ledger: {exc}"
                ) from exc
    finally:
        database.dispose()
    if as_json:
        click.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        for difference in report.differences:
            click.echo(f"  ✗ [{difference.check}] {difference.text}")
    if not report.ok:
        click.echo(report.summary(), err=True)
        sys.exit(1)
    if not as_json:
        click.echo(report.summary())


@fund.command("disclosure")
@click.option("--estate", "estate_id", required=True, help="Estate id.")
@click.option("--period", type=click.IntRange(190001, 999912), required=True, help="yyyymm")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="File to write; .pdf or .csv",
)
def disclosure_cmd(estate_id: str, period: int, out: Path) -> None:
    """Write an estate's monthly disclosure (月度公示) as PDF or CSV."""
    from wuye.ledger.fund import disclosure
    from wuye.platform.db import Database, Scope
    from wuye.platform.problems import Problem
    from wuye.platform.settings import get_settings

    if out.suffix.lower() not in (".pdf", ".csv"):
        raise click.BadParameter("must end in .pdf or .csv", param_hint="--out")
    database = Database(get_settings().effective_database_url)
    try:
        with database.transaction(Scope.for_host()) as session:
            d = disclosure.build(session=session, estate_id=estate_id, period=period)
    except (Problem, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        database.dispose()
    if out.suffix.lower() == ".pdf":
        out.write_bytes(disclosure.to_pdf(d))
    else:
        out.write_text(disclosure.to_csv(d), encoding="utf-8-sig")
    click.echo(f"{out}: {len(d.units)} 户 units, 期末结存 closing {d.total('closing_fen')} fen")
