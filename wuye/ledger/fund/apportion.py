"""Exact integer apportionment in fen: shares of a repair's cost by area (分摊), interest by
balance, deposits by area times a city rate.

Every split uses the largest-remainder (Hamilton) method: each part gets the floor of
its exact quota, and the fen left over go one each to the parts with the largest
fractional remainders, ties broken by position. The parts therefore add up exactly to
the total, none is negative, and the result depends only on the inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

__all__ = ["area_hundredths", "deposit_for_area", "largest_remainder"]


def largest_remainder(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` fen in proportion to non-negative integer ``weights``.

    >>> largest_remainder(100, [1, 1, 1])
    [34, 33, 33]
    """
    if total < 0:
        raise ValueError("total must not be negative")
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    weight_sum = sum(weights)
    if weight_sum == 0:
        if total == 0:
            return [0] * len(weights)
        raise ValueError("cannot split a positive total over zero weights")
    quotas = [divmod(total * w, weight_sum) for w in weights]
    parts = [q for q, _ in quotas]
    left = total - sum(parts)
    # Largest remainder first; equal remainders go to the earlier position.
    order = sorted(range(len(weights)), key=lambda i: (-quotas[i][1], i))
    for i in order[:left]:
        parts[i] += 1
    return parts


def area_hundredths(area_m2: Decimal | str | int) -> int:
    """A floor area as an integer number of hundredths of a m² (the unit roll's weight)."""
    return int((Decimal(area_m2) * 100).to_integral_value(rounding=ROUND_HALF_UP))


def deposit_for_area(area_m2: Decimal | str | int, rate_fen_per_m2: int) -> int:
    """The first deposit (首次交存) of a unit: area × rate, rounded half up to the fen."""
    if rate_fen_per_m2 < 0:
        raise ValueError("rate must not be negative")
    return (area_hundredths(area_m2) * rate_fen_per_m2 + 50) // 100
