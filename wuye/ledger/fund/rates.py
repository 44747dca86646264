"""Cities' deposit rules for the maintenance fund (专项维修资金交存标准).

Each city sets a deposit per m² of floor area for the first deposit at purchase
(首次交存) and a threshold: when a unit's balance falls below that share of its
first deposit, the owner tops it up (续筹) back to the first deposit. The table
below is the built-in default; a tenant may configure its own row per city
(``fund_city_rates``), which wins. Rates are in fen per m², thresholds in basis
points (3000 = 30 %).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_CITY_RATES", "CityRate"]


@dataclass(frozen=True)
class CityRate:
    city: str
    deposit_fen_per_m2: int
    threshold_bp: int
    source: str = "default"

    def needs_top_up(self, balance_fen: int, first_deposit_fen: int) -> bool:
        """Below ``threshold_bp`` of the first deposit (exact integer comparison)."""
        return balance_fen * 10_000 < first_deposit_fen * self.threshold_bp


#: Built-in rates, in the range such rules use for high-rise housing (per m²).
DEFAULT_CITY_RATES: dict[str, CityRate] = {
    rate.city: rate
    for rate in (
        CityRate("北京", 20_000, 3000),
        CityRate("上海", 12_000, 3000),
        CityRate("广州", 9_000, 3000),
        CityRate("深圳", 10_000, 3000),
        CityRate("杭州", 8_000, 3000),
        CityRate("成都", 6_000, 3000),
        CityRate("武汉", 7_000, 3000),
    )
}
