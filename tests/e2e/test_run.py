"""`wuye run` (what `make run` starts) on a fresh var dir: seeded, serving, embedded services up."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt

from tests.serving import free_port as _free_port


def _token(base: str, firm: dict, scope: str) -> str:
    return httpx.post(
        f"{base}/oauth/token",
        data={"grant_type": "client_credentials", "scope": scope},
        auth=(firm["client_id"], firm["client_secret"]),
    ).json()["access_token"]


def test_wuye_run_seeds_serves_and_stops_cleanly(tmp_path: Path):
    port, mqtt_port, ledger_port = _free_port(), _free_port(), _free_port()
    sandbox_port = _free_port()
    env = dict(
        os.environ,
        WUYE_VAR_DIR=str(tmp_path / "var"),
        WUYE_EMBEDDED_MQTT_PORT=str(mqtt_port),
        WUYE_EMBEDDED_LEDGER_PORT=str(ledger_port),
        WUYE_EMBEDDED_SANDBOX_LEDGER_PORT=str(sandbox_port),
        WUYE_PUBLIC_URL=f"http://127.0.0.1:{port}",
    )
    env.pop("WUYE_DATABASE_URL", None)
    env.pop("WUYE_MQTT_URL", None)
    env.pop("WUYE_LEDGER_URL", None)
    env.pop("WUYE_SANDBOX_LEDGER_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "wuye", "run", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300  # seeds the ledger's demo year first
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.3)
            assert proc.poll() is None, proc.stdout.read()
        else:
            raise AssertionError("wuye run did not start")

        assert "物业开放平台" in httpx.get(base + "/").text
        creds = json.loads((tmp_path / "var" / "demo-credentials.json").read_text())
        firm = creds["firms"][1]
        token = _token(base, firm, "estates:read")
        units = httpx.get(
            f"{base}/api/v1/units", headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert units["total"] == 36

        rpc = httpx.post(
            f"http://127.0.0.1:{ledger_port}",
            json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
        ).json()
        assert rpc["result"].startswith("0x")

        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        client.connect("127.0.0.1", mqtt_port)
        client.disconnect()

        # Simulated devices publish protected telemetry; the run's ingest stores it.
        scope = "estates:read devices:read telemetry:read"
        bearer = {"Authorization": f"Bearer {_token(base, firm, scope)}"}
        estate_id = httpx.get(f"{base}/api/v1/estates", headers=bearer).json()["items"][0]["id"]
        subprocess.run(
            [sys.executable, "-m", "wuye", "devices", "simulate", "--estate", estate_id,
             "--devices", "2", "--types", "water_meter", "--rate", "0", "--messages", "6"],
            env=env | {"WUYE_MQTT_URL": f"mqtt://127.0.0.1:{mqtt_port}"},
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
        devices = httpx.get(
            f"{base}/api/v1/devices", params={"estate_id": estate_id}, headers=bearer
        ).json()["items"]
        assert len(devices) == 2
        deadline = time.monotonic() + 30
        latest: list = []
        while time.monotonic() < deadline and not latest:
            answer = httpx.get(
                f"{base}/api/v1/devices/{devices[0]['id']}/telemetry/latest", headers=bearer
            )
            assert answer.status_code == 200, answer.text
            latest = answer.json()
            time.sleep(0.3)
        assert latest, "the run's ingest stored no telemetry"

        _the_ledger_demo_is_there_and_checks_out(base, creds, env, ledger_port, tmp_path)
        _a_new_sandbox_lives_on_the_sandbox_ledger(base, env, ledger_port, sandbox_port)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, _ = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
    for url in (f"{base}/", f"{base}/docs", f"{base}/onboarding", f"{base}/explorer"):
        assert url in out, f"{url} not printed"
    assert proc.returncode == 0, out[-2000:]


def _rpc(port: int, method: str) -> str:
    answer = httpx.post(
        f"http://127.0.0.1:{port}",
        json={"jsonrpc": "2.0", "id": 1, "method": method, "params": []},
    ).json()
    return answer["result"]


def _a_new_sandbox_lives_on_the_sandbox_ledger(base, env, ledger_port, sandbox_port):
    """A developer signs up on the portal and creates an app: the sandbox estate gets its
    fund history and a vote in progress on the embedded sandbox ledger, a chain of its
    own, and the platform's ledger does not move."""
    from wuye.ledger.network import SANDBOX_CHAIN_ID

    assert int(_rpc(sandbox_port, "eth_chainId"), 16) == SANDBOX_CHAIN_ID
    platform_head = _rpc(ledger_port, "eth_blockNumber")

    def csrf(page: str) -> str:
        return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)

    with httpx.Client(base_url=base, timeout=120, follow_redirects=False) as portal:
        page = portal.get("/developer/signup").text
        signed_up = portal.post(
            "/developer/signup",
            data={"csrf_token": csrf(page), "username": "e2e-dev", "password": "s3cret-pass",
                  "display_name": "社区服务科技", "email": "dev@example.com"},
        )  # fmt: skip
        assert signed_up.status_code == 303, signed_up.text[:500]
        page = portal.get("/developer/apps").text
        created = portal.post(
            "/developer/apps", data={"csrf_token": csrf(page), "name": "社区团购"}
        )
        assert created.status_code == 201, created.text[:1000]
    client_id = re.search(r'<code id="client-id">([^<]+)</code>', created.text).group(1)
    secret = re.search(r'<code id="client-secret">([^<]+)</code>', created.text).group(1)
    token = httpx.post(
        f"{base}/oauth/token",
        data={"grant_type": "client_credentials", "scope": "estates:read votes:read funds:read"},
        auth=(client_id, secret),
    ).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    estate = httpx.get(f"{base}/api/v1/estates", headers=bearer).json()["items"][0]["id"]
    votes = httpx.get(f"{base}/api/v1/elections", params={"status": "open"}, headers=bearer)
    assert votes.json()["total"] == 1, votes.text
    reconcile = subprocess.run(
        [sys.executable, "-m", "wuye", "fund", "reconcile", "--estate", estate],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert reconcile.returncode == 0, reconcile.stdout + reconcile.stderr
    assert _rpc(ledger_port, "eth_blockNumber") == platform_head


def _the_ledger_demo_is_there_and_checks_out(base, creds, env, ledger_port, tmp_path):
    """A year of one estate's fund, a repair its owners approved by vote, an emergency
    repair, and rated firms - all on the embedded ledger, reconciled and verified."""
    fund_estate = None
    for firm in creds["firms"]:
        bearer = {"Authorization": f"Bearer {_token(base, firm, 'estates:read funds:read')}"}
        for estate in httpx.get(f"{base}/api/v1/estates", headers=bearer).json()["items"]:
            if estate["code"] == "YQ-01":
                fund_estate = (estate["id"], bearer)
    assert fund_estate, "no demo estate YQ-01"
    estate_id, bearer = fund_estate
    monthly = httpx.get(f"{base}/api/v1/fund/estates/{estate_id}/monthly", headers=bearer)
    assert monthly.status_code == 200, monthly.text
    assert len(monthly.json()) >= 12
    assert all(m["closing_balance_fen"] > 0 for m in monthly.json())
    projects = httpx.get(f"{base}/api/v1/fund/estates/{estate_id}/projects", headers=bearer)
    kinds = {
        (p["emergency"], p["status"], p["ballot_id"] is not None) for p in projects.json()["items"]
    }
    assert (False, "completed", True) in kinds or (False, "approved", True) in kinds, kinds
    assert any(emergency for emergency, _, _ in kinds), kinds

    firms = httpx.get(f"{base}/api/v1/credit/public/firms").json()
    assert len(firms) == 3 and all(f["latest"] for f in firms), firms
    profile = httpx.get(f"{base}/api/v1/credit/public/firms/{firms[0]['tenant_id']}").json()
    assert len(profile["history"]) == 12

    # ... and a regulator sees it all in the explorer, served from the ledger.
    estate_page = httpx.get(f"{base}/explorer/estates/{estate_id}", follow_redirects=True)
    assert estate_page.status_code == 200, estate_page.text[:500]
    assert estate_page.text.count("<svg") >= 3
    movements = httpx.get(estate_page.url, params={"format": "csv"}).text.splitlines()
    assert len(movements) > 12
    votes = httpx.get(estate_page.url, params={"format": "csv", "listing": "votes"})
    assert len(votes.text.splitlines()) >= 2, votes.text
    firms_page = httpx.get(f"{base}/explorer/firms", params={"format": "csv"})
    assert len(firms_page.text.splitlines()) >= 4, firms_page.text

    rpc = f"http://127.0.0.1:{ledger_port}"
    reconcile = subprocess.run(
        [sys.executable, "-m", "wuye", "fund", "reconcile", "--estate", estate_id],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert reconcile.returncode == 0, reconcile.stdout + reconcile.stderr
    genesis = tmp_path / "var" / "ledger" / "genesis.json"
    verify = subprocess.run(
        [sys.executable, "-m", "wuye", "ledger", "verify", "--rpc", rpc, "--genesis", str(genesis)],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert verify.returncode == 0, verify.stdout + verify.stderr
