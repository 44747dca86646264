"""The scoring model: bounded, monotone in the obvious inputs, deterministic."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from wuye.ledger.credit import scoring

ON_TIME = {
    "respond_due_at": "2026-10-02T00:00:00Z",
    "assigned_at": "2026-10-01T00:00:00Z",
    "resolve_due_at": "2026-10-03T00:00:00Z",
    "resolved_at": "2026-10-02T12:00:00Z",
}
LATE = ON_TIME | {"assigned_at": "2026-10-05T00:00:00Z", "resolved_at": None}


def _doc(orders=(), complaints=(), ratings=(), actions=()) -> dict:
    return scoring.canonical_inputs(
        period="2026-10",
        subject_kind="firm",
        subject_id="f",
        subject_ref="00" * 32,
        work_orders=[o | {"id": f"w{i:03d}"} for i, o in enumerate(orders)],
        complaints=[c | {"id": f"c{i:03d}"} for i, c in enumerate(complaints)],
        ratings=[{"id": f"r{i:03d}", "stars": s} for i, s in enumerate(ratings)],
        regulator_actions=[a | {"id": f"a{i:03d}"} for i, a in enumerate(actions)],
    )


def _complaint(outcome: str) -> dict:
    base = {"received_at": "2026-10-01T00:00:00Z", "unfounded": False, "resident_accepted": True}
    return (
        base
        | {
            "unfounded": {"unfounded": True},
            "resolved": {"resolved_at": "2026-10-03T00:00:00Z"},
            "resolved_unaccepted": {
                "resolved_at": "2026-10-03T00:00:00Z",
                "resident_accepted": False,
            },
            "late": {"resolved_at": "2026-10-30T00:00:00Z"},
            "open": {"resolved_at": None},
        }[outcome]
    )


orders = st.lists(st.sampled_from([ON_TIME, LATE]), max_size=12)
complaints = st.lists(st.sampled_from(sorted(scoring.COMPLAINT_POINTS)), max_size=12)
stars = st.lists(st.integers(1, 5), max_size=12)
actions = st.lists(
    st.one_of(
        st.builds(lambda s: {"kind": "penalty", "severity": s}, st.integers(1, 3)),
        st.builds(lambda s: {"kind": "commendation", "severity": s}, st.integers(1, 2)),
    ),
    max_size=4,
)


def _score(o, c, r, a) -> int:
    return scoring.score(_doc(o, [_complaint(x) for x in c], r, a)).score


def test_weights_sum_to_one_hundred() -> None:
    assert sum(scoring.WEIGHTS.values()) == 100


def test_div_round_rounds_half_up() -> None:
    assert [scoring.div_round(n, 4) for n in (1, 2, 5, 6, 7)] == [0, 1, 1, 2, 2]


@settings(max_examples=60, deadline=None)
@given(orders, complaints, stars, actions)
def test_score_is_bounded(o, c, r, a) -> None:
    breakdown = scoring.score(_doc(o, [_complaint(x) for x in c], r, a))
    assert 0 <= breakdown.score <= scoring.MAX_SCORE
    assert all(0 <= v <= scoring.MAX_SCORE for v in breakdown.components.values())


@settings(max_examples=60, deadline=None)
@given(orders, complaints, stars, actions)
def test_an_on_time_order_never_lowers_and_a_late_one_never_raises(o, c, r, a) -> None:
    before = _score(o, c, r, a)
    assert _score([*o, ON_TIME], c, r, a) >= before
    assert _score([*o, LATE], c, r, a) <= before


@settings(max_examples=60, deadline=None)
@given(orders, complaints, stars, actions, st.sampled_from(sorted(scoring.COMPLAINT_POINTS)))
def test_another_complaint_never_raises_the_score(o, c, r, a, extra) -> None:
    assert _score(o, [*c, extra], r, a) <= _score(o, c, r, a)


@settings(max_examples=60, deadline=None)
@given(orders, complaints, stars.filter(bool), actions, st.data())
def test_more_stars_never_lower_the_score(o, c, r, a, data) -> None:
    i = data.draw(st.integers(0, len(r) - 1))
    if r[i] == 5:
        return
    better = [*r[:i], r[i] + 1, *r[i + 1 :]]
    assert _score(o, c, better, a) >= _score(o, c, r, a)


@settings(max_examples=40, deadline=None)
@given(orders, complaints, stars, actions, st.integers(1, 3))
def test_a_penalty_never_raises_and_a_commendation_never_lowers(o, c, r, a, severity) -> None:
    before = _score(o, c, r, a)
    assert _score(o, c, r, [*a, {"kind": "penalty", "severity": severity}]) <= before
    level = min(severity, 2)
    assert _score(o, c, r, [*a, {"kind": "commendation", "severity": level}]) >= before


@settings(max_examples=40, deadline=None)
@given(orders, complaints, stars, actions, st.randoms(use_true_random=False))
def test_record_order_changes_neither_bytes_nor_score(o, c, r, a, rnd) -> None:
    doc = _doc(o, [_complaint(x) for x in c], r, a)
    shuffled = {k: (rnd.sample(v, len(v)) if isinstance(v, list) else v) for k, v in doc.items()}
    again = scoring.canonical_inputs(
        period="2026-10",
        subject_kind="firm",
        subject_id="f",
        subject_ref="00" * 32,
        work_orders=shuffled["work_orders"],
        complaints=shuffled["complaints"],
        ratings=shuffled["ratings"],
        regulator_actions=shuffled["regulator_actions"],
    )
    assert scoring.canonical_bytes(again) == scoring.canonical_bytes(doc)
    reparsed = json.loads(scoring.canonical_bytes(doc))
    assert scoring.score(reparsed) == scoring.score(doc)


def test_canonical_bytes_are_sorted_and_compact() -> None:
    data = scoring.canonical_bytes(_doc([ON_TIME], [], [5], []))
    assert b" " not in data
    assert data.startswith(b'{"complaints":[],"model":"wuye-credit/1","period":"2026-10"')


def test_no_events_scores_the_priors() -> None:
    breakdown = scoring.score(_doc())
    assert breakdown.components == {
        "sla": scoring.SLA_PRIOR_POINTS,
        "complaints": scoring.MAX_SCORE,
        "satisfaction": scoring.SATISFACTION_PRIOR_POINTS,
        "regulatory": scoring.REGULATORY_BASELINE,
    }
    assert breakdown.score == 828  # (35*800 + 20*1000 + 25*750 + 20*800) / 100 = 827.5


def test_inputs_of_another_model_are_refused() -> None:
    import pytest

    with pytest.raises(ValueError, match="model"):
        scoring.score(_doc() | {"model": "wuye-credit/0"})


def test_grades_follow_the_bands() -> None:
    assert [scoring.grade(v) for v in (1050, 900, 899, 700, 600, 599, -5)] == [
        "AAA",
        "AAA",
        "AA",
        "A",
        "B",
        "C",
        "C",
    ]
