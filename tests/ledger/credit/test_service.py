"""A month's scores: computed from recorded events, published in batches, verified
against the ledger (and caught when stored inputs are tampered with), adjusted.
Publishing, tampering and adjusting run on PostgreSQL too; the rest on SQLite."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from tests.ledger.credit.conftest import AFTER, MID_MONTH, PERIOD, make_firm
from wuye.crypto import sm3_hash
from wuye.ledger.credit import scoring, service
from wuye.ledger.credit.chain import subject_ref
from wuye.ledger.credit.models import AdjustmentIn, CreditScore
from wuye.platform.db import Scope
from wuye.platform.pii import PersonalDataCipher
from wuye.platform.problems import Problem

CIPHER = PersonalDataCipher(b"test-secret-key-0123456789")


def _publish(database, ledger, period=PERIOD):
    with database.transaction(Scope.for_host()) as session:
        return service.publish_period(session=session, ledger=ledger, period=period, now=AFTER)


def _verify(database, ledger, period=PERIOD):
    with database.transaction(Scope.for_host()) as session:
        return service.verify_period(session=session, ledger=ledger, period=period)


def test_a_firm_and_its_technician_are_scored_from_the_months_events(sqlite_database) -> None:
    firm = make_firm(sqlite_database, late_orders=1)
    with sqlite_database.transaction(Scope.for_host()) as session:
        subjects = service.collect_inputs(session=session, tenant_id=firm.tenant_id, period=PERIOD)
    assert [(s.kind, s.subject_id) for s in subjects] == [
        ("firm", firm.tenant_id),
        ("staff", firm.staff_id),
    ]
    doc = subjects[0].document
    assert len(doc["work_orders"]) == 3 and doc["ratings"][0]["stars"] == 5
    assert doc["regulator_actions"][0]["kind"] == "commendation"
    assert doc["subject"]["ref"] == subject_ref("firm", firm.tenant_id).hex()
    # 2 orders fully on time, 1 responded on time only: (2000 + 300 + 1600) / 5 = 780
    assert scoring.score(doc).components["sla"] == 780
    assert subjects[1].document["regulator_actions"] == []  # it named the firm, not the staff


def test_a_month_that_has_not_ended_is_not_computed(sqlite_database) -> None:
    make_firm(sqlite_database)
    with (
        sqlite_database.transaction(Scope.for_host()) as session,
        pytest.raises(Problem, match="ended"),
    ):
        service.compute_period(session=session, period=PERIOD, now=MID_MONTH)


def test_published_scores_match_the_ledger_in_one_batch(database, credit_ledger) -> None:
    firm = make_firm(database)
    out = _publish(database, credit_ledger, "2026-09")  # an empty month still rates the firm
    assert out.batches == 1
    out = _publish(database, credit_ledger)
    assert out.published >= 2 and out.batches == 1
    with database.transaction(Scope.for_host()) as session:
        row = session.scalar(
            select(CreditScore).where(
                CreditScore.subject_id == firm.tenant_id, CreditScore.period == PERIOD
            )
        )
        assert row.inputs_digest == sm3_hash(row.inputs.encode()).hex()
    score, digest, adjustments = credit_ledger.published(PERIOD, bytes.fromhex(row.subject_ref))
    assert (score, digest.hex(), adjustments) == (row.score, row.inputs_digest, 0)


def test_publishing_again_sends_nothing(sqlite_database, credit_ledger) -> None:
    make_firm(sqlite_database)
    _publish(sqlite_database, credit_ledger, "2025-10")
    again = _publish(sqlite_database, credit_ledger, "2025-10")
    assert (again.published, again.batches) == (0, 0)


def test_verification_passes_on_untouched_inputs(sqlite_database, credit_ledger) -> None:
    make_firm(sqlite_database)
    _publish(sqlite_database, credit_ledger, "2025-11")
    assert _verify(sqlite_database, credit_ledger, "2025-11") == []


def test_verification_names_the_subject_whose_stored_inputs_were_tampered_with(
    database, credit_ledger
) -> None:
    firm = make_firm(database, stars=2)
    _publish(database, credit_ledger)
    with database.transaction(Scope.for_host()) as session:
        row = session.scalar(select(CreditScore).where(CreditScore.subject_id == firm.tenant_id))
        assert '"stars":2' in row.inputs
        session.execute(
            update(CreditScore)
            .where(CreditScore.id == row.id)
            .values(inputs=row.inputs.replace('"stars":2', '"stars":5'))
        )
    problems = _verify(database, credit_ledger)
    assert len(problems) == 1
    assert "inputs digest" in problems[0] and row.subject_name in problems[0]


def test_verification_catches_a_stored_score_that_disagrees(sqlite_database, credit_ledger) -> None:
    firm = make_firm(sqlite_database)
    _publish(sqlite_database, credit_ledger)
    with sqlite_database.transaction(Scope.for_host()) as session:
        session.execute(
            update(CreditScore).where(CreditScore.subject_id == firm.staff_id).values(score=1000)
        )
    (problem,) = _verify(sqlite_database, credit_ledger)
    assert "stored score 1000" in problem and "周师傅" in problem


def test_scores_on_the_ledger_without_inputs_are_reported(sqlite_database, credit_ledger) -> None:
    firm = make_firm(sqlite_database)
    _publish(sqlite_database, credit_ledger)
    with sqlite_database.transaction(Scope.for_host()) as session:
        session.execute(
            update(CreditScore)
            .where(CreditScore.subject_id == firm.staff_id)
            .values(period="2026-01")
        )
    (problem,) = _verify(sqlite_database, credit_ledger)
    assert "inputs are missing" in problem


def test_a_regulators_adjustment_is_signed_by_its_own_account_and_kept_apart(
    database, credit_ledger
) -> None:
    firm = make_firm(database)
    _publish(database, credit_ledger)
    ref = subject_ref("firm", firm.tenant_id).hex()
    reason = "未按规定公示维修资金使用情况 / fund use not disclosed"
    with database.transaction(Scope.for_host()) as session:
        adjustment = service.adjust(
            session=session,
            ledger=credit_ledger,
            cipher=CIPHER,
            regulator="zjj-inspector",
            adjustment_in=AdjustmentIn(period=PERIOD, subject_ref=ref, delta=-40, reason=reason),
        )
    tx = credit_ledger.w3.eth.get_transaction(adjustment.tx_hash)
    assert tx["from"] == adjustment.regulator_address
    assert adjustment.reason_digest == sm3_hash(reason.encode()).hex()
    (on_chain,) = credit_ledger.adjustments_of(PERIOD)
    assert on_chain["reason_digest"] == adjustment.reason_digest
    with database.transaction(Scope.for_host()) as session:
        profile = service.profile(session=session, tenant_id=firm.tenant_id)
    (month,) = profile.history
    assert month.adjustments == -40 and month.effective == month.computed - 40
    assert credit_ledger.published(PERIOD, bytes.fromhex(ref))[0] == month.computed
    assert _verify(database, credit_ledger) == []  # the computed score is untouched


def test_an_unpublished_score_cannot_be_adjusted(sqlite_database, credit_ledger) -> None:
    firm = make_firm(sqlite_database)
    ref = subject_ref("firm", firm.tenant_id).hex()
    with sqlite_database.transaction(Scope.for_host()) as session, pytest.raises(Problem):
        service.adjust(
            session=session,
            ledger=credit_ledger,
            cipher=CIPHER,
            regulator="zjj-inspector",
            adjustment_in=AdjustmentIn(period=PERIOD, subject_ref=ref, delta=5, reason="表彰加分"),
        )
