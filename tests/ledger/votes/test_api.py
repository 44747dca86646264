"""The votes API end to end on each database, against a real ledger node."""

from __future__ import annotations

import base64
from types import SimpleNamespace

import pytest

from tests.factories import make_tenant
from tests.ledger.votes.helpers import issue_letters, signed_ballot
from wuye.ledger.votes.elgamal import Ciphertext
from wuye.ledger.votes.service import VotesLedger
from wuye.ledger.votes.tally import ceremony_context, share_tally
from wuye.ledger.votes.trustees import ceremony


def _estate(client, headers):
    def post(path, body):
        r = client.post(path, json=body, headers=headers)
        assert r.status_code == 201, r.text
        return r.json()["id"]

    estate = post("/api/v1/estates", {"code": "V", "name": "投票小区"})
    building = post(f"/api/v1/estates/{estate}/buildings", {"name": "1幢", "floors": 9})
    units = [
        post(
            f"/api/v1/buildings/{building}/units",
            {"number": f"{n}01", "floor": n, "floor_area_m2": area},
        )
        for n, area in ((1, "90.00"), (2, "120.50"), (3, "60.25"))
    ]
    owners = [post("/api/v1/owners", {"name": name}) for name in ("甲", "乙", "丙")]
    for unit, owner in zip(units, owners, strict=True):
        post(f"/api/v1/units/{unit}/owners", {"owner_id": owner})
    return estate, units, owners


@pytest.fixture
def votes_app(app, ledger):
    _, officer, record = ledger
    app.state.votes_ledger = VotesLedger(officer, record)
    return app


def test_an_election_from_creation_to_a_verified_result(votes_app, client, database, token_for):
    headers = token_for(make_tenant(database))
    estate, units, owners = _estate(client, headers)
    r = client.post(
        "/api/v1/elections",
        json={"estate_id": estate, "title": "使用维修资金更换电梯", "matter": "fund_use"},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    election = r.json()["id"]
    dealings, keys = ceremony(2, 3, ceremony_context(election))
    r = client.post(
        f"/api/v1/elections/{election}/trustees",
        json={"dealings": [d.to_json() for d in dealings]},
        headers=headers,
    )
    assert r.json()["status"] == "ready", r.text

    def post(path, body):
        r = client.post(path, json=body, headers=headers)
        assert r.status_code == 201, r.text
        return r.json()

    letters = issue_letters(post, election, units)
    assert client.post(f"/api/v1/elections/{election}/open", headers=headers).status_code == 200
    m = client.get(f"/api/v1/elections/{election}/manifest", headers=headers).json()
    fingerprint = bytes.fromhex(m["fingerprint"])

    def ballot_for(unit, choice):
        return signed_ballot(m, letters, unit, choice)

    url = f"/api/v1/elections/{election}/ballots"
    first = post(url, {"unit_id": units[0], "owner_id": owners[0]} | ballot_for(units[0], 1))
    assert first["receipt"]["tracker"] == "0x" + first["tracker"]
    again = post(url, {"unit_id": units[0], "owner_id": owners[0]} | ballot_for(units[0], 0))
    assert again["tracker"] != first["tracker"]  # a revote: only the last counts
    stolen = client.post(
        url,
        json={"unit_id": units[1], "owner_id": owners[0]} | ballot_for(units[1], 1),
        headers=headers,
    )
    assert stolen.status_code == 403
    replayed = client.post(
        url,
        json={"unit_id": units[1], "owner_id": owners[1]}
        | ballot_for(units[0], 1)
        | {"signature": ballot_for(units[1], 1)["signature"]},
        headers=headers,
    )
    assert replayed.status_code == 422 and "ballot" in replayed.json()["detail"]
    post(
        f"/api/v1/elections/{election}/proxy-ballots",
        {
            "unit_id": units[1],
            "owner_id": owners[1],
            **ballot_for(units[1], 0),  # signed with the credential on the owner's letter
            "authorisation_base64": base64.b64encode(b"%PDF signed authorisation").decode(),
        },
    )
    listed = client.get(f"/api/v1/elections/{election}/ballots", headers=headers).json()
    assert sorted(b["superseded"] for b in listed["items"]) == [False, False, True]
    assert client.post(f"/api/v1/elections/{election}/close", headers=headers).status_code == 200
    tally_json = client.get(f"/api/v1/elections/{election}/tally", headers=headers).json()
    tally = {
        (int(k.split(":")[0]), k.split(":")[1]): Ciphertext.from_json(v) if v else None
        for k, v in tally_json.items()
    }
    for trustee in keys[1:]:
        shares = _shares(fingerprint, trustee, tally)
        r = client.post(
            f"/api/v1/elections/{election}/decryptions",
            json={"index": trustee.index, "shares": shares},
            headers=headers,
        )
        assert r.status_code == 200, r.text
    assert r.json()["status"] == "decided" and r.json()["approved"] is True
    results = client.get(f"/api/v1/elections/{election}/results", headers=headers).json()
    agree = results["options"][0]
    assert agree["area_m2"] == 210.5 and agree["heads"] == 2
    assert results["turnout_heads"] == 2 and results["eligible_heads"] == 3


def _shares(fingerprint, trustee, tally):
    """A trustee's shares computed on its own device: it needs only the fingerprint."""
    holder = SimpleNamespace(fingerprint=fingerprint)
    return {
        f"{j}:{w}": share.to_json()
        for (j, w), share in share_tally(holder, trustee, tally).items()  # type: ignore[arg-type]
    }
