"""Per-unit voting credentials through the API, against a real ledger node: who registers
them, that they are fixed once the vote opens, and that the service refuses a ballot
not signed by the unit's credential."""

from __future__ import annotations

import csv
import io

import httpx
import pytest
from click.testing import CliRunner

from tests.factories import make_tenant
from tests.ledger.votes.helpers import issue_letters, signed_ballot
from tests.serving import serving
from wuye.federation.models import Role
from wuye.federation.tokens import issue_access_token
from wuye.ledger.votes.credentials import SimulatedOwner
from wuye.ledger.votes.service import VotesLedger
from wuye.ledger.votes.tally import ceremony_context
from wuye.ledger.votes.trustees import ceremony
from wuye.platform.cli import cli


@pytest.fixture
def database(sqlite_database):
    """Credential rules are database-independent; test_api covers PostgreSQL."""
    return sqlite_database


@pytest.fixture
def vote(app, client, ledger, database, settings, token_for):
    """A ready (not yet open) election on two units, 甲 holding 101 and 乙 holding 201."""
    _, officer, record = ledger
    app.state.votes_ledger = VotesLedger(officer, record)
    tenant = make_tenant(database)
    staff = token_for(tenant)

    def post(path, body=None, headers=staff, method="POST"):
        r = client.request(method, path, json=body, headers=headers)
        assert r.status_code in (200, 201), r.text
        return r.json()

    estate = post("/api/v1/estates", {"code": "C", "name": "凭证小区"})["id"]
    building = post(f"/api/v1/estates/{estate}/buildings", {"name": "1幢", "floors": 9})["id"]
    units = [
        post(
            f"/api/v1/buildings/{building}/units",
            {"number": f"{n}01", "floor": n, "floor_area_m2": "90.00"},
        )["id"]
        for n in (1, 2)
    ]
    owners = [post("/api/v1/owners", {"name": name})["id"] for name in ("甲", "乙")]
    for unit, owner in zip(units, owners, strict=True):
        post(f"/api/v1/units/{unit}/owners", {"owner_id": owner})
    election = post(
        "/api/v1/elections",
        {"estate_id": estate, "title": "改建车棚", "matter": "other_major", "threshold": 1},
    )["id"]
    dealings, _ = ceremony(1, 3, ceremony_context(election))
    post(f"/api/v1/elections/{election}/trustees", {"dealings": [d.to_json() for d in dealings]})

    def owner(index):
        token = issue_access_token(
            settings=settings,
            database=database,
            tenant_id=tenant,
            subject=f"owner:{owners[index]}",
            client_id="test",
            scopes=["votes:read", "votes:cast"],
            role=Role.OWNER,
        )
        return {"Authorization": f"Bearer {token}"}

    class Vote:
        pass

    v = Vote()
    v.election, v.units, v.owners, v.owner, v.staff, v.post = (
        election,
        units,
        owners,
        owner,
        staff,
        post,
    )
    v.base = f"/api/v1/elections/{election}"
    return v


def _device_credential(client, vote, index, owners=None):
    owners = owners or SimulatedOwner()
    key = owners.public_keys([vote.units[index]])[vote.units[index]]
    r = client.put(
        f"{vote.base}/units/{vote.units[index]}/credential",
        json={"public_key": key},
        headers=vote.owner(index),
    )
    return r, owners


def test_a_ballot_the_platform_signs_for_a_unit_that_did_not_vote_is_rejected(client, vote):
    letters = issue_letters(vote.post, vote.election, vote.units)
    vote.post(f"{vote.base}/open")
    manifest = client.get(f"{vote.base}/manifest", headers=vote.staff).json()
    platform_key = SimulatedOwner()  # the platform's own key, not the owner's credential
    body = {"unit_id": vote.units[1], "owner_id": vote.owners[1]}
    r = client.post(
        f"{vote.base}/ballots",
        json=body | signed_ballot(manifest, platform_key, vote.units[1], 0),
        headers=vote.staff,
    )
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "signature" in r.json()["detail"] and "credential" in r.json()["detail"]
    assert client.get(f"{vote.base}/ballots", headers=vote.staff).json()["items"] == []
    signed = body | signed_ballot(manifest, letters, vote.units[1], 0)
    assert client.post(f"{vote.base}/ballots", json=signed, headers=vote.staff).status_code == 201


def test_no_credential_can_be_added_once_the_vote_is_open(client, vote):
    issue_letters(vote.post, vote.election, vote.units[:1])
    vote.post(f"{vote.base}/open")
    late = client.post(
        f"{vote.base}/credentials",
        json={"authority": "居委会", "credentials": SimulatedOwner().public_keys(vote.units[1:])},
        headers=vote.staff,
    )
    assert late.status_code == 409 and "can no longer change" in late.json()["detail"]
    r, _ = _device_credential(client, vote, 1)
    assert r.status_code == 409


def test_a_unit_without_a_credential_cannot_vote(client, vote):
    letters = issue_letters(vote.post, vote.election, vote.units[:1])
    vote.post(f"{vote.base}/open")
    manifest = client.get(f"{vote.base}/manifest", headers=vote.staff).json()
    r = client.post(
        f"{vote.base}/ballots",
        json={"unit_id": vote.units[1]} | signed_ballot(manifest, letters, vote.units[1], 0),
        headers=vote.owner(1),
    )
    assert r.status_code == 403 and "no voting credential" in r.json()["detail"]


def test_an_owner_casts_with_the_credential_made_on_their_device(client, vote):
    r, device = _device_credential(client, vote, 0)
    assert r.status_code == 200 and r.json()["source"] == "owner", r.text
    vote.post(f"{vote.base}/open")
    manifest = client.get(f"{vote.base}/manifest", headers=vote.staff).json()
    r = client.post(
        f"{vote.base}/ballots",
        json={"unit_id": vote.units[0]} | signed_ballot(manifest, device, vote.units[0], 0),
        headers=vote.owner(0),
    )
    assert r.status_code == 201, r.text


def test_staff_cannot_register_an_owners_device_credential(client, vote):
    r = client.put(
        f"{vote.base}/units/{vote.units[0]}/credential",
        json={"public_key": SimulatedOwner().public_keys(["u"])["u"]},
        headers=vote.staff,
    )
    assert r.status_code == 403


def test_an_owner_cannot_register_a_credential_for_another_owners_unit(client, vote):
    r = client.put(
        f"{vote.base}/units/{vote.units[1]}/credential",
        json={"public_key": SimulatedOwner().public_keys(["u"])["u"]},
        headers=vote.owner(0),
    )
    assert r.status_code == 403


def test_a_letter_never_replaces_a_credential_the_owner_made(client, vote):
    assert _device_credential(client, vote, 0)[0].status_code == 200
    r = client.post(
        f"{vote.base}/credentials",
        json={"authority": "居委会", "credentials": SimulatedOwner().public_keys(vote.units)},
        headers=vote.staff,
    )
    assert r.status_code == 409


def test_the_authority_issues_letters_and_checks_them_on_the_ledger(
    app, client, node, vote, tmp_path
):
    """``wuye votes credentials issue`` sends only public keys; ``check`` finds them on the
    ledger's list after the vote opens."""
    assert _device_credential(client, vote, 0)[0].status_code == 200
    letters = tmp_path / "letters.csv"
    token = vote.staff["Authorization"].removeprefix("Bearer ")
    with serving(app) as base:
        args = ["--api", base, "--election", vote.election, "--authority", "某社区居委会"]
        out = CliRunner().invoke(
            cli,
            ["votes", "credentials", "issue", *args, "--letters", str(letters)],
            env={"WUYE_TOKEN": token},
        )
        assert out.exit_code == 0, out.output
        rows = list(csv.DictReader(io.StringIO(letters.read_text())))
        assert [r["unit_id"] for r in rows] == [vote.units[1]]  # 101 made its own
        listed = httpx.get(f"{base}{vote.base}/credentials", headers=vote.staff).json()
        assert rows[0]["private_key"] not in str(listed)
        assert {c["unit_id"]: c["source"] for c in listed} == {
            vote.units[0]: "owner",
            vote.units[1]: "authority",
        }
        opened = httpx.post(f"{base}{vote.base}/open", headers=vote.staff, timeout=60).json()
    out = CliRunner().invoke(
        cli,
        [
            "votes",
            "credentials",
            "check",
            "--rpc",
            node.url,
            "--election",
            opened["ledger_ref"],
            "--letters",
            str(letters),
        ],
    )
    assert out.exit_code == 0, out.output
    assert "1 of 1 letters' keys are on the ledger's list" in out.output
