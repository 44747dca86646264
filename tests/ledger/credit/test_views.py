"""The credit API and pages: a firm records events, regulators act and adjust,
anyone reads profiles and the canonical inputs of a published score."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import make_tenant
from tests.ledger.credit.conftest import AFTER, PERIOD, make_firm
from wuye.crypto import sm3_hash
from wuye.federation.models import Role
from wuye.ledger.credit import scoring, service
from wuye.ledger.credit.chain import subject_ref
from wuye.ledger.credit.models import CreditScore
from wuye.platform.db import Scope


@pytest.fixture
def database(sqlite_database):
    """These routes' logic runs on both backends in test_service; SQLite suffices here."""
    return sqlite_database


def _published_firm(database, ledger):
    firm = make_firm(database)
    with database.transaction(Scope.for_host()) as session:
        service.publish_period(session=session, ledger=ledger, period=PERIOD, now=AFTER)
    return firm


def test_a_complaint_is_recorded_then_resolved_once(client, database, token_for) -> None:
    firm = make_firm(database)
    headers = token_for(firm.tenant_id)
    body = {"estate_id": firm.estate_id, "staff_id": firm.staff_id, "description": "电梯停运"}
    created = client.post("/api/v1/credit/complaints", json=body, headers=headers)
    assert created.status_code == 201, created.text
    url = f"/api/v1/credit/complaints/{created.json()['id']}/resolution"
    resolution = {"resolution": "已修复", "resident_accepted": True}
    done = client.post(url, json=resolution, headers=headers)
    assert done.status_code == 200 and done.json()["resident_accepted"] is True
    assert client.post(url, json=resolution, headers=headers).status_code == 409


def test_a_rating_is_one_to_five_stars(client, database, token_for) -> None:
    firm = make_firm(database)
    headers = token_for(firm.tenant_id)
    rating = {"estate_id": firm.estate_id, "staff_id": firm.staff_id, "stars": 6}
    assert client.post("/api/v1/credit/ratings", json=rating, headers=headers).status_code == 422
    rating["stars"] = 4
    assert client.post("/api/v1/credit/ratings", json=rating, headers=headers).status_code == 201


def test_only_regulators_record_penalties(client, database, token_for) -> None:
    firm = make_firm(database)
    action = {"tenant_id": firm.tenant_id, "kind": "penalty", "severity": 2, "description": "违规"}
    as_firm = client.post(
        "/api/v1/regulator/credit/actions", json=action, headers=token_for(firm.tenant_id)
    )
    assert as_firm.status_code == 403
    regulator = token_for(make_tenant(database), "ledger:read", role=Role.REGULATOR)
    recorded = client.post("/api/v1/regulator/credit/actions", json=action, headers=regulator)
    assert recorded.status_code == 201, recorded.text
    own = client.get("/api/v1/credit/regulator-actions", headers=token_for(firm.tenant_id))
    assert sorted(a["kind"] for a in own.json()["items"]) == ["commendation", "penalty"]


def test_anyone_reads_the_canonical_inputs_whose_digest_is_on_the_ledger(
    client, database, credit_ledger
) -> None:
    firm = _published_firm(database, credit_ledger)
    ref = subject_ref("firm", firm.tenant_id)
    r = client.get(f"/api/v1/credit/public/scores/{PERIOD}/{ref.hex()}/inputs")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    score, digest, _ = credit_ledger.published(PERIOD, ref)
    assert sm3_hash(r.content) == digest
    assert scoring.score(r.json()).score == score


def test_a_regulators_adjustment_shows_beside_the_computed_score(
    app, client, database, token_for, credit_ledger
) -> None:
    firm = _published_firm(database, credit_ledger)
    app.state.credit_ledger = credit_ledger
    regulator = token_for(make_tenant(database), "ledger:read", role=Role.REGULATOR)
    body = {
        "period": PERIOD,
        "subject_ref": subject_ref("firm", firm.tenant_id).hex(),
        "delta": 25,
        "reason": "抗疫保供表现突出 / outstanding service",
    }
    r = client.post("/api/v1/regulator/credit/adjustments", json=body, headers=regulator)
    assert r.status_code == 201, r.text
    profile = client.get(f"/api/v1/credit/public/firms/{firm.tenant_id}").json()
    (month,) = profile["history"]
    assert (month["adjustments"], month["effective"]) == (25, month["computed"] + 25)
    assert profile["adjustments"][0]["reason"] == body["reason"]
    page = client.get(f"/credit/firms/{firm.tenant_id}")
    assert page.status_code == 200
    assert "<svg" in page.text and "<polyline" in page.text and body["reason"] in page.text


def test_the_model_page_shows_the_scoring_modules_weights(client) -> None:
    page = client.get("/credit/model").text
    for key, weight in scoring.WEIGHTS.items():
        assert f'data-key="{key}">{weight}</td>' in page
    assert scoring.MODEL_ID in page
    for points in scoring.COMPLAINT_POINTS.values():
        assert f'<td class="num">{points}</td>' in page


def test_the_firms_page_lists_rated_firms(client, database, credit_ledger) -> None:
    firm = _published_firm(database, credit_ledger)
    with database.transaction(Scope.for_host()) as session:
        row = session.scalar(select(CreditScore).where(CreditScore.subject_id == firm.tenant_id))
    page = client.get("/credit/firms").text
    assert f"/credit/firms/{firm.tenant_id}" in page and row.subject_name in page
