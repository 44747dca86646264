"""`wuye sandbox` as the host's operators run it."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlalchemy import func, select

from tests.sandbox.conftest import new_app
from wuye.adapters.telemetry.models import Reading
from wuye.platform.db import Scope
from wuye.sandbox.models import Promotion, SandboxApp


def _wuye(live, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "WUYE_DATABASE_URL": live.database.url,
        "WUYE_VAR_DIR": str(live.settings.var_dir),
        "WUYE_SECRET_KEY": live.settings.secret_key.get_secret_value(),
    }
    return subprocess.run(
        [sys.executable, "-m", "wuye", *args], env=env, capture_output=True, text=True, timeout=120
    )


def _readings(live, tenant_id: str) -> int:
    with live.database.transaction(Scope.tenant(tenant_id)) as s:
        return s.scalar(select(func.count()).select_from(Reading))


def test_sandbox_devices_keep_streaming_simulated_telemetry(live):
    sandbox = new_app(live)
    before = _readings(live, sandbox.tenant_id)
    done = _wuye(
        live, "sandbox", "simulate", sandbox.app_id, "--direct", "--messages", "20", "--rate", "200"
    )
    assert done.returncode == 0, done.stderr
    assert "done: 20 messages" in done.stdout
    assert _readings(live, sandbox.tenant_id) > before


def test_host_reviews_a_promotion_request_from_the_cli(live):
    from wuye.sandbox import service

    sandbox = new_app(live)
    with live.database.transaction(Scope.for_host()) as s:
        service.request_promotion(
            session=s,
            app_id=sandbox.app_id,
            developer_id=sandbox.developer_id,
            redirect_uri="https://care.example.com/cb",
            note="",
        )
    listed = _wuye(live, "sandbox", "apps")
    assert sandbox.app_id in listed.stdout and "requested" in listed.stdout
    decided = _wuye(
        live, "sandbox", "review", sandbox.app_id, "--reject", "--reason", "缺少隐私政策"
    )
    assert decided.returncode == 0, decided.stderr
    with live.database.transaction(Scope.for_host()) as s:
        app = s.get(SandboxApp, sandbox.app_id)
        assert app.promotion is Promotion.REJECTED and app.production_client_id is None
    again = _wuye(live, "sandbox", "review", sandbox.app_id, "--approve")
    assert again.returncode == 1 and "not requested" in again.stderr
