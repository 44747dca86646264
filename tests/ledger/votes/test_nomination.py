"""Co-owners choose who casts their unit's one ballot: one nominates, the others confirm,
and only that co-owner may cast (through the API, against a real ledger node)."""

from __future__ import annotations

import pytest

from tests.factories import make_tenant
from tests.ledger.votes.helpers import issue_letters, signed_ballot
from wuye.federation.models import Role
from wuye.federation.tokens import issue_access_token
from wuye.ledger.votes.service import VotesLedger
from wuye.ledger.votes.tally import ceremony_context
from wuye.ledger.votes.trustees import ceremony


@pytest.fixture
def database(sqlite_database):
    """Nomination rules are database-independent; test_api covers PostgreSQL."""
    return sqlite_database


@pytest.fixture
def vote(app, client, ledger, database, settings, token_for):
    """An open election on an estate with one co-owned unit (甲, 乙, 丙) and one sole unit."""
    _, officer, record = ledger
    app.state.votes_ledger = VotesLedger(officer, record)
    tenant = make_tenant(database)
    staff = token_for(tenant)

    def post(path, body=None, headers=staff):
        r = client.post(path, json=body, headers=headers)
        assert r.status_code in (200, 201), r.text
        return r.json()

    estate = post("/api/v1/estates", {"code": "N", "name": "共有小区"})["id"]
    building = post(f"/api/v1/estates/{estate}/buildings", {"name": "1幢", "floors": 9})["id"]
    shared, sole = (
        post(
            f"/api/v1/buildings/{building}/units",
            {"number": f"{n}01", "floor": n, "floor_area_m2": "90.00"},
        )["id"]
        for n in (1, 2)
    )
    owners = [post("/api/v1/owners", {"name": name})["id"] for name in ("甲", "乙", "丙", "丁")]
    for owner in owners[:3]:
        post(f"/api/v1/units/{shared}/owners", {"owner_id": owner})
    post(f"/api/v1/units/{sole}/owners", {"owner_id": owners[3]})
    election = post(
        "/api/v1/elections",
        {
            "estate_id": estate,
            "title": "选聘物业",
            "matter": "property_manager",
            "threshold": 1,
            "trustees": 1,
        },
    )["id"]
    dealings, _ = ceremony(1, 1, ceremony_context(election))
    post(f"/api/v1/elections/{election}/trustees", {"dealings": [d.to_json() for d in dealings]})
    letters = issue_letters(post, election, [shared, sole])  # whoever casts holds the letter
    post(f"/api/v1/elections/{election}/open")
    manifest = client.get(f"/api/v1/elections/{election}/manifest", headers=staff).json()

    def owner(index):
        token = issue_access_token(
            settings=settings,
            database=database,
            tenant_id=tenant,
            subject=f"owner:{owners[index]}",
            client_id="test",
            scopes=["votes:read", "votes:cast", "estates:read"],
            role=Role.OWNER,
        )
        return {"Authorization": f"Bearer {token}"}

    def ballot(unit):
        return signed_ballot(manifest, letters, unit, 0)

    class Vote:
        pass

    v = Vote()
    v.election, v.shared, v.sole, v.owners, v.owner, v.ballot = (
        election,
        shared,
        sole,
        owners,
        owner,
        ballot,
    )
    v.base = f"/api/v1/elections/{election}"
    return v


def _cast(client, vote, unit, who):
    return client.post(
        f"{vote.base}/ballots",
        json={"unit_id": unit} | vote.ballot(unit),
        headers=vote.owner(who),
    )


def test_a_co_owned_unit_cannot_be_cast_before_the_co_owners_choose(client, vote):
    r = _cast(client, vote, vote.shared, 0)
    assert r.status_code == 403 and "nominate" in r.json()["detail"]


def test_a_sole_owner_casts_without_a_nomination(client, vote):
    assert _cast(client, vote, vote.sole, 3).status_code == 201


def test_the_nomination_takes_effect_only_when_every_co_owner_confirmed(client, vote):
    url = f"{vote.base}/units/{vote.shared}/nomination"
    state = client.post(url, json={"nominee_id": vote.owners[1]}, headers=vote.owner(0)).json()
    assert state["nominee_id"] == vote.owners[1] and state["effective"] is False
    state = client.post(f"{url}/confirm", json={}, headers=vote.owner(1)).json()
    assert state["effective"] is False
    assert _cast(client, vote, vote.shared, 1).status_code == 403
    state = client.post(f"{url}/confirm", json={}, headers=vote.owner(2)).json()
    assert state["effective"] is True and state["caster_id"] == vote.owners[1]


def test_only_the_chosen_co_owner_may_cast_the_units_ballot(client, vote):
    url = f"{vote.base}/units/{vote.shared}/nomination"
    client.post(url, json={"nominee_id": vote.owners[2]}, headers=vote.owner(0))
    for who in (1, 2):
        client.post(f"{url}/confirm", json={}, headers=vote.owner(who))
    refused = _cast(client, vote, vote.shared, 0)
    assert refused.status_code == 403 and "another co-owner" in refused.json()["detail"]
    assert _cast(client, vote, vote.shared, 2).status_code == 201


def test_a_new_nomination_starts_the_confirmations_afresh(client, vote):
    url = f"{vote.base}/units/{vote.shared}/nomination"
    client.post(url, json={"nominee_id": vote.owners[0]}, headers=vote.owner(0))
    client.post(f"{url}/confirm", json={}, headers=vote.owner(1))
    state = client.post(url, json={"nominee_id": vote.owners[2]}, headers=vote.owner(2)).json()
    confirmed = {c["id"] for c in state["co_owners"] if c["confirmed"]}
    assert confirmed == {vote.owners[2]} and state["effective"] is False


def test_the_caster_cannot_change_once_the_unit_voted(client, vote):
    url = f"{vote.base}/units/{vote.shared}/nomination"
    client.post(url, json={"nominee_id": vote.owners[0]}, headers=vote.owner(0))
    for who in (1, 2):
        client.post(f"{url}/confirm", json={}, headers=vote.owner(who))
    assert _cast(client, vote, vote.shared, 0).status_code == 201
    late = client.post(url, json={"nominee_id": vote.owners[1]}, headers=vote.owner(1))
    assert late.status_code == 409


def test_an_owner_cannot_nominate_for_a_unit_they_do_not_hold(client, vote):
    url = f"{vote.base}/units/{vote.shared}/nomination"
    r = client.post(url, json={"nominee_id": vote.owners[3]}, headers=vote.owner(3))
    assert r.status_code == 403


def test_an_owner_cannot_confirm_in_another_co_owners_name(client, vote):
    url = f"{vote.base}/units/{vote.shared}/nomination"
    client.post(url, json={"nominee_id": vote.owners[0]}, headers=vote.owner(0))
    r = client.post(f"{url}/confirm", json={"owner_id": vote.owners[2]}, headers=vote.owner(1))
    assert r.status_code == 403


def test_an_owner_sees_their_units_and_who_casts_each(client, vote):
    mine = client.get(f"{vote.base}/my-units", headers=vote.owner(1)).json()
    assert [u["unit_id"] for u in mine] == [vote.shared]
    assert mine[0]["label"] == "1幢 101" and mine[0]["nomination"]["effective"] is False
