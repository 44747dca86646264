"""Resident pages in headless Chromium: sign in with phone and code, choose the co-owned
unit's caster, make the voting credential in the browser before the vote opens, encrypt,
audit, sign and cast, keep and check the receipt, see the results."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from tests.browser import launch, needs_chromium
from tests.factories import make_tenant
from tests.serving import free_port, serving
from wuye.ledger.genesis import Genesis
from wuye.ledger.votes.receipts import verify_offline
from wuye.ledger.votes.service import VotesLedger
from wuye.ledger.votes.tally import ceremony_context
from wuye.ledger.votes.trustees import ceremony

pytestmark = needs_chromium


@pytest.fixture
def port():
    return free_port()


@pytest.fixture
def settings(tmp_path, port):
    """Served on ``port``, so the resident client's redirect URI is the server's own."""
    from wuye.platform.settings import Settings

    return Settings(
        var_dir=tmp_path / "var",
        secret_key="test-secret-key-0123456789",
        public_url=f"http://127.0.0.1:{port}",
    )


@pytest.fixture
def server(app, ledger, sqlite_database, port):
    _, officer, record = ledger
    app.state.votes_ledger = VotesLedger(officer, record)
    with serving(app, port) as base:
        yield base


@pytest.fixture
def database(sqlite_database):
    """The browser test runs on SQLite only; the API test covers PostgreSQL."""
    return sqlite_database


def test_resident_signs_in_chooses_casts_audits_keeps_and_checks_a_receipt(
    server, app, node, database, settings
):
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
    owner = post("/api/v1/owners", {"name": "王业主", "phone": "13955556666"})["id"]
    spouse = post("/api/v1/owners", {"name": "陈业主"})["id"]
    post(f"/api/v1/units/{units[0]}/owners", {"owner_id": owner})
    post(f"/api/v1/units/{units[0]}/owners", {"owner_id": spouse})
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
    spouse_token = token(f"owner:{spouse}", Role.OWNER, ["votes:read", "votes:cast"])

    with sync_playwright() as pw:
        browser = launch(pw)
        page = browser.new_page(accept_downloads=True)
        page.goto(f"{server}/votes")  # no token: the page sends the owner to sign in
        page.wait_for_selector("#phone")
        assert "/oauth/authorize" in page.url
        page.fill("#phone", "139 5555 6666")
        page.click("#send-code")
        page.wait_for_selector("#code")
        phone, text = app.state.sms_gateway.outbox[-1]
        assert phone == "13955556666"
        page.fill("#code", re.search(r"(\d{6})", text).group(1))
        page.click("#verify-code")
        page.wait_for_selector(f"a[href='/votes/{election}']")
        assert "业主已登录" in page.text_content("#who")
        page.click(f"a[href='/votes/{election}']")
        page.wait_for_function(
            "document.getElementById('title').textContent === '续聘物业服务企业'"
        )
        page.wait_for_selector(".nomination .nominate")
        assert page.query_selector(f"#unit option[value='{units[0]}']") is None
        page.select_option(".nomination .nominee", owner)
        page.click(".nomination .nominate")
        page.wait_for_function(
            "document.querySelector('.nomination .state').textContent.includes('待全体共有人确认')"
        )
        r = httpx.post(
            f"{server}/api/v1/elections/{election}/units/{units[0]}/nomination/confirm",
            json={},
            headers={"Authorization": f"Bearer {spouse_token}"},
        )
        assert r.status_code == 200 and r.json()["caster_id"] == owner, r.text
        page.reload()
        page.wait_for_selector(f"#unit option[value='{units[0]}']", state="attached")
        # Before the vote opens, the page makes the owner's credential; only the public key leaves.
        page.click(f".make-credential[data-unit='{units[0]}']")
        page.wait_for_function(
            "document.querySelector('.credential .state').textContent.includes('本机持有')"
        )
        with page.expect_download() as download:
            page.click("#credential-download")
        credential = json.loads(Path(download.value.path()).read_text())
        listed = api.get(f"/api/v1/elections/{election}/credentials").json()
        assert {c["unit_id"]: c["public_key"] for c in listed}[units[0]] == credential["public_key"]
        assert credential["private_key"] not in json.dumps(listed)
        post(f"/api/v1/elections/{election}/open")
        page.reload()
        page.wait_for_selector(f"#unit option[value='{units[0]}']", state="attached")
        page.wait_for_selector(".credential")
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
        assert len(verify_offline(receipt, genesis=Genesis.load(node.genesis_path))) == 2

        page.goto(f"{server}/votes/receipt")
        page.fill("#text", json.dumps(receipt))
        page.click("#check")
        page.wait_for_function("document.getElementById('verdict').textContent !== ''")
        assert "回执有效" in page.text_content("#verdict")
        page.fill("#text", json.dumps(receipt | {"tracker": "0x" + "ab" * 32}))
        page.click("#check")
        page.wait_for_function("document.getElementById('verdict').dataset.ok === 'false'")
        assert "tracker" in page.text_content("#verdict")

        # Voting again before the close: the new ballot counts, the first receipt says so.
        page.goto(f"{server}/votes/{election}")
        page.wait_for_selector(f"#unit option[value='{units[0]}']", state="attached")
        assert "可重投" in page.text_content(f"#unit option[value='{units[0]}']")
        page.check("input[name=choice][value='0']")
        page.click("#encrypt")
        page.click("#cast")
        page.wait_for_selector("#receipt-card:not([hidden])", timeout=30000)
        page.goto(f"{server}/votes/receipt")
        page.fill("#text", json.dumps(receipt))
        page.click("#check")
        page.wait_for_function("document.getElementById('verdict').dataset.ok === 'false'")
        assert "superseded" in page.text_content("#verdict")

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
        # This election asked for no trustee endorsement: the page says who vouches.
        assert "仅由平台担保" in page.text_content("#endorsed")
        browser.close()
