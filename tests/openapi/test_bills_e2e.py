"""End to end: the platform serves the sandbox and its utility mock; an operator imports
that mock's bills into a developer's sandbox tenant with `wuye adapters run` and the
mapping file alone, runs it again, and the sandbox's API shows every bill once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sandbox.conftest import fast_password_hashing, live_platform, new_app
from wuye.openapi.adapters import mapping, runner
from wuye.platform.pii import PersonalDataCipher
from wuye.sandbox.mocks.utility import DEMO_KEY_ID, DEMO_PRIVATE_KEY_HEX

MAPPING = Path(__file__).parents[2] / "wuye" / "openapi" / "mappings" / "utility-bills.yaml"


@pytest.fixture
def live(sqlite_database, tmp_path, monkeypatch):
    fast_password_hashing(monkeypatch)
    with live_platform(sqlite_database, tmp_path) as platform:
        yield platform


def _bills(live, sandbox, **params) -> dict:
    with live.http() as http:
        token = live.token(sandbox, "bills:read")
        r = http.get("/api/v1/bills", params=params, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return r.json()


def test_sandbox_utility_bills_are_imported_by_the_mapping_file_once(live, tmp_path):
    sandbox = new_app(live)
    env = {
        "WUYE_DATABASE_URL": live.database.engine.url.render_as_string(hide_password=False),
        "WUYE_VAR_DIR": str(tmp_path / "var"),
        "WUYE_SECRET_KEY": live.settings.secret_key.get_secret_value(),
        "UTILITY_URL": f"{live.url}/sandbox/mocks/utility",
        "UTILITY_KEY_ID": DEMO_KEY_ID,
        "UTILITY_PRIVATE_KEY": DEMO_PRIVATE_KEY_HEX,
    }
    done = subprocess.run(
        [sys.executable, "-m", "wuye", "adapters", "run", str(MAPPING), "--tenant",
         sandbox.tenant_id],
        env={**os.environ, **env}, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "bill: created 72, skipped 0, failed 0" in done.stdout
    assert "状态 / status: completed" in done.stdout
    page = _bills(live, sandbox, issuer="utility", limit=500)
    assert page["total"] == 72
    assert {b["kind"] for b in page["items"]} == {"water", "electricity", "gas"}
    # every bill is on a unit of the sandbox's estate, billed to that unit's owner
    with live.http() as http:
        token = live.token(sandbox, "estates:read")
        units = http.get(
            "/api/v1/units", params={"limit": 500}, headers={"Authorization": f"Bearer {token}"}
        ).json()
    assert {b["unit_id"] for b in page["items"]} <= {u["id"] for u in units["items"]}
    assert all(b["owner_id"] for b in page["items"])
    # the operator runs it again: nothing is billed twice
    again = runner.run(
        mapping.load(MAPPING, env=env),
        database=live.database,
        cipher=PersonalDataCipher(live.settings.secret_bytes()),
        tenant_id=sandbox.tenant_id,
    )
    assert again.counts["bill"] == {"created": 0, "skipped": 72, "failed": 0}
    assert _bills(live, sandbox, issuer="utility")["total"] == 72


def test_provident_fund_transfers_pay_the_sandboxs_property_fee_bills(live, tmp_path):
    from wuye.sandbox.mocks.hpf import DEMO_API_KEY

    sandbox = new_app(live)
    fees = _bills(live, sandbox, kind="property_fee", limit=500)
    assert fees["total"] > 0 and all(b["status"] == "unpaid" for b in fees["items"])
    hpf = MAPPING.with_name("hpf-property-fees.yaml")
    env = {"HPF_URL": f"{live.url}/sandbox/mocks/hpf", "HPF_KEY": DEMO_API_KEY}
    cipher = PersonalDataCipher(live.settings.secret_bytes())
    run = runner.run(
        mapping.load(hpf, env=env), database=live.database, cipher=cipher,
        tenant_id=sandbox.tenant_id,
    )  # fmt: skip
    assert run.counts["bill_payment"] == {"created": 5, "skipped": 0, "failed": 0}
    paid = [b for b in _bills(live, sandbox, kind="property_fee", limit=500)["items"]
            if b["paid_fen"]]  # fmt: skip
    assert len(paid) == 5
    again = runner.run(
        mapping.load(hpf, env=env), database=live.database, cipher=cipher,
        tenant_id=sandbox.tenant_id,
    )  # fmt: skip
    assert again.counts["bill_payment"]["created"] == 0
