"""The sandbox ledger: every sandbox starts with fund movements and a vote in progress on
a chain of its own, and nothing a sandbox does reaches the platform's (regulators') ledger.

Two real nodes run for the module, one per site, with their contracts deployed and given
to the platform through the environment, as an operator configures a ledger by URL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from eth_account import Account
from sqlalchemy import func, select

from tests.factories import make_tenant
from tests.ledger.conftest import free_port
from tests.ledger.votes.helpers import issue_letters
from tests.sandbox.conftest import Live, ledger_node, live_platform, new_app
from wuye.federation.models import Role, Tenant
from wuye.federation.tokens import issue_access_token
from wuye.ledger.fund.models import FundAccount
from wuye.ledger.network import DEFAULT_CHAIN_ID, SANDBOX_CHAIN_ID
from wuye.ledger.votes.chain import connect
from wuye.ledger.votes.models import Election, ElectionStatus
from wuye.ledger.votes.tally import ceremony_context
from wuye.ledger.votes.trustees import ceremony
from wuye.platform.db import Database, Scope
from wuye.platform.problems import Problem
from wuye.sandbox.chain import VOTED_SHARE
from wuye.sandbox.models import SandboxApp as SandboxAppRow

#: A month's parking income from common parts: any fund movement will do.
PARKING_INCOME = {
    "period": 202601,
    "category": "parking",
    "income": True,
    "amount_fen": 1000,
    "description": "停车",
}


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    root = tmp_path_factory.mktemp("two-ledgers")
    with ledger_node(root / "platform") as platform, ledger_node(root / "sandbox") as sandbox:
        yield SimpleNamespace(
            platform=platform.node, sandbox=sandbox.node, env=platform.env | sandbox.env
        )


@pytest.fixture
def two_ledgers(
    nodes: SimpleNamespace, database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Live]:
    for name, value in nodes.env.items():
        monkeypatch.setenv(name, value)
    with live_platform(
        database,
        tmp_path,
        sandbox_ledger_url=nodes.sandbox.url,
        ledger_url=nodes.platform.url,
    ) as live:
        yield live


def _head(node) -> int:  # noqa: ANN001
    return connect(node.url).eth.block_number


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_two_ledgers_are_separate_chains(nodes):
    assert connect(nodes.platform.url).eth.chain_id == DEFAULT_CHAIN_ID
    assert connect(nodes.sandbox.url).eth.chain_id == SANDBOX_CHAIN_ID


def test_a_new_sandbox_has_fund_movements_and_a_vote_in_progress_on_its_own_ledger(
    two_ledgers, nodes
):
    live = two_ledgers
    platform_head = _head(nodes.platform)
    sandbox_head = _head(nodes.sandbox)
    sandbox = new_app(live)
    assert _head(nodes.platform) == platform_head  # not one block on the regulators' ledger
    assert _head(nodes.sandbox) > sandbox_head

    scopes = "estates:read votes:read funds:read"
    with live.http(headers=_bearer(live.token(sandbox, scopes))) as http:
        estate = http.get("/api/v1/estates").json()["items"][0]
        elections = http.get("/api/v1/elections", params={"status": "open"}).json()["items"]
        assert len(elections) == 1
        vote = elections[0]
        assert vote["matter"] == "fund_use" and vote["spend_limit_fen"] > 0
        record = vote["ledger_ref"].split("/")[0]
        assert record.lower() == nodes.env["WUYE_SANDBOX_VOTES_RECORD"].lower()
        ballots = http.get(f"/api/v1/elections/{vote['id']}/ballots").json()
        accounts = http.get(f"/api/v1/fund/estates/{estate['id']}/accounts").json()
        sold = accounts["total"]
        assert sold > 20
        assert ballots["total"] == max(1, int(sold * VOTED_SHARE))
        assert all(b["block_number"] for b in ballots["items"])
        assert all(a["balance_fen"] > 0 for a in accounts["items"])
        projects = http.get(f"/api/v1/fund/estates/{estate['id']}/projects").json()["items"]
        assert sorted(p["status"] for p in projects) == ["emergency", "voting"]
        emergency = next(p for p in projects if p["status"] == "emergency")
        assert emergency["paid_fen"] == emergency["budget_fen"]
        entries = http.get(
            f"/api/v1/fund/estates/{estate['id']}/entries", params={"limit": 200}
        ).json()
        kinds = {e["kind"] for e in entries["items"]}
        assert {"purchase", "interest", "repair_payment"} <= kinds
        # The database mirrors the sandbox chain, unit by unit.
        report = http.get(f"/api/v1/fund/estates/{estate['id']}/reconciliation").json()
        assert report["ok"], report


def test_a_developers_own_votes_and_fund_records_go_to_the_sandbox_ledger_only(two_ledgers, nodes):
    live = two_ledgers
    sandbox = new_app(live)
    platform_head = _head(nodes.platform)
    scopes = "estates:read votes:read votes:manage funds:read funds:write"
    with live.http(headers=_bearer(live.token(sandbox, scopes))) as http:

        def post(path, body=None):
            r = http.post(path, json=body)
            assert r.status_code in (200, 201), r.text
            return r.json()

        estate = http.get("/api/v1/estates").json()["items"][0]["id"]
        listed = http.get("/api/v1/units", params={"estate_id": estate, "limit": 3}).json()
        units = [u["id"] for u in listed["items"]]
        election = post(
            "/api/v1/elections",
            {"estate_id": estate, "title": "开发者测试表决", "matter": "other_major"},
        )["id"]
        dealings, _ = ceremony(2, 3, ceremony_context(election))
        trustees = {"dealings": [d.to_json() for d in dealings]}
        post(f"/api/v1/elections/{election}/trustees", trustees)
        issue_letters(post, election, units)
        opened = post(f"/api/v1/elections/{election}/open")
        assert opened["status"] == "open"
        assert opened["ledger_ref"].split("/")[0].lower() == (
            nodes.env["WUYE_SANDBOX_VOTES_RECORD"].lower()
        )
        before = _head(nodes.sandbox)
        post(
            f"/api/v1/fund/estates/{estate}/common-parts",
            {
                "period": 202601,
                "category": "advertising",
                "income": True,
                "amount_fen": 88_800,
                "description": "开发者测试：电梯广告",
            },
        )
        assert _head(nodes.sandbox) > before
    assert _head(nodes.platform) == platform_head

    # A firm on the platform writes to the platform's ledger, not the sandbox's.
    member = make_tenant(live.database)
    token = issue_access_token(
        settings=live.settings,
        database=live.database,
        tenant_id=member,
        subject="staff-1",
        client_id="firm-system",
        scopes=["estates:write", "funds:write"],
        role=Role.TENANT_ADMIN,
    )
    sandbox_head = _head(nodes.sandbox)
    with live.http(headers=_bearer(token)) as http:
        r = http.post("/api/v1/estates", json={"code": "M-1", "name": "会员小区"})
        assert r.status_code == 201, r.text
        r = http.post(
            f"/api/v1/fund/estates/{r.json()['id']}/common-parts",
            json=PARKING_INCOME,
        )
        assert r.status_code == 201, r.text
    assert _head(nodes.platform) > platform_head
    assert _head(nodes.sandbox) == sandbox_head


def test_reset_gives_the_sandbox_a_fresh_vote_and_fund_history(two_ledgers, nodes):
    live = two_ledgers
    sandbox = new_app(live)
    with live.database.transaction(Scope.tenant(sandbox.tenant_id)) as s:
        (before,) = s.scalars(select(Election.id)).all()
    with live.http(headers=_bearer(live.token(sandbox, "estates:write"))) as http:
        r = http.post("/api/v1/sandbox/reset")
        assert r.status_code == 200, r.text
        counts = r.json()["counts"]
    assert counts["votes_open"] == 1 and counts["ballots_cast"] >= 1
    with live.database.transaction(Scope.tenant(sandbox.tenant_id)) as s:
        (after,) = s.scalars(select(Election)).all()
        assert after.id != before and after.status is ElectionStatus.OPEN
        accounts = s.scalar(select(func.count()).select_from(FundAccount))
    assert accounts == counts["fund_accounts"]
    with live.http(headers=_bearer(live.token(sandbox, "estates:read funds:read"))) as http:
        estate = http.get("/api/v1/estates").json()["items"][0]["id"]
        assert http.get(f"/api/v1/fund/estates/{estate}/reconciliation").json()["ok"]


def test_with_the_sandbox_ledger_off_sandboxes_work_without_votes_or_fund(
    sqlite_database, tmp_path
):
    with live_platform(sqlite_database, tmp_path / "off", sandbox_ledger_url="off") as live:
        sandbox = new_app(live)
        scopes = "estates:read votes:read votes:manage funds:write"
        with live.http(headers=_bearer(live.token(sandbox, scopes))) as http:
            assert http.get("/api/v1/elections").json()["total"] == 0
            estate = http.get("/api/v1/estates").json()["items"][0]["id"]
            r = http.post(
                f"/api/v1/fund/estates/{estate}/common-parts",
                json=PARKING_INCOME,
            )
            assert r.status_code == 409
            assert r.headers["content-type"].startswith("application/problem+json")
            assert "沙箱账本未启用" in r.json()["detail"]


def test_an_unreachable_sandbox_ledger_refuses_a_new_app_and_leaves_nothing_half_made(
    sqlite_database, tmp_path, monkeypatch
):
    closed = f"http://127.0.0.1:{free_port()}"
    somewhere = Account.create().address
    for name in ("VOTES_OFFICER_KEY", "FUND_MANAGER_KEY"):
        monkeypatch.setenv(f"WUYE_SANDBOX_{name}", Account.create().key.hex())
    for name in ("VOTES_RECORD", "FUND_CONTRACT"):
        monkeypatch.setenv(f"WUYE_SANDBOX_{name}", somewhere)
    with live_platform(sqlite_database, tmp_path / "down", sandbox_ledger_url=closed) as live:
        with live.database.transaction(Scope.for_host()) as s:
            tenants = s.scalar(select(func.count()).select_from(Tenant))
        with pytest.raises(Problem) as caught:
            new_app(live)
        assert caught.value.slug == "service-unavailable" and caught.value.status == 503
        assert "沙箱账本不可达" in str(caught.value.detail) and closed in str(caught.value.detail)
        with live.database.transaction(Scope.for_host()) as s:
            assert s.scalar(select(func.count()).select_from(Tenant)) == tenants
            assert s.scalar(select(func.count()).select_from(SandboxAppRow)) == 0


def test_a_sandbox_ledger_given_by_url_without_its_contracts_is_a_clear_conflict(
    sqlite_database, tmp_path, monkeypatch
):
    for name in ("VOTES_OFFICER_KEY", "VOTES_RECORD"):
        monkeypatch.delenv(f"WUYE_SANDBOX_{name}", raising=False)
    url = f"http://127.0.0.1:{free_port()}"
    with live_platform(sqlite_database, tmp_path / "bare", sandbox_ledger_url=url) as live:
        with pytest.raises(Problem) as caught:
            new_app(live)
    assert caught.value.status == 409
    assert "WUYE_SANDBOX_VOTES_OFFICER_KEY" in str(caught.value.detail)


def test_a_developer_takes_the_seeded_vote_through_to_its_verified_result(
    two_ledgers, nodes, tmp_path
):
    """The sandbox plays the synthetic owners and trustees: the developer signs one ballot
    in their own client with a credential letter, has the sandbox cast the rest, closes the
    vote, has the simulated trustees decrypt it, and verifies the election publicly."""
    import subprocess
    import sys

    from tests.ledger.votes.helpers import signed_ballot
    from wuye.crypto import SM2PrivateKey
    from wuye.ledger.votes.credentials import SimulatedOwner

    live = two_ledgers
    sandbox = new_app(live)
    scopes = "estates:read votes:read votes:cast votes:manage"
    with live.http(headers=_bearer(live.token(sandbox, scopes))) as http:
        vote = http.get("/api/v1/elections", params={"status": "open"}).json()["items"][0]
        path = f"/api/v1/sandbox/elections/{vote['id']}"
        letters = http.get(f"{path}/credentials").json()
        waiting = [c for c in letters if not c["voted"]]
        assert waiting and len(letters) - len(waiting) == max(1, int(len(letters) * VOTED_SHARE))
        # One ballot signed in the developer's own client with the letter's private key.
        mine = waiting[0]
        owners = SimulatedOwner()
        owners.keys[mine["unit_id"]] = SM2PrivateKey.from_hex(mine["private_key"])
        manifest = http.get(f"/api/v1/elections/{vote['id']}/manifest").json()
        r = http.post(
            f"/api/v1/elections/{vote['id']}/ballots",
            json={"unit_id": mine["unit_id"], "owner_id": mine["owner_id"]}
            | signed_ballot(manifest, owners, mine["unit_id"], 0),
        )
        assert r.status_code == 201, r.text
        # A forged letter is refused: the key is not the unit's listed credential.
        forged = SimulatedOwner()
        r = http.post(
            f"/api/v1/elections/{vote['id']}/ballots",
            json={"unit_id": waiting[1]["unit_id"], "owner_id": waiting[1]["owner_id"]}
            | signed_ballot(manifest, forged, waiting[1]["unit_id"], 0),
        )
        assert r.status_code in (403, 422), r.text
        # The rest cast by the sandbox, as each owner's device would.
        for i, letter in enumerate(waiting[1:]):
            r = http.post(
                f"{path}/simulated-ballots",
                json={"unit_id": letter["unit_id"], "choice": "oppose" if i % 5 == 0 else "agree"},
            )
            assert r.status_code == 201, r.text
            assert r.json()["receipt"]["tracker"]
        r = http.post(f"{path}/simulated-decryption")
        assert r.status_code == 409, r.text  # not closed yet
        assert http.post(f"/api/v1/elections/{vote['id']}/close").status_code == 200
        decided = http.post(f"{path}/simulated-decryption")
        assert decided.status_code == 200, decided.text
        assert decided.json()["status"] == "decided" and decided.json()["approved"] is True
        results = http.get(f"/api/v1/elections/{vote['id']}/results").json()
        assert results["decision"]["approved"] is True
        logged = http.get("/api/v1/sandbox/requests", params={"limit": 200}).json()["items"]
    # The credential letters are never in the developer's request log in clear.
    credentials_logged = [e for e in logged if e["path"].endswith("/credentials")]
    assert credentials_logged
    assert mine["private_key"] not in credentials_logged[0]["response_body"]
    # Anyone verifies the election from the sandbox chain alone.
    verify = subprocess.run(
        [sys.executable, "-m", "wuye", "votes", "verify", "--rpc", nodes.sandbox.url,
         "--election", vote["ledger_ref"]],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_only_a_sandbox_may_play_owners_or_trustees(two_ledgers):
    live = two_ledgers
    member = make_tenant(live.database)
    token = issue_access_token(
        settings=live.settings,
        database=live.database,
        tenant_id=member,
        subject="staff-1",
        client_id="firm-system",
        scopes=["estates:write", "votes:manage", "votes:cast", "votes:read"],
        role=Role.TENANT_ADMIN,
    )
    with live.http(headers=_bearer(token)) as http:
        estate = http.post("/api/v1/estates", json={"code": "M-2", "name": "会员小区"}).json()
        building = http.post(
            f"/api/v1/estates/{estate['id']}/buildings", json={"name": "1幢", "floors": 3}
        ).json()
        unit = {"number": "101", "floor": 1, "floor_area_m2": "88.00"}
        assert http.post(f"/api/v1/buildings/{building['id']}/units", json=unit).is_success
        election = http.post(
            "/api/v1/elections",
            json={"estate_id": estate["id"], "title": "选聘物业", "matter": "property_manager"},
        ).json()["id"]
        path = f"/api/v1/sandbox/elections/{election}"
        assert http.get(f"{path}/credentials").status_code == 403
        r = http.post(f"{path}/simulated-ballots", json={"unit_id": "x", "choice": "agree"})
        assert r.status_code == 403
        assert http.post(f"{path}/simulated-decryption").status_code == 403


def test_the_seeded_vote_opened_only_with_its_trustees_endorsement(two_ledgers):
    live = two_ledgers
    sandbox = new_app(live)
    with live.http(headers=_bearer(live.token(sandbox, "votes:read"))) as http:
        vote = http.get("/api/v1/elections", params={"status": "open"}).json()["items"][0]
        assert vote["credential_endorsements"] == 2
        assert vote["credential_endorsements_valid"] == 2
        results = http.get(f"/api/v1/elections/{vote['id']}/results").json()
        assert results["credential_endorsements"] == {"required": 2, "valid": 2}
