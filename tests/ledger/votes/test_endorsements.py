"""Trustees endorse the voting credential list (Belenios-style), against a real ledger node:
the platform alone can no longer put a credential of its own on an election's list."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from tests.factories import make_tenant
from tests.ledger.votes.helpers import cast_all, issue_letters, signed_ballot, small_election
from tests.serving import serving
from wuye.crypto import SM2PrivateKey, sm3_hash
from wuye.ledger.votes.ceremony import endorsement_context
from wuye.ledger.votes.chain import ElectionRef, connect
from wuye.ledger.votes.credentials import Credential, SimulatedOwner, encode_credentials
from wuye.ledger.votes.elgamal import Ciphertext
from wuye.ledger.votes.group import random_scalar
from wuye.ledger.votes.service import VotesLedger
from wuye.ledger.votes.tally import (
    Endorsement,
    Manifest,
    ceremony_context,
    share_tally,
    verify_record,
)
from wuye.ledger.votes.trustees import TrusteeKey, ceremony, verification_key
from wuye.ledger.votes.verify import verify_on_chain
from wuye.ledger.votes.zkp import SchnorrProof
from wuye.platform.cli import cli

# -- helpers -------------------------------------------------------------------------


def _api(client, headers):
    def call(method, path, body=None, expect=(200, 201)):
        r = client.request(method, path, json=body, headers=headers)
        if expect is not None:
            assert r.status_code in expect, r.text
        return r

    return call


def _estate(call, units=3):
    estate = call("POST", "/api/v1/estates", {"code": "E", "name": "背书小区"}).json()["id"]
    building = call(
        "POST", f"/api/v1/estates/{estate}/buildings", {"name": "1幢", "floors": 9}
    ).json()["id"]
    unit_ids, owner_ids = [], []
    for n in range(1, units + 1):
        unit = call(
            "POST",
            f"/api/v1/buildings/{building}/units",
            {"number": f"{n}01", "floor": n, "floor_area_m2": "90.00"},
        ).json()["id"]
        owner = call("POST", "/api/v1/owners", {"name": f"业主{n}"}).json()["id"]
        call("POST", f"/api/v1/units/{unit}/owners", {"owner_id": owner})
        unit_ids.append(unit)
        owner_ids.append(owner)
    return estate, unit_ids, owner_ids


def _ready_election(call, estate, *, required=2):
    """An election of 3 trustees (2 to decrypt) requiring ``required`` endorsements, READY."""
    election = call(
        "POST",
        "/api/v1/elections",
        {
            "estate_id": estate,
            "title": "更换门禁系统",
            "matter": "other_major",
            "credential_endorsements": required,
        },
    ).json()
    assert election["credential_endorsements"] == required
    assert election["credential_endorsements_valid"] == 0
    dealings, keys = ceremony(2, 3, ceremony_context(election["id"]))
    ready = call(
        "POST",
        f"/api/v1/elections/{election['id']}/trustees",
        {"dealings": [d.to_json() for d in dealings]},
    ).json()
    assert ready["status"] == "ready"
    return election["id"], dealings, keys


def _list_digest(call, election) -> bytes:
    """The digest of the current list, recomputed from the public list (roll order)."""
    rows = call("GET", f"/api/v1/elections/{election}/credentials").json()
    listed = [
        Credential(bytes.fromhex(r["unit_ref"]), bytes.fromhex(r["public_key"]))
        for r in rows
        if r["public_key"]
    ]
    return sm3_hash(encode_credentials(listed))


def _endorsement(election, dealings, key: TrusteeKey, digest: bytes) -> dict:
    """What trustee ``key``'s device sends: its key share proven, bound to the digest."""
    proof = SchnorrProof.prove(
        key.share,
        verification_key(dealings, key.index),
        endorsement_context(election, digest),
    )
    return {"index": key.index, "proof": proof.to_json()}


def _endorse(call, election, dealings, key, expect=(200,)):
    body = _endorsement(election, dealings, key, _list_digest(call, election))
    return call("POST", f"/api/v1/elections/{election}/credential-endorsements", body, expect)


@pytest.fixture
def votes_app(app, ledger):
    _, officer, record = ledger
    app.state.votes_ledger = VotesLedger(officer, record)
    return app


# -- through the API -----------------------------------------------------------------


def test_an_endorsed_election_opens_decides_and_verifies(
    votes_app, client, database, token_for, node
):
    call = _api(client, token_for(make_tenant(database)))
    estate, units, owners = _estate(call)
    election, dealings, keys = _ready_election(call, estate)
    letters = issue_letters(lambda p, b: call("POST", p, b).json(), election, units)

    refused = call("POST", f"/api/v1/elections/{election}/open", expect=(409,))
    assert "0 valid trustee endorsement(s) of 2 required" in refused.json()["detail"]
    assert _endorse(call, election, dealings, keys[0]).json()["credential_endorsements_valid"] == 1
    refused = call("POST", f"/api/v1/elections/{election}/open", expect=(409,))
    assert "1 valid trustee endorsement(s) of 2 required" in refused.json()["detail"]
    assert _endorse(call, election, dealings, keys[2]).json()["credential_endorsements_valid"] == 2

    opened = call("POST", f"/api/v1/elections/{election}/open").json()
    assert opened["status"] == "open" and opened["credential_endorsements_valid"] == 2
    late = _endorse(call, election, dealings, keys[1], expect=(409,))
    assert "open" in late.json()["detail"]

    manifest = call("GET", f"/api/v1/elections/{election}/manifest").json()
    section = manifest["header"]["credential_endorsements"]
    assert section["required"] == 2 and [e["index"] for e in section["endorsements"]] == [1, 3]
    for unit, owner, choice in zip(units[:2], owners[:2], (0, 0), strict=True):
        call(
            "POST",
            f"/api/v1/elections/{election}/ballots",
            {"unit_id": unit, "owner_id": owner} | signed_ballot(manifest, letters, unit, choice),
        )
    call("POST", f"/api/v1/elections/{election}/close")
    tally_json = call("GET", f"/api/v1/elections/{election}/tally").json()
    tally = {
        (int(k.split(":")[0]), k.split(":")[1]): Ciphertext.from_json(v) if v else None
        for k, v in tally_json.items()
    }
    for key in keys[:2]:
        shares = {
            f"{j}:{w}": s.to_json()
            for (j, w), s in share_tally(_Fingerprint(manifest), key, tally).items()  # type: ignore[arg-type]
        }
        decided = call(
            "POST",
            f"/api/v1/elections/{election}/decryptions",
            {"index": key.index, "shares": shares},
        ).json()
    assert decided["status"] == "decided" and decided["credential_endorsements_valid"] == 2

    ref = ElectionRef.parse(decided["ledger_ref"])
    _, report = verify_on_chain(connect(node.url), ref, workers=1)
    texts = [text for _, text in report.lines]
    assert report.ok, texts
    assert any("trustee 1: endorses the credential list" in t for t in texts)
    assert any("trustee 3: endorses the credential list" in t for t in texts)
    assert any("endorsed by 2 trustee(s), 2 required" in t for t in texts)

    out = CliRunner().invoke(
        cli, ["votes", "verify", "--rpc", node.url, "--election", str(ref), "--workers", "1"]
    )
    assert out.exit_code == 0, out.output
    assert "endorsed by 2 trustee(s), 2 required" in out.output and "VERIFIED" in out.output


class _Fingerprint:
    """All a trustee's device needs of the manifest to share the tally."""

    def __init__(self, manifest: dict) -> None:
        self.fingerprint = bytes.fromhex(manifest["fingerprint"])


def test_bad_endorsements_are_refused_with_the_field_named(votes_app, client, database, token_for):
    call = _api(client, token_for(make_tenant(database)))
    estate, units, _ = _estate(call)
    draft = call(
        "POST",
        "/api/v1/elections",
        {
            "estate_id": estate,
            "title": "草稿",
            "matter": "other_major",
            "credential_endorsements": 1,
        },
    ).json()["id"]
    election, dealings, keys = _ready_election(call, estate)
    issue_letters(lambda p, b: call("POST", p, b).json(), election, units)
    url = f"/api/v1/elections/{election}/credential-endorsements"
    digest = _list_digest(call, election)

    stranger = TrusteeKey(1, 2, 3, share=random_scalar())  # not trustee 1's share
    r = call("POST", url, _endorsement(election, dealings, stranger, digest), expect=(422,))
    assert r.json()["detail"].startswith("proof:"), r.text
    other = sm3_hash(b"another credential list")
    r = call("POST", url, _endorsement(election, dealings, keys[0], other), expect=(422,))
    assert r.json()["detail"].startswith("proof:"), r.text
    moved = _endorsement(election, dealings, keys[0], digest) | {"index": 2}
    r = call("POST", url, moved, expect=(422,))  # trustee 1's proof, claimed for trustee 2
    assert r.json()["detail"].startswith("proof:")
    r = call("POST", url, {"index": 1, "proof": {"a": "00", "s": "zz"}}, expect=(422,))
    assert r.json()["detail"].startswith("proof:")
    r = call("POST", url, {"index": 4, "proof": {}}, expect=(422,))
    assert "index" in r.text

    ok = call("POST", url, _endorsement(election, dealings, keys[0], digest)).json()
    assert ok["credential_endorsements_valid"] == 1
    again = call("POST", url, _endorsement(election, dealings, keys[0], digest), expect=(422,))
    assert again.json()["detail"].startswith("index:") and "already endorsed" in again.text
    assert call("GET", f"/api/v1/elections/{election}").json()["credential_endorsements_valid"] == 1

    r = call(
        "POST",
        f"/api/v1/elections/{draft}/credential-endorsements",
        {"index": 1, "proof": {}},
        None,
    )
    assert r.status_code == 409 and "ceremony" in r.text
    too_many = call(
        "POST",
        "/api/v1/elections",
        {"estate_id": estate, "title": "多", "matter": "other_major", "credential_endorsements": 4},
        expect=(422,),
    )
    assert "credential_endorsements" in too_many.text


def test_a_credential_added_after_the_trustees_endorsed_cannot_get_in(
    votes_app, client, database, token_for
):
    call = _api(client, token_for(make_tenant(database)))
    estate, units, _ = _estate(call)
    election, dealings, keys = _ready_election(call, estate)
    issue_letters(lambda p, b: call("POST", p, b).json(), election, units[:2])
    for key in keys[:2]:
        _endorse(call, election, dealings, key)
    assert call("GET", f"/api/v1/elections/{election}").json()["credential_endorsements_valid"] == 2
    listed = call("GET", f"/api/v1/elections?estate_id={estate}").json()["items"]
    assert [(e["credential_endorsements"], e["credential_endorsements_valid"]) for e in listed] == [
        (2, 2)
    ]

    # the platform (anyone with votes:manage) registers a credential of its own for unit 3
    planted = SimulatedOwner().public_keys([units[2]])
    call(
        "POST",
        f"/api/v1/elections/{election}/credentials",
        {"authority": "平台", "credentials": planted},
    )
    shown = call("GET", f"/api/v1/elections/{election}").json()
    assert shown["credential_endorsements_valid"] == 0  # the endorsements were for another list
    refused = call("POST", f"/api/v1/elections/{election}/open", expect=(409,))
    assert "0 valid trustee endorsement(s) of 2 required" in refused.json()["detail"]
    assert call("GET", f"/api/v1/elections/{election}").json()["status"] == "ready"

    # once the trustees (who can check the new list) endorse it again, it opens with it
    for key in keys[1:]:
        _endorse(call, election, dealings, key)
    assert call("POST", f"/api/v1/elections/{election}/open").json()["status"] == "open"
    manifest = call("GET", f"/api/v1/elections/{election}/manifest").json()
    assert manifest["header"]["credential_count"] == 3
    endorsed = manifest["header"]["credential_endorsements"]["endorsements"]
    assert [e["index"] for e in endorsed] == [2, 3]


def test_an_election_without_the_requirement_is_unchanged(votes_app, client, database, token_for):
    call = _api(client, token_for(make_tenant(database)))
    estate, units, _ = _estate(call, units=1)
    election, _, _ = _ready_election(call, estate, required=0)
    issue_letters(lambda p, b: call("POST", p, b).json(), election, units)
    r = call(
        "POST",
        f"/api/v1/elections/{election}/credential-endorsements",
        {"index": 1, "proof": {}},
        None,
    )
    assert r.status_code == 409 and "requires no endorsements" in r.text
    opened = call("POST", f"/api/v1/elections/{election}/open").json()
    assert opened["credential_endorsements"] == 0 and opened["credential_endorsements_valid"] == 0
    header = call("GET", f"/api/v1/elections/{election}/manifest").json()["header"]
    assert "credential_endorsements" not in header


# -- the public record, in process ---------------------------------------------------


def _endorsed(manifest: Manifest, keys, required=2) -> Manifest:
    digest = manifest.credentials_digest()
    endorsements = [
        Endorsement(k.index, _endorsement(manifest.election, manifest.dealings, k, digest)["proof"])
        for k in keys
    ]
    return dataclasses.replace(
        manifest, endorsements_required=required, endorsements=endorsements, _key=None
    )


def _failures(report) -> list[str]:
    return [text for ok, text in report.lines if not ok]


def test_the_record_verifies_only_with_endorsements_of_the_published_list():
    base, keys = small_election([9000, 12050, 6025])
    manifest = _endorsed(base, keys[:2])
    report = verify_record(manifest, cast_all(manifest, [0, 1]), None, workers=1)
    assert report.ok, report.lines
    assert any("endorsed by 2 trustee(s), 2 required" in t for _, t in report.lines)
    # the header round-trips: a verifier rebuilds the same manifest and fingerprint
    rebuilt = Manifest.from_parts(
        json.loads(manifest.header_bytes()), manifest.units, manifest.credentials
    )
    assert rebuilt.fingerprint == manifest.fingerprint and rebuilt.endorsements_required == 2

    # a list with one more credential than the trustees endorsed
    planted = Credential(sm3_hash(b"unit-planted"), SM2PrivateKey.generate().public_key.to_bytes())
    tampered = dataclasses.replace(manifest, credentials=[*manifest.credentials, planted])
    report = verify_record(tampered, [], None, workers=1)
    assert not report.ok
    failed = _failures(report)
    assert any("trustee 1: endorsement of the credential list" in t for t in failed), failed
    assert any("endorsed by 0 trustee(s), 2 required" in t for t in failed), failed

    # too few, or the same trustee twice
    few = dataclasses.replace(manifest, endorsements=manifest.endorsements[:1])
    assert any(
        "endorsed by 1 trustee(s), 2 required" in t
        for t in _failures(verify_record(few, [], None, workers=1))
    )
    twice = dataclasses.replace(manifest, endorsements=[manifest.endorsements[0]] * 2)
    failed = _failures(verify_record(twice, [], None, workers=1))
    assert any("more than once" in t for t in failed) and any("endorsed by 1" in t for t in failed)
    # an endorsement by a key that is not a trustee's share
    stranger = TrusteeKey(3, 2, 3, share=random_scalar())
    forged = _endorsed(base, [keys[0], stranger])
    failed = _failures(verify_record(forged, [], None, workers=1))
    assert any("trustee 3: endorsement" in t for t in failed), failed


def test_a_record_without_endorsements_keeps_its_fingerprint_and_says_so():
    manifest, _ = small_election([9000, 12050])
    assert "credential_endorsements" not in manifest.header()
    plain = dataclasses.replace(manifest, endorsements_required=0, endorsements=[], _key=None)
    assert plain.fingerprint == manifest.fingerprint
    report = verify_record(manifest, cast_all(manifest, [0]), None, workers=1)
    assert report.ok
    assert any("not endorsed by trustees" in text for ok, text in report.lines if ok)
    rebuilt = Manifest.from_parts(manifest.header(), manifest.units, manifest.credentials)
    assert rebuilt.endorsements_required == 0 and rebuilt.fingerprint == manifest.fingerprint


def test_a_manifest_of_an_unknown_version_is_refused_rather_than_half_checked():
    from wuye.crypto.errors import MalformedInputError

    manifest, _ = small_election([9000, 12050])
    assert manifest.header()["version"] == 2
    for version, extra in ((4, {}), (3, {}), (2, {"credential_endorsements": {}})):
        header = manifest.header() | {"version": version} | extra
        with pytest.raises(MalformedInputError, match="unknown manifest version"):
            Manifest.from_parts(header, manifest.units, manifest.credentials)


# -- the trustee's device: `wuye votes trustee endorse` --------------------------------

PASSPHRASES = {1: "trustee one secret", 2: "trustee two secret", 3: "trustee three secret"}


@pytest.fixture
def served(app, ledger, database, token_for):
    """The app under uvicorn, an election of 2 units and 3 trustees requiring 2
    endorsements, and a staff token."""
    _, officer, record = ledger
    app.state.votes_ledger = VotesLedger(officer, record)
    headers = token_for(make_tenant(database))
    with serving(app) as base:
        api = httpx.Client(base_url=base, headers=headers, timeout=60)
        call = _api(api, {})
        estate, units, owners = _estate(call, units=2)
        election = call(
            "POST",
            "/api/v1/elections",
            {
                "estate_id": estate,
                "title": "增设充电桩",
                "matter": "other_major",
                "trustees": 3,
                "credential_endorsements": 2,
            },
        ).json()["id"]
        token = headers["Authorization"].removeprefix("Bearer ")
        yield base, call, election, units, token


def _run(token, args, index=None):
    env = {"WUYE_TOKEN": token}
    if index is not None:
        env["WUYE_TRUSTEE_PASSPHRASE"] = PASSPHRASES[index]
    return CliRunner().invoke(cli, args, env=env)


def _trustee(tmp_path: Path, token, step, index, *extra):
    key_file = tmp_path / f"trustee-{index}.json"
    return _run(token, ["votes", "trustee", step, "--key-file", str(key_file), *extra], index)


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_trustees_endorse_from_their_devices_and_refuse_keys_not_in_the_letters(
    served, tmp_path, node
):
    base, call, election, units, token = served
    for i in (1, 2, 3):
        args = ("--api", base, "--election", election, "--index", str(i))
        assert _trustee(tmp_path, token, "init", i, *args).exit_code == 0
    for step in ("deal", "confirm"):
        for i in (1, 2, 3):
            out = _trustee(tmp_path, token, step, i)
            assert out.exit_code == 0, out.output

    # unit 1's credential does not come from the authority's letters
    call(
        "POST",
        f"/api/v1/elections/{election}/credentials",
        {"authority": "平台", "credentials": SimulatedOwner().public_keys([units[0]])},
    )
    letters = tmp_path / "letters.csv"
    out = _run(
        token,
        [
            "votes",
            "credentials",
            "issue",
            "--api",
            base,
            "--election",
            election,
            "--authority",
            "测试居委会",
            "--letters",
            str(letters),
        ],
    )
    assert out.exit_code == 0, out.output

    out = _trustee(tmp_path, token, "endorse", 1, "--letters", str(letters))
    assert out.exit_code == 1
    assert "1 credential(s) on the list are not in the letters" in out.output
    assert call("GET", f"/api/v1/elections/{election}").json()["credential_endorsements_valid"] == 0

    out = _trustee(
        tmp_path, token, "endorse", 1, "--letters", str(letters), "--allow-device-credentials"
    )
    assert out.exit_code == 0, out.output
    assert "2 credentials, 1 made on owners' devices" in out.output
    out = _trustee(tmp_path, token, "endorse", 2)
    assert out.exit_code == 0, out.output
    assert "trustee 2 endorsed the credential list: 2 credentials, digest" in out.output
    again = _trustee(tmp_path, token, "endorse", 2)
    assert again.exit_code == 1 and "already endorsed" in again.output

    opened = call("POST", f"/api/v1/elections/{election}/open").json()
    assert opened["credential_endorsements_valid"] == 2
    out = CliRunner().invoke(
        cli,
        [
            "votes",
            "verify",
            "--rpc",
            node.url,
            "--election",
            opened["ledger_ref"],
            "--workers",
            "1",
        ],
    )
    assert out.exit_code == 0, out.output
    assert "trustee 1: endorses the credential list" in out.output
    assert "trustee 2: endorses the credential list" in out.output
