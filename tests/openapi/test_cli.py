"""`wuye adapters` and `wuye openapi` as an operator runs them: a firm's legacy system,
described by its OpenAPI document, onboarded into the firm's tenant by the mapping file
and nothing else."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from tests.factories import make_tenant
from tests.serving import serving
from wuye.platform.db import Database, Scope
from wuye.platform.estates.models import Unit
from wuye.platform.owners.models import Owner
from wuye.sandbox.mocks.legacy_pms import LegacyPropertySystem

MAPPING = Path(__file__).parents[2] / "wuye" / "openapi" / "mappings" / "legacy-pms.yaml"


def _wuye(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wuye", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_adapters_check_lists_every_unmapped_required_field(tmp_path):
    text = MAPPING.read_text().replace("      name: xqmc\n", "").replace("      floor: lc\n", "")
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        text.replace("document: legacy-pms", f"document: {MAPPING.parent}/legacy-pms")
    )
    done = _wuye("adapters", "check", str(broken), env={})
    assert done.returncode == 1
    assert "required wuye field 'name' is not mapped" in done.stdout
    assert "required wuye field 'floor' is not mapped" in done.stdout
    ok = _wuye("adapters", "check", str(MAPPING), env={})
    assert ok.returncode == 0 and "映射有效 / mapping is valid" in ok.stdout


def test_adapters_run_onboards_a_legacy_system_into_the_firms_tenant(tmp_path):
    url = f"sqlite:///{tmp_path / 'wuye.db'}"
    database = Database(url)
    database.create_all()
    tenant = make_tenant(database, "翠苑物业")
    system = LegacyPropertySystem(api_key="firm-key")
    with serving(system.app()) as legacy_url:
        env = {
            "WUYE_DATABASE_URL": url,
            "WUYE_VAR_DIR": str(tmp_path / "var"),
            "LEGACY_PMS_URL": legacy_url,
            "LEGACY_PMS_KEY": "firm-key",
        }
        dry = _wuye("adapters", "run", str(MAPPING), "--tenant", tenant, "--dry-run", env=env)
        assert dry.returncode == 0, dry.stderr
        assert "(dry run)" in dry.stdout
        with database.transaction(Scope.tenant(tenant)) as s:
            assert s.scalar(select(func.count()).select_from(Unit)) == 0
        done = _wuye("adapters", "run", str(MAPPING), "--tenant", tenant, env=env)
    assert done.returncode == 0, done.stderr
    assert "unit: created 40, skipped 0, failed 0" in done.stdout
    assert "owner YZ00006" in done.stderr  # the mistyped phone number, by record
    assert "completed_with_errors" in done.stdout
    with database.transaction(Scope.tenant(tenant)) as s:
        assert s.scalar(select(func.count()).select_from(Unit)) == 40
        assert s.scalar(select(func.count()).select_from(Owner)) == 35
    database.dispose()


def test_openapi_diff_reports_the_live_document_against_the_contract():
    done = _wuye("openapi", "diff", env={})
    assert done.returncode == 0, done.stdout + done.stderr
    assert "contract" in done.stdout
