"""`wuye openapi` (the published contract) and `wuye adapters` (mappings to external systems)."""

from __future__ import annotations

import json

import click


@click.group()
def openapi() -> None:
    """OpenAPI 契约 / The platform's published OpenAPI contract."""


@openapi.command("diff")
def openapi_diff() -> None:
    """与已发布契约比较 / Compare the live document with the published snapshot."""
    from wuye.openapi import compat, contract
    from wuye.openapi.views import live_document

    live = live_document()
    old = contract.load_snapshot()
    if old is None:
        raise click.ClickException(f"no snapshot yet; run `{contract.REFRESH_COMMAND}`")
    problems = compat.breaking_changes(old, live)
    for line in problems:
        click.echo(f"不兼容 / breaking: {line}")
    if problems:
        raise SystemExit(1)
    state = "有兼容变更 / compatible changes" if compat.differs(old, live) else "一致 / same"
    click.echo(f"{state} (contract {contract.contract_version()})")


@openapi.command("snapshot")
@click.option(
    "--bump",
    type=click.Choice(["major", "minor", "patch"]),
    default=None,
    help="版本号升级 / version part to raise (default: minor when anything changed).",
)
@click.option("--note", default="", help="变更说明 / a line for the changelog.")
def openapi_snapshot(bump: str | None, note: str) -> None:
    """刷新已发布契约 / Publish the live document as the contract (with changelog entry).

    Refuses a breaking change unless ``--bump major``.
    """
    from wuye.openapi import contract
    from wuye.openapi.views import live_document

    try:
        version, lines = contract.refresh(live_document(), bump=bump, note=note)
    except contract.IncompatibleChange as exc:
        for line in exc.problems:
            click.echo(f"不兼容 / breaking: {line}", err=True)
        raise click.ClickException(
            "不兼容变更需升级主版本 / breaking changes need `--bump major`"
        ) from exc
    if not lines:
        click.echo(f"契约未变 / contract unchanged ({version})")
        return
    click.echo(f"契约已更新 / contract {version}: {contract.snapshot_path(version)}")
    for line in lines:
        click.echo(f"  {line}")


@openapi.command("show")
def openapi_show() -> None:
    """打印当前文档 / Print the live document."""
    from wuye.openapi.views import live_document

    click.echo(json.dumps(live_document(), ensure_ascii=False, indent=1))
