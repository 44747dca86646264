"""``wuye federation``: the same onboarding as over HTTP, from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from wuye.federation.cli import federation
from wuye.federation.models import Tenant
from wuye.platform.db import Database, Scope
from wuye.platform.settings import get_settings

from .conftest import credit_code


@pytest.fixture
def cli_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Database:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("WUYE_DATABASE_URL", url)
    monkeypatch.setenv("WUYE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("WUYE_SECRET_KEY", "cli-test-secret-0123456789")
    get_settings.cache_clear()
    database = Database(url)
    database.create_all()
    yield database
    database.dispose()
    get_settings.cache_clear()


def test_onboard_approve_json_prints_the_new_tenant_and_client(cli_database: Database) -> None:
    result = CliRunner().invoke(
        federation,
        ["onboard", "--name", "温州物业", "--credit-code", credit_code(), "--approve", "--json"],
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert {"tenant_id", "client_id", "client_secret"} <= out.keys()
    with cli_database.transaction(Scope.for_host()) as session:
        assert session.get(Tenant, out["tenant_id"]).status == "active"


def test_onboard_with_a_wrong_check_character_fails_in_one_line(cli_database: Database) -> None:
    code = credit_code()
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    result = CliRunner().invoke(
        federation, ["onboard", "--name", "温州物业", "--credit-code", wrong, "--approve"]
    )
    assert result.exit_code != 0
    assert result.output.strip().splitlines() == [
        f"Error: credit_code: 校验码错误：第 18 位应为 {code[17]}，实际为 {wrong[17]} / "
        f"wrong check character: position 18 should be {code[17]}, not {wrong[17]}"
    ]
    with cli_database.transaction(Scope.for_host()) as session:
        assert session.scalar(select(func.count()).select_from(Tenant)) == 0
