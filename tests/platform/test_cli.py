"""The `wuye` command: settings, migrations, the demo seed, errors as one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from wuye.platform.cli import cli
from wuye.platform.settings import get_settings


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("WUYE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("WUYE_SECRET_KEY", "cli-test-secret-0123456789")
    monkeypatch.delenv("WUYE_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_config_show_masks_secrets_and_url_passwords(runner, monkeypatch):
    monkeypatch.setenv("WUYE_DATABASE_URL", "postgresql+psycopg://wuye:hunter2@db/wuye")
    get_settings.cache_clear()
    result = runner.invoke(cli, ["config", "show", "--json"])
    assert result.exit_code == 0, result.output
    values = json.loads(result.output)
    assert "hunter2" not in result.output
    assert "cli-test-secret" not in result.output
    assert values["secret_key"] == "******"
    assert values["database_url"] == "postgresql+psycopg://wuye:***@db/wuye"


def test_db_upgrade_then_demo_seed_prints_three_firms(runner):
    assert runner.invoke(cli, ["db", "upgrade"]).exit_code == 0
    result = runner.invoke(cli, ["demo", "seed", "--json"])
    assert result.exit_code == 0, result.output
    firms = json.loads(result.output)["firms"]
    assert [f["kind"] for f in firms] == ["host", "member", "member"]
    assert all(f["client_id"] and f["client_secret"] and f["admin_password"] for f in firms)


def test_seeding_twice_is_refused_in_one_line(runner):
    runner.invoke(cli, ["demo", "seed", "--json"])
    result = runner.invoke(cli, ["demo", "seed"])
    assert result.exit_code != 0
    assert "demo data already present" in result.output
    assert "Traceback" not in result.output


def test_an_unreachable_database_is_one_line_and_non_zero(runner, monkeypatch):
    monkeypatch.setenv("WUYE_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    get_settings.cache_clear()
    result = runner.invoke(cli, ["db", "upgrade"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: 数据库错误 / database error")
    assert len(result.output.strip().splitlines()) == 1


def test_every_command_has_help():
    def walk(group, prefix):
        for name, command in group.commands.items():
            yield [*prefix, name]
            if hasattr(command, "commands"):
                yield from walk(command, [*prefix, name])

    runner = CliRunner()
    for path in walk(cli, []):
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, f"wuye {' '.join(path)} --help: {result.output}"


def test_the_console_script_runs():
    out = subprocess.run(
        [sys.executable, "-m", "wuye", "--help"], capture_output=True, text=True, check=True
    )
    assert "serve" in out.stdout and "federation" in out.stdout
