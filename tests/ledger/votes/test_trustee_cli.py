"""The trustees' ceremony run through ``wuye votes trustee ...`` against a served app, each
trustee with its own passphrase-encrypted key file, as on separate devices."""

from __future__ import annotations

import json

import httpx
import pytest
from click.testing import CliRunner

from tests.factories import make_tenant
from tests.ledger.votes.helpers import issue_letters, signed_ballot
from tests.serving import serving
from wuye.ledger.votes.service import VotesLedger
from wuye.platform.cli import cli

PASSPHRASES = {1: "trustee one secret", 2: "trustee two secret", 3: "trustee three secret"}


@pytest.fixture
def database(sqlite_database):
    return sqlite_database


@pytest.fixture
def served(app, ledger, database, token_for):
    """The app under uvicorn, an election of 3 trustees (2 to decrypt) and a staff token."""
    _, officer, record = ledger
    app.state.votes_ledger = VotesLedger(officer, record)
    tenant = make_tenant(database)
    headers = token_for(tenant)
    with serving(app) as base:
        api = httpx.Client(base_url=base, headers=headers, timeout=60)

        def post(path, body=None):
            r = api.post(path, json=body)
            assert r.status_code in (200, 201), r.text
            return r.json()

        estate = post("/api/v1/estates", {"code": "T", "name": "监督小区"})["id"]
        building = post(f"/api/v1/estates/{estate}/buildings", {"name": "1幢", "floors": 3})["id"]
        unit = post(
            f"/api/v1/buildings/{building}/units",
            {"number": "101", "floor": 1, "floor_area_m2": "80.00"},
        )["id"]
        owner = post("/api/v1/owners", {"name": "赵"})["id"]
        post(f"/api/v1/units/{unit}/owners", {"owner_id": owner})
        election = post(
            "/api/v1/elections",
            {"estate_id": estate, "title": "增设充电桩", "matter": "other_major", "trustees": 3},
        )["id"]
        token = headers["Authorization"].removeprefix("Bearer ")
        yield base, api, post, election, unit, owner, token


def _trustee(tmp_path, token, step, index, *extra):
    env = {"WUYE_TOKEN": token, "WUYE_TRUSTEE_PASSPHRASE": PASSPHRASES[index]}
    key_file = tmp_path / f"trustee-{index}.json"
    return CliRunner().invoke(
        cli, ["votes", "trustee", step, "--key-file", str(key_file), *extra], env=env
    )


def _ceremony(tmp_path, base, election, token):
    fingerprints = {}
    for i in (1, 2, 3):
        out = _trustee(
            tmp_path, token, "init", i, "--api", base, "--election", election, "--index", str(i)
        )
        assert out.exit_code == 0, out.output
        fingerprints[i] = out.output.split(": ")[1].split()[0]
    for i in (1, 2, 3):
        pins = [f"--expect={j}={fp}" for j, fp in fingerprints.items() if j != i]
        out = _trustee(tmp_path, token, "deal", i, *pins)
        assert out.exit_code == 0, out.output
    for i in (1, 2, 3):
        out = _trustee(tmp_path, token, "confirm", i)
        assert out.exit_code == 0, out.output


def test_trustees_on_separate_devices_make_the_key_and_decrypt_the_result(served, tmp_path):
    base, api, post, election, unit, owner, token = served
    _ceremony(tmp_path, base, election, token)
    assert api.get(f"/api/v1/elections/{election}").json()["status"] == "ready"
    letters = issue_letters(post, election, [unit])
    post(f"/api/v1/elections/{election}/open")
    manifest = api.get(f"/api/v1/elections/{election}/manifest").json()
    post(
        f"/api/v1/elections/{election}/ballots",
        {"unit_id": unit, "owner_id": owner} | signed_ballot(manifest, letters, unit, 0),
    )
    post(f"/api/v1/elections/{election}/close")
    for i in (1, 3):  # any two of the three
        out = _trustee(tmp_path, token, "decrypt", i)
        assert out.exit_code == 0, out.output
    decided = api.get(f"/api/v1/elections/{election}").json()
    assert decided["status"] == "decided" and decided["approved"] is True


def test_the_platform_never_holds_a_trustees_secret(served, tmp_path):
    base, api, _, election, _, _, token = served
    _ceremony(tmp_path, base, election, token)
    published = json.dumps(api.get(f"/api/v1/elections/{election}/ceremony").json())
    key_file = json.loads((tmp_path / "trustee-1.json").read_text())
    assert "key_share" not in json.dumps(key_file)  # sealed, not readable
    from wuye.ledger.votes.trustee_device import load

    secret = load(tmp_path / "trustee-1.json", PASSPHRASES[1])
    assert secret.key_share and secret.key_share not in published
    assert secret.transport_key not in published


def test_a_wrong_passphrase_opens_nothing(served, tmp_path):
    base, _, _, election, _, _, token = served
    out = _trustee(
        tmp_path, token, "init", 1, "--api", base, "--election", election, "--index", "1"
    )
    assert out.exit_code == 0, out.output
    env = {"WUYE_TOKEN": token, "WUYE_TRUSTEE_PASSPHRASE": "not the passphrase"}
    out = CliRunner().invoke(
        cli,
        ["votes", "trustee", "deal", "--key-file", str(tmp_path / "trustee-1.json")],
        env=env,
    )
    assert out.exit_code == 1 and "wrong passphrase" in out.output


def test_a_trustee_refuses_a_share_that_fails_feldmans_check(served, tmp_path):
    """A dealer whose encrypted share does not match its commitments is named, and
    the ceremony does not complete."""
    from wuye.crypto import SM2PublicKey
    from wuye.ledger.votes.ceremony import share_message
    from wuye.ledger.votes.tally import ceremony_context
    from wuye.ledger.votes.trustees import deal

    base, api, post, election, _, _, token = served
    for i in (1, 2, 3):
        args = ("--api", base, "--election", election, "--index", str(i))
        assert _trustee(tmp_path, token, "init", i, *args).exit_code == 0
    for i in (1, 2):
        assert _trustee(tmp_path, token, "deal", i).exit_code == 0
    view = api.get(f"/api/v1/elections/{election}/ceremony").json()
    _, dealing, shares = deal(3, 2, 3, ceremony_context(election))
    bad = {
        str(j): SM2PublicKey.from_hex(view["transport_keys"][str(j)])
        .encrypt(share_message(election, 3, j, shares[j] + 1))
        .hex()
        for j in (1, 2)
    }
    post(
        f"/api/v1/elections/{election}/ceremony/3/dealing",
        {"dealing": dealing.to_json(), "encrypted_shares": bad},
    )
    out = _trustee(tmp_path, token, "confirm", 1)
    assert out.exit_code == 1 and "trustee 3 sent a share that fails" in out.output
    assert api.get(f"/api/v1/elections/{election}").json()["status"] == "draft"
