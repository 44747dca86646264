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


@click.group()
def adapters() -> None:
    """对接外部系统 / Adapters: map external systems described by OpenAPI documents."""


@adapters.command("check")
@click.argument("mapping_file", type=click.Path(exists=True, dir_okay=False))
def adapters_check(mapping_file: str) -> None:
    """校验映射 / Validate MAPPING_FILE against both documents; lists every unmapped
    required field."""
    from wuye.openapi.adapters import mapping, runner

    issues = runner.check(mapping.load(mapping_file))
    for issue in issues:
        label = "错误 / error" if runner.is_error(issue) else "提示 / note"
        click.echo(f"{label}: {issue}")
    errors = [i for i in issues if runner.is_error(i)]
    if errors:
        raise click.ClickException(f"映射有 {len(errors)} 处错误 / {len(errors)} problem(s)")
    click.echo("映射有效 / mapping is valid")


@adapters.command("run")
@click.argument("mapping_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--tenant", "tenant_id", required=True, help="导入到的租户 / tenant id.")
@click.option("--dry-run", is_flag=True, help="只校验与映射，不写入 / map and validate only.")
def adapters_run(mapping_file: str, tenant_id: str, dry_run: bool) -> None:
    """运行映射 / Run MAPPING_FILE: import (or push) with progress; re-run to resume."""
    import wuye.platform.models  # noqa: F401 - every table, for the relationships
    from wuye.openapi.adapters import mapping, runner
    from wuye.platform.db import Database
    from wuye.platform.pii import PersonalDataCipher
    from wuye.platform.settings import get_settings

    settings = get_settings()
    database = Database(settings.effective_database_url)
    try:
        report = runner.run(
            mapping.load(mapping_file),
            database=database,
            cipher=PersonalDataCipher(settings.secret_bytes()),
            tenant_id=tenant_id,
            dry_run=dry_run,
            progress=click.echo,
        )
    finally:
        database.dispose()
    for entity, counts in report.counts.items():
        click.echo(f"{entity}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    for error in report.errors:
        click.echo(f"失败 / failed {error['entity']} {error['key']}: {error['error']}", err=True)
    click.echo(f"状态 / status: {report.status}" + (" (dry run)" if dry_run else ""))
    if report.status == "interrupted":
        raise SystemExit(2)
