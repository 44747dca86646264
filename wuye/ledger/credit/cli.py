"""``wuye credit ...``: publish a month's scores and verify them against the ledger.

``verify`` recomputes every score of a month from its canonical inputs and checks
the inputs' SM3 digests and the scores against the CreditRegistry on the ledger;
it exits non-zero naming each mismatch. By default it reads the inputs from this
platform's database and the ledger configured for it; with ``--api`` it fetches
them from any platform's public API, and ``--rpc``/``--registry`` name any node.
"""

from __future__ import annotations

import sys

import click

from wuye.ledger.credit.models import PERIOD_PATTERN


def _period(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    import re

    if not re.match(PERIOD_PATTERN, value):
        raise click.BadParameter("use YYYY-MM, for example 2026-10")
    return value


@click.group()
def credit() -> None:
    """信用评价 / Credit ratings of property firms and their staff."""


def _ledger(rpc_url: str | None, registry: str | None):  # noqa: ANN202
    from wuye.ledger.credit.chain import CreditLedger, configured_ledger, registry_address
    from wuye.ledger.votes.chain import connect
    from wuye.platform.settings import get_settings

    settings = get_settings()
    if rpc_url:
        address = registry or registry_address(settings)
        if not address:
            raise click.ClickException("give --registry 0x... (the CreditRegistry address)")
        # Reading needs no key: a throwaway rater key is never used to send.
        from eth_account import Account

        return CreditLedger(connect(rpc_url), address, Account.create().key.hex())
    try:
        return configured_ledger(settings, deploy_if_missing=False)
    except (LookupError, OSError) as exc:
        raise click.ClickException(f"信用账本不可用 / credit ledger unavailable: {exc}") from exc


@credit.command("publish")
@click.option("--period", required=True, callback=_period, help="Month, YYYY-MM.")
def publish(period: str) -> None:
    """Compute a finished month's scores and publish them to the ledger."""
    from wuye.ledger.credit import service
    from wuye.ledger.credit.chain import configured_ledger
    from wuye.platform.db import Database, Scope
    from wuye.platform.settings import get_settings

    settings = get_settings()
    database = Database(settings.effective_database_url)
    try:
        ledger = configured_ledger(settings)
        with database.transaction(Scope.for_host()) as session:
            out = service.publish_period(
                session=session, ledger=ledger, period=period, progress=click.echo
            )
    finally:
        database.dispose()
    click.echo(
        f"{period}: 计算 computed {out.computed}, 发布 published {out.published} "
        f"in {out.batches} transaction(s)"
    )


@credit.command("verify")
@click.option("--period", required=True, callback=_period, help="Month, YYYY-MM.")
@click.option("--api", "api_url", default=None, help="Fetch inputs from this platform's API.")
@click.option("--rpc", "rpc_url", default=None, help="JSON-RPC URL of any ledger node.")
@click.option("--registry", default=None, help="CreditRegistry address (with --rpc).")
def verify(period: str, api_url: str | None, rpc_url: str | None, registry: str | None) -> None:
    """Recompute a month's scores from their inputs and check them against the ledger."""
    from wuye.ledger.credit import service

    ledger = _ledger(rpc_url, registry)
    try:
        chain = ledger.scores_of(period)
    except OSError as exc:
        raise click.ClickException(f"无法连接账本 / cannot reach the ledger: {exc}") from exc
    if api_url:
        records = _records_from_api(api_url, period)
    else:
        from sqlalchemy import select

        from wuye.ledger.credit.models import CreditScore
        from wuye.platform.db import Database, Scope
        from wuye.platform.settings import get_settings

        database = Database(get_settings().effective_database_url)
        try:
            with database.transaction(Scope.for_host()) as session:
                rows = session.scalars(
                    select(CreditScore).where(
                        CreditScore.period == period, CreditScore.published_at.is_not(None)
                    )
                )
                records = [
                    service.StoredScore(
                        r.subject_ref,
                        f"{r.subject_kind} {r.subject_name or r.subject_id}",
                        r.score,
                        r.inputs.encode(),
                    )
                    for r in rows
                ]
        finally:
            database.dispose()
    problems = service.verify_records(records, chain)
    click.echo(f"{period}: {len(records)} 项评分 scores, {len(chain)} 项链上 on the ledger")
    for line in problems:
        click.echo(f"  ✗ {line}")
    if problems or not chain:
        if not chain:
            click.echo("  ✗ no scores published for this period")
        click.echo("验证失败 / VERIFICATION FAILED")
        sys.exit(1)
    click.echo("验证通过 / VERIFIED: every digest and score recomputes")


def _records_from_api(api_url: str, period: str) -> list:
    import httpx

    from wuye.ledger.credit.service import StoredScore

    base = api_url.rstrip("/")
    try:
        with httpx.Client(timeout=30) as client:
            r = client.get(f"{base}/api/v1/credit/public/scores", params={"period": period})
            r.raise_for_status()
            records = []
            for s in r.json():
                inputs = client.get(f"{base}{s['inputs_url']}")
                inputs.raise_for_status()
                label = f"{s['subject_kind']} {s['subject_name'] or s['subject_id']}"
                records.append(StoredScore(s["subject_ref"], label, s["computed"], inputs.content))
    except httpx.HTTPError as exc:
        raise click.ClickException(
            f"无法读取评分 / cannot fetch scores from {base}: {exc}"
        ) from exc
    return records
