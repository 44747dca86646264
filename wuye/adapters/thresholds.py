"""Alarm thresholds: static limits per device type, and bands learned from each device's history.

Static limits come from the catalogue (``devices/types.py``). Learned bands
are robust statistics per hour of day (China Standard Time): for each hour,
the median and the median absolute deviation (MAD) of the device's own
readings over the last ``window_days``; the band is
``median ± k · 1.4826 · MAD`` (1.4826 · MAD estimates σ for normal data),
with ``k = BASE_K / sensitivity``, so a more sensitive device gets a
narrower band. Hours with fewer than :data:`MIN_SAMPLES` readings get no band,
and on/off flags and counters are not learned. ``learn_*`` runs on a
schedule (the ingest service, or ``wuye devices learn`` from cron).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from wuye.adapters.devices.models import Device
from wuye.adapters.devices.types import DEVICE_TYPES, DeviceType
from wuye.adapters.telemetry.models import LearnedThreshold, Reading
from wuye.platform.db import utcnow

#: China Standard Time (no daylight saving): hours of day are local hours.
LOCAL_OFFSET_MS = 8 * 3_600_000
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
MAD_TO_SIGMA = 1.4826
BASE_K = 3.5
MIN_SAMPLES = 12
#: A band is never narrower than this share of the median (a flat series would flap).
MIN_RELATIVE_WIDTH = 0.02
#: Hysteresis: an alarm clears only this share of the band's width back inside it.
STATIC_HYSTERESIS = 0.05
LEARNED_HYSTERESIS = 0.10
#: Learned bands flag anomalies; static limits carry the catalogue's severity.
LEARNED_SEVERITY = "minor"
_NOT_LEARNED_UNITS = frozenset({"flag", "count"})


def hour_of_day(ts_ms: int) -> int:
    return (ts_ms + LOCAL_OFFSET_MS) // HOUR_MS % 24


def now_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class Band:
    low: float | None
    high: float | None
    severity: str
    hysteresis: float  # share of the width

    def margin(self) -> float:
        if self.low is not None and self.high is not None:
            return self.hysteresis * (self.high - self.low)
        limit = self.low if self.low is not None else self.high
        return self.hysteresis * abs(limit or 0.0)


def static_bands(device_type: DeviceType) -> dict[str, Band]:
    return {
        m.name: Band(m.low, m.high, m.severity, STATIC_HYSTERESIS)
        for m in device_type.metrics
        if m.low is not None or m.high is not None
    }


def robust_bands(
    ts_ms: np.ndarray, values: np.ndarray, *, sensitivity: float = 1.0
) -> list[tuple[int, float, float, float, float, int]]:
    """(hour, median, mad, low, high, samples) for each hour of day with enough samples."""
    k = BASE_K / sensitivity
    hours = ((ts_ms + LOCAL_OFFSET_MS) // HOUR_MS) % 24
    out = []
    for hour in range(24):
        sample = values[hours == hour]
        if sample.size < MIN_SAMPLES:
            continue
        median = float(np.median(sample))
        mad = float(np.median(np.abs(sample - median)))
        half = max(k * MAD_TO_SIGMA * mad, MIN_RELATIVE_WIDTH * abs(median) / 2, 1e-9)
        out.append((hour, median, mad, median - half, median + half, int(sample.size)))
    return out


def learn_device(
    session: Session, device: Device, *, window_days: int = 14, now: int | None = None
) -> int:
    """Recompute one device's learned bands from its readings; returns how many bands."""
    device_type = DEVICE_TYPES[device.type]
    end = now if now is not None else now_ms()
    start = end - window_days * DAY_MS
    session.execute(delete(LearnedThreshold).where(LearnedThreshold.device_id == device.id))
    rows = session.execute(
        select(Reading.metric, Reading.ts_ms, Reading.value).where(
            Reading.device_id == device.id, Reading.ts_ms >= start, Reading.ts_ms <= end
        )
    ).all()
    by_metric: dict[str, tuple[list[int], list[float]]] = {}
    for metric, ts, value in rows:
        ts_list, values = by_metric.setdefault(metric, ([], []))
        ts_list.append(ts)
        values.append(value)
    computed_at = utcnow()
    count = 0
    for metric, (ts_list, values) in by_metric.items():
        known = device_type.metric(metric)
        if known is None or known.unit in _NOT_LEARNED_UNITS:
            continue
        bands = robust_bands(
            np.asarray(ts_list, dtype=np.int64),
            np.asarray(values, dtype=np.float64),
            sensitivity=device.sensitivity,
        )
        for hour, median, mad, low, high, samples in bands:
            session.add(
                LearnedThreshold(
                    device_id=device.id,
                    metric=metric,
                    hour=hour,
                    median=median,
                    mad=mad,
                    low=low,
                    high=high,
                    samples=samples,
                    computed_at=computed_at,
                )
            )
            count += 1
    session.flush()
    return count


def learn_all(session: Session, *, window_days: int = 14, now: int | None = None) -> int:
    """Recompute the bands of every active device the session's scope sees."""
    devices = session.scalars(select(Device).where(Device.status == "active")).all()
    return sum(learn_device(session, d, window_days=window_days, now=now) for d in devices)


def learned_bands(
    session: Session, device_ids: list[str]
) -> dict[str, dict[str, list[Band | None]]]:
    """device id -> metric -> 24 bands (None where nothing was learned)."""
    out: dict[str, dict[str, list[Band | None]]] = {}
    if not device_ids:
        return out
    rows = session.scalars(
        select(LearnedThreshold).where(LearnedThreshold.device_id.in_(device_ids))
    )
    for row in rows:
        hours = out.setdefault(row.device_id, {}).setdefault(row.metric, [None] * 24)
        hours[row.hour] = Band(row.low, row.high, LEARNED_SEVERITY, LEARNED_HYSTERESIS)
    return out
