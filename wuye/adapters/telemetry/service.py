"""Telemetry reads: latest value per metric, downsampled history, hourly profiles, run schedules."""

from __future__ import annotations

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from wuye.adapters.devices.models import Device
from wuye.adapters.devices.service import get_device
from wuye.adapters.devices.types import DEVICE_TYPES
from wuye.adapters.telemetry.models import (
    HistoryOut,
    HistoryPoint,
    HourlyProfileOut,
    LatestOut,
    LearnedThreshold,
    Reading,
    RunScheduleOut,
    ThresholdOut,
)
from wuye.adapters.thresholds import DAY_MS, HOUR_MS, LOCAL_OFFSET_MS, now_ms, static_bands
from wuye.platform.estates.service import get_estate
from wuye.platform.problems import Problem

MAX_POINTS = 5000


def latest(*, session: Session, device_id: str) -> list[LatestOut]:
    """The newest reading of each metric the device has reported."""
    device = get_device(session=session, device_id=device_id)
    newest = (
        select(Reading.metric, func.max(Reading.ts_ms).label("ts_ms"))
        .where(Reading.device_id == device.id)
        .group_by(Reading.metric)
        .subquery()
    )
    rows = session.execute(
        select(Reading.metric, Reading.unit, Reading.value, Reading.ts_ms, Reading.id)
        .join(newest, (Reading.metric == newest.c.metric) & (Reading.ts_ms == newest.c.ts_ms))
        .where(Reading.device_id == device.id)
        .order_by(Reading.metric, Reading.id.desc())
    ).all()
    out: dict[str, LatestOut] = {}
    for metric, unit, value, ts, _id in rows:
        out.setdefault(metric, LatestOut(metric=metric, unit=unit, value=value, ts_ms=ts))
    return list(out.values())


def _unit(device: Device, metric: str) -> str:
    known = DEVICE_TYPES[device.type].metric(metric)
    if known is None:
        raise Problem("validation-error", f"metric: {device.type} has no metric {metric!r}")
    return known.unit


def history(
    *,
    session: Session,
    device_id: str,
    metric: str,
    start_ms: int | None = None,
    end_ms: int | None = None,
    bucket_s: int = 300,
) -> HistoryOut:
    """Min, max, mean and count per ``bucket_s`` bucket between ``start_ms`` and ``end_ms``."""
    device = get_device(session=session, device_id=device_id)
    unit = _unit(device, metric)
    end = end_ms if end_ms is not None else now_ms()
    start = start_ms if start_ms is not None else end - DAY_MS
    bucket_ms = bucket_s * 1000
    if end <= start:
        raise Problem("validation-error", "end_ms: must be after start_ms")
    if (end - start) // bucket_ms > MAX_POINTS:
        raise Problem("validation-error", f"bucket_s: more than {MAX_POINTS} points; widen it")
    # Integer division on both backends (ts >= start, so it is the floor).
    slot = (Reading.ts_ms - start) // bucket_ms
    rows = session.execute(
        select(
            slot.label("slot"),
            func.count(),
            func.min(Reading.value),
            func.max(Reading.value),
            func.avg(Reading.value),
        )
        .where(
            Reading.device_id == device.id,
            Reading.metric == metric,
            Reading.ts_ms >= start,
            Reading.ts_ms < end,
        )
        .group_by(slot)
        .order_by(slot)
    ).all()
    points = [
        HistoryPoint(ts_ms=start + int(s) * bucket_ms, count=c, min=lo, max=hi, avg=float(avg))
        for s, c, lo, hi, avg in rows
    ]
    return HistoryOut(
        device_id=device.id,
        metric=metric,
        unit=unit,
        bucket_s=bucket_s,
        start_ms=start,
        end_ms=end,
        points=points,
    )


def thresholds(*, session: Session, device_id: str) -> list[ThresholdOut]:
    device = get_device(session=session, device_id=device_id)
    device_type = DEVICE_TYPES[device.type]
    out = [
        ThresholdOut(
            metric=m,
            unit=device_type.metric(m).unit,
            kind="static",
            hour=None,  # type: ignore[union-attr]
            low=b.low,
            high=b.high,
            severity=b.severity,
        )
        for m, b in static_bands(device_type).items()
    ]
    learned = session.scalars(
        select(LearnedThreshold)
        .where(LearnedThreshold.device_id == device.id)
        .order_by(LearnedThreshold.metric, LearnedThreshold.hour)
    )
    from wuye.adapters.thresholds import LEARNED_SEVERITY

    out += [
        ThresholdOut(
            metric=t.metric,
            unit=_unit(device, t.metric),
            kind="learned",
            hour=t.hour,
            low=t.low,
            high=t.high,
            severity=LEARNED_SEVERITY,
            median=t.median,
            mad=t.mad,
            samples=t.samples,
        )
        for t in learned
    ]
    return out


def _hourly_means(
    session: Session, device_ids: list[str], metric: str, days: int, end: int, combine: str
) -> np.ndarray:
    """24 values: per device the mean per local hour, then summed (or averaged) over devices."""
    start = end - days * DAY_MS
    hour = (Reading.ts_ms + LOCAL_OFFSET_MS) // HOUR_MS
    rows = session.execute(
        select(Reading.device_id, hour.label("h"), func.avg(Reading.value))
        .where(
            Reading.device_id.in_(device_ids),
            Reading.metric == metric,
            Reading.ts_ms >= start,
            Reading.ts_ms < end,
        )
        .group_by(Reading.device_id, hour)
    ).all()
    per_device: dict[str, list[list[float]]] = {}
    for device_id, h, avg in rows:
        per_device.setdefault(device_id, [[] for _ in range(24)])[int(h) % 24].append(float(avg))
    if not per_device:
        return np.full(24, np.nan)
    table = np.array(
        [[np.mean(v) if v else np.nan for v in hours] for hours in per_device.values()]
    )
    with np.errstate(all="ignore"):
        if combine == "sum":
            result = np.nansum(table, axis=0)
            result[np.all(np.isnan(table), axis=0)] = np.nan
            return result
        return np.nanmean(table, axis=0)


def _profile(metric: str, unit: str, days: int, means: np.ndarray) -> HourlyProfileOut:
    valid = [h for h in range(24) if not np.isnan(means[h])]
    ordered = sorted(valid, key=lambda h: means[h])
    peak, trough = sorted(ordered[-3:][::-1]), sorted(ordered[:3])
    ratio = None
    if valid and means[ordered[0]] > 0:
        ratio = float(means[ordered[-1]] / means[ordered[0]])
    return HourlyProfileOut(
        metric=metric,
        unit=unit,
        days=days,
        hourly_mean=[None if np.isnan(v) else round(float(v), 6) for v in means],
        peak_hours=peak,
        trough_hours=trough,
        peak_to_trough=ratio,
    )


def device_profile(
    *, session: Session, device_id: str, metric: str, days: int = 7, end_ms: int | None = None
) -> HourlyProfileOut:
    """Peak and trough hours (峰谷) of one device's metric."""
    device = get_device(session=session, device_id=device_id)
    unit = _unit(device, metric)
    means = _hourly_means(session, [device.id], metric, days, end_ms or now_ms(), "mean")
    return _profile(metric, unit, days, means)


def estate_profile(
    *,
    session: Session,
    estate_id: str,
    metric: str,
    device_type: str,
    days: int = 7,
    end_ms: int | None = None,
) -> HourlyProfileOut:
    """The estate's hourly load: the metric summed over its devices of ``device_type``."""
    estate = get_estate(session=session, estate_id=estate_id)
    kind = DEVICE_TYPES.get(device_type)
    if kind is None or kind.metric(metric) is None:
        raise Problem("validation-error", f"metric: {device_type} has no metric {metric!r}")
    ids = list(
        session.scalars(
            select(Device.id).where(Device.estate_id == estate.id, Device.type == device_type)
        )
    )
    means = _hourly_means(session, ids, metric, days, end_ms or now_ms(), "sum")
    return _profile(metric, kind.metric(metric).unit, days, means)  # type: ignore[union-attr]


#: Equipment to schedule: device type -> (metric that drives it, rule, share of peak).
SCHEDULES = {
    "water_pump": ("flow_m3h", "demand", 0.5),
    "lighting": ("lux", "darkness", 50.0),
}


def run_schedule(
    *, session: Session, estate_id: str, days: int = 7, end_ms: int | None = None
) -> list[RunScheduleOut]:
    """Suggested run hours for the estate's pumps and lighting, from their own history.

    Pumps: run in the hours whose demand (mean flow) is at least half the peak
    hour's, so pressure holds when residents draw water and the pumps rest in
    the trough (谷时). Lighting: on in the hours whose mean ambient light is
    under 50 lx.
    """
    estate = get_estate(session=session, estate_id=estate_id)
    out = []
    for device_type, (metric, rule, level) in SCHEDULES.items():
        devices = session.scalars(
            select(Device).where(Device.estate_id == estate.id, Device.type == device_type)
        ).all()
        if not devices:
            continue
        ids = [d.id for d in devices]
        means = _hourly_means(session, ids, metric, days, end_ms or now_ms(), "mean")
        if np.all(np.isnan(means)):
            continue
        if rule == "demand":
            cut = level * float(np.nanmax(means))
            hours = [h for h in range(24) if not np.isnan(means[h]) and means[h] >= cut]
            reason = f"平均流量不低于峰值的{level:.0%} / mean flow at least {level:.0%} of peak"
        else:
            hours = [h for h in range(24) if not np.isnan(means[h]) and means[h] < level]
            reason = f"环境照度低于{level:g} lx / ambient light under {level:g} lx"
        out.append(
            RunScheduleOut(
                device_type=device_type,
                metric=metric,
                run_hours=hours,
                reason=reason,
                devices=[d.code for d in devices],
            )
        )
    return out
