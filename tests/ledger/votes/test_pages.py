"""Resident pages in headless Chromium: encrypt in the browser, audit, cast, keep and check
the receipt, see the results."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from tests.browser import launch, needs_chromium
from tests.factories import make_tenant
from tests.serving import serving
from wuye.ledger.votes.receipts import verify_offline
from wuye.ledger.votes.service import VotesLedger
from wuye.ledger.votes.tally import ceremony_context
from wuye.ledger.votes.trustees import ceremony

pytestmark = needs_chromium


@pytest.fixture
def server(app, ledger, sqlite_database):
    _, officer, record = ledger
    app.state.votes_ledger = VotesLedger(officer, record)
    with serving(app) as base:
        yield base


@pytest.fixture
def database(sqlite_database):
    """The browser test runs on SQLite only; the API test covers PostgreSQL."""
    return sqlite_database


def test_resident_casts_audits_keeps_and_checks_a_receipt(server, database, settings, tmp_path):
    from playwright.sync_api import sync_playwright

    from wuye.federation.models import Role
    from wuye.federation.tokens import issue_access_token

    tenant = make_tenant(database)

    def token(subject, role, scopes):
        return issue_access_token(
            settings=settings,
            database=database,
            tenant_id=tenant,
            subject=subject,
            client_id="pages-test",
            scopes=scopes,
            role=role,
        )

    admin = {
        "Authorization": "Bearer "
        + token(
            "admin",
            Role.TENANT_ADMIN,
            ["estates:read", "estates:write", "votes:read", "votes:manage", "votes:cast"],
        )
    }
    api = httpx.Client(base_url=server, headers=admin, timeout=60)

    def post(path, body=None):
        r = api.post(path, json=body)
        assert r.status_code in (200, 201), r.text
        return r.json()

    estate = post("/api/v1/estates", {"code": "P", "name": "页面小区"})["id"]
    building = post(f"/api/v1/estates/{estate}/buildings", {"name": "1幢", "floors": 5})["id"]
    units = [
        post(
            f"/api/v1/buildings/{building}/units",
            {"number": f"{n}01", "floor": n, "floor_area_m2": "100.00"},
        )["id"]
        for n in (1, 2)
    ]
    owner = post("/api/v1/owners", {"name": "王业主"})["id"]
    post(f"/api/v1/units/{units[0]}/owners", {"owner_id": owner})
    election = post(
        "/api/v1/elections",
        {
            "estate_id": estate,
            "title": "续聘物业服务企业",
            "matter": "property_manager",
            "threshold": 1,
            "trustees": 1,
        },
    )["id"]
    dealings, keys = ceremony(1, 1, ceremony_context(election))
    post(f"/api/v1/elections/{election}/trustees", {"dealings": [d.to_json() for d in dealings]})
    post(f"/api/v1/elections/{election}/open")
    owner_token = token(f"owner:{owner}", Role.OWNER, ["estates:read", "votes:read", "votes:cast"])

    with sync_playwright() as pw:
        browser = launch(pw)
        page = browser.new_page(accept_downloads=True)
        page.goto(f"{server}/votes#token={owner_token}")
        page.wait_for_selector(f"a[href='/votes/{election}']")
        page.click(f"a[href='/votes/{election}']")
        page.wait_for_function(
            "document.getElementById('title').textContent === '续聘物业服务企业'"
        )
        page.fill("#owner", owner)
        page.dispatch_event("#owner", "change")
        page.wait_for_selector(f"#unit option[value='{units[0]}']", state="attached")
        page.check("input[name=choice][value='0']")
        page.click("#encrypt")
        first = page.text_content("#tracker")
        assert first and len(first) == 64
        page.click("#audit")
        assert "审计通过" in page.text_content("#message")
        audited = json.loads(page.text_content("#audit-out"))
        assert audited["tracker"] == first and audited["revealed"]["choice"] == 0
        page.click("#encrypt")
        tracker = page.text_content("#tracker")
        assert tracker != first
        page.click("#cast")
        page.wait_for_selector("#receipt-card:not([hidden])", timeout=30000)
        assert "已上链" in page.text_content("#message")
        assert page.query_selector("#qr svg") is not None
        with page.expect_download() as download:
            page.click("#download")
        receipt = json.loads(Path(download.value.path()).read_text())
        assert receipt["tracker"] == "0x" + tracker
        assert len(verify_offline(receipt)) == 2

        page.goto(f"{server}/votes/receipt")
        page.fill("#text", json.dumps(receipt))
        page.click("#check")
        page.wait_for_function("document.getElementById('verdict').textContent !== ''")
        assert "回执有效" in page.text_content("#verdict")
        page.fill("#text", json.dumps(receipt | {"tracker": "0x" + "ab" * 32}))
        page.click("#check")
        page.wait_for_function("document.getElementById('verdict').dataset.ok === 'false'")
        assert "tracker" in page.text_content("#verdict")

        post(f"/api/v1/elections/{election}/close")
        from types import SimpleNamespace

        from wuye.ledger.votes.elgamal import Ciphertext
        from wuye.ledger.votes.tally import share_tally

        tally = {
            (int(k.split(":")[0]), k.split(":")[1]): Ciphertext.from_json(v) if v else None
            for k, v in api.get(f"/api/v1/elections/{election}/tally").json().items()
        }
        manifest = api.get(f"/api/v1/elections/{election}/manifest").json()
        holder = SimpleNamespace(fingerprint=bytes.fromhex(manifest["fingerprint"]))
        shares = share_tally(holder, keys[0], tally)  # type: ignore[arg-type]
        post(
            f"/api/v1/elections/{election}/decryptions",
            {"index": 1, "shares": {f"{j}:{w}": s.to_json() for (j, w), s in shares.items()}},
        )

        page.goto(f"{server}/votes/{election}/results")
        page.wait_for_function("document.getElementById('decision').textContent !== ''")
        rows = page.text_content("#results tbody")
        assert "同意" in rows and "100" in rows
        assert "参与不足三分之二" in page.text_content("#decision")  # 1 of 2 units voted
        browser.close()
