"""Exact splits in fen: largest remainder, deposits by area (properties with hypothesis)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wuye.ledger.fund.apportion import deposit_for_area, largest_remainder
from wuye.ledger.fund.rates import DEFAULT_CITY_RATES

totals = st.integers(min_value=0, max_value=10**12)
weights = st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=80).filter(any)


@given(totals, weights)
def test_parts_sum_exactly_to_the_total_and_are_never_negative(total, ws) -> None:
    parts = largest_remainder(total, ws)
    assert sum(parts) == total
    assert all(p >= 0 for p in parts)
    assert all(p == 0 for p, w in zip(parts, ws, strict=True) if w == 0)


@given(totals, weights)
def test_each_part_is_within_one_fen_of_its_exact_quota(total, ws) -> None:
    parts = largest_remainder(total, ws)
    s = sum(ws)
    for p, w in zip(parts, ws, strict=True):
        assert abs(p * s - total * w) < s  # |part - exact quota| < 1 fen


@given(totals, weights)
def test_splitting_is_deterministic(total, ws) -> None:
    assert largest_remainder(total, ws) == largest_remainder(total, list(ws))


@given(st.integers(min_value=0, max_value=10**9), weights)
def test_paying_in_proportion_to_what_is_owed_never_passes_anyones_share(amount, owed) -> None:
    amount = min(amount, sum(owed))
    parts = largest_remainder(amount, owed)
    assert all(p <= o for p, o in zip(parts, owed, strict=True))


def test_ties_go_to_the_earlier_unit() -> None:
    assert largest_remainder(100, [1, 1, 1]) == [34, 33, 33]
    assert largest_remainder(2, [1, 1, 1]) == [1, 1, 0]


def test_zero_weights_cannot_take_a_positive_total() -> None:
    with pytest.raises(ValueError):
        largest_remainder(1, [0, 0])
    assert largest_remainder(0, [0, 0]) == [0, 0]


@given(
    st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999.99"), places=2),
    st.sampled_from(sorted(DEFAULT_CITY_RATES)),
)
def test_first_deposit_is_area_times_rate_to_the_fen(area, city) -> None:
    rate = DEFAULT_CITY_RATES[city].deposit_fen_per_m2
    fen = deposit_for_area(area, rate)
    assert abs(Decimal(fen) - area * rate) <= Decimal("0.5")
    assert isinstance(fen, int)


def test_threshold_is_an_exact_integer_comparison() -> None:
    rate = DEFAULT_CITY_RATES["杭州"]  # 30 %
    assert rate.needs_top_up(2_999, 10_000)
    assert not rate.needs_top_up(3_000, 10_000)
