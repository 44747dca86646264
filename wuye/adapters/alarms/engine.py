"""The alarm state machine with hysteresis, evaluated on every reading in memory.

A reading outside its band raises an alarm; the alarm clears only once a
reading is back inside the band by the hysteresis margin, so a value
hovering at a limit raises one alarm, not one per reading. The ingest
persists what this decides (``alarms/service.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from wuye.adapters.thresholds import Band
from wuye.platform.db import new_id


@dataclass(slots=True)
class ActiveAlarm:
    id: str
    metric: str
    kind: str
    severity: str
    low: float | None
    high: float | None
    value: float
    peak: float
    ts_ms: int


@dataclass(slots=True)
class Transition:
    action: str  # "raise" | "clear"
    alarm: ActiveAlarm
    value: float
    ts_ms: int


def _outside(band: Band, value: float) -> bool:
    return (band.low is not None and value < band.low) or (
        band.high is not None and value > band.high
    )


def _distance(alarm: ActiveAlarm, value: float) -> float:
    """How far outside the limits the alarm was raised at (for its peak)."""
    below = alarm.low - value if alarm.low is not None else 0.0
    above = value - alarm.high if alarm.high is not None else 0.0
    return max(below, above)


def check(
    active: dict[tuple[str, str], ActiveAlarm],
    metric: str,
    kind: str,
    band: Band,
    value: float,
    ts_ms: int,
) -> Transition | None:
    """Advance the alarm of ``(metric, kind)`` by one reading; the transition, if any."""
    key = (metric, kind)
    alarm = active.get(key)
    if alarm is None:
        if not _outside(band, value):
            return None
        alarm = ActiveAlarm(
            new_id(), metric, kind, band.severity, band.low, band.high, value, value, ts_ms
        )
        active[key] = alarm
        return Transition("raise", alarm, value, ts_ms)
    if _distance(alarm, value) > _distance(alarm, alarm.peak):
        alarm.peak = value
    margin = band.margin()
    inside = (band.low is None or value >= band.low + margin) and (
        band.high is None or value <= band.high - margin
    )
    if not inside:
        return None
    del active[key]
    return Transition("clear", alarm, value, ts_ms)
