"""Civil Code Article 278 thresholds and the headcount rule of judicial interpretation art. 9."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from wuye.ledger.votes.civil_code import MatterType, Totals, decide, head_groups


def _totals(area, heads, agree_area, agree_heads, eligible=(300, 3)):
    return Totals(eligible[0], eligible[1], area, heads, agree_area, agree_heads)


def test_exactly_two_thirds_participation_is_a_quorum():
    assert decide(MatterType.FUND_USE, _totals(200, 2, 101, 2)).quorum_met


def test_just_under_two_thirds_area_is_not_a_quorum():
    decision = decide(MatterType.FUND_USE, _totals(199, 3, 199, 3))
    assert not decision.quorum_met and not decision.approved


def test_half_exactly_is_not_more_than_half():
    assert not decide(MatterType.FUND_USE, _totals(200, 2, 100, 2)).approved


def test_raising_the_fund_needs_three_quarters_of_participants():
    assert not decide(MatterType.FUND_RAISING, _totals(300, 3, 200, 3)).approved
    assert decide(MatterType.FUND_RAISING, _totals(300, 4, 225, 3, (300, 4))).approved


@given(
    st.sampled_from(list(MatterType)),
    st.integers(1, 10**6),
    st.integers(1, 500),
    st.data(),
)
def test_approval_implies_quorum_and_the_matters_majority(matter, area, heads, data):
    part_area = data.draw(st.integers(0, area))
    part_heads = data.draw(st.integers(0, heads))
    agree_area = data.draw(st.integers(0, part_area))
    agree_heads = data.draw(st.integers(0, part_heads))
    d = decide(matter, Totals(area, heads, part_area, part_heads, agree_area, agree_heads))
    if d.approved:
        assert 3 * part_area >= 2 * area and 3 * part_heads >= 2 * heads
        if matter in {MatterType.FUND_RAISING, MatterType.REBUILDING, MatterType.COMMON_PARTS_USE}:
            assert 4 * agree_area >= 3 * part_area and 4 * agree_heads >= 3 * part_heads
        else:
            assert 2 * agree_area > part_area and 2 * agree_heads > part_heads


def test_developer_units_and_one_buyers_units_are_one_head_each():
    groups = head_groups(
        ["u1", "u2", "u3", "u4", "u5"],
        {"u1": {"dev"}, "u2": {"dev"}, "u3": {"wang"}, "u4": {"wang", "li"}, "u5": {"zhao"}},
        developers={"dev"},
    )
    assert groups["u1"] == groups["u2"]
    assert groups["u3"] == groups["u4"]
    assert len(set(groups.values())) == 3
