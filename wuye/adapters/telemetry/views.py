"""REST routes for telemetry: latest values, history, thresholds, load profiles, run schedules."""

from __future__ import annotations

from fastapi import APIRouter, Query

from wuye.adapters import thresholds as learning
from wuye.adapters.devices.service import get_device
from wuye.adapters.devices.types import DEVICE_TYPES
from wuye.adapters.telemetry import service
from wuye.adapters.telemetry.models import (
    HistoryOut,
    HourlyProfileOut,
    LatestOut,
    LearnOut,
    RunScheduleOut,
    ThresholdOut,
)
from wuye.platform.deps import Context, UnitOfWorkRoute, scoped

router = APIRouter(prefix="/api/v1", tags=["telemetry 运行数据"], route_class=UnitOfWorkRoute)

Metric = Query(None, max_length=32, description="指标，默认为该类设备的第一个 / default: first")
Days = Query(7, ge=1, le=90, description="统计天数 / days of history")


def _metric_or_first(ctx: Context, device_id: str, metric: str | None) -> str:
    if metric:
        return metric
    device = get_device(session=ctx.session, device_id=device_id)
    return DEVICE_TYPES[device.type].metrics[0].name


@router.get(
    "/devices/{device_id}/telemetry/latest",
    response_model=list[LatestOut],
    summary="最新读数 / Latest value per metric",
)
def latest(device_id: str, ctx: Context = scoped("telemetry:read")) -> list[LatestOut]:
    return service.latest(session=ctx.session, device_id=device_id)


@router.get(
    "/devices/{device_id}/telemetry/history",
    response_model=HistoryOut,
    summary="历史数据（降采样）/ Downsampled history",
)
def history(
    device_id: str,
    ctx: Context = scoped("telemetry:read"),
    metric: str | None = Metric,
    start_ms: int | None = Query(None, ge=0, description="起始时间 ms / start, epoch ms"),
    end_ms: int | None = Query(None, ge=0, description="结束时间 ms / end, epoch ms"),
    bucket_s: int = Query(300, ge=1, le=86_400 * 31, description="桶宽秒 / bucket seconds"),
) -> HistoryOut:
    return service.history(
        session=ctx.session,
        device_id=device_id,
        metric=_metric_or_first(ctx, device_id, metric),
        start_ms=start_ms,
        end_ms=end_ms,
        bucket_s=bucket_s,
    )


@router.get(
    "/devices/{device_id}/thresholds",
    response_model=list[ThresholdOut],
    summary="告警阈值（静态与学习）/ Static and learned thresholds",
)
def thresholds(device_id: str, ctx: Context = scoped("telemetry:read")) -> list[ThresholdOut]:
    return service.thresholds(session=ctx.session, device_id=device_id)


@router.post(
    "/devices/{device_id}/thresholds/learn",
    response_model=LearnOut,
    summary="按历史重新学习阈值 / Relearn thresholds from history",
)
def learn(
    device_id: str,
    ctx: Context = scoped("devices:write"),
    window_days: int = Query(14, ge=1, le=90),
) -> LearnOut:
    device = get_device(session=ctx.session, device_id=device_id)
    bands = learning.learn_device(ctx.session, device, window_days=window_days)
    metrics = sorted(
        {
            t.metric
            for t in service.thresholds(session=ctx.session, device_id=device_id)
            if t.kind == "learned"
        }
    )
    return LearnOut(device_id=device.id, bands=bands, metrics=metrics)


@router.get(
    "/devices/{device_id}/profile",
    response_model=HourlyProfileOut,
    summary="设备峰谷分析 / Hourly profile with peaks and troughs",
)
def device_profile(
    device_id: str,
    ctx: Context = scoped("telemetry:read"),
    metric: str | None = Metric,
    days: int = Days,
) -> HourlyProfileOut:
    return service.device_profile(
        session=ctx.session,
        device_id=device_id,
        metric=_metric_or_first(ctx, device_id, metric),
        days=days,
    )


@router.get(
    "/estates/{estate_id}/load-profile",
    response_model=HourlyProfileOut,
    summary="小区负荷曲线与峰谷 / Estate hourly load profile",
)
def estate_profile(
    estate_id: str,
    ctx: Context = scoped("telemetry:read"),
    device_type: str = Query("power_meter", pattern=f"^({'|'.join(DEVICE_TYPES)})$"),
    metric: str | None = Metric,
    days: int = Days,
) -> HourlyProfileOut:
    metric = metric or DEVICE_TYPES[device_type].metrics[0].name
    return service.estate_profile(
        session=ctx.session,
        estate_id=estate_id,
        metric=metric,
        device_type=device_type,
        days=days,
    )


@router.get(
    "/estates/{estate_id}/run-schedule",
    response_model=list[RunScheduleOut],
    summary="水泵与照明建议运行时段 / Suggested run hours for pumps and lighting",
)
def run_schedule(
    estate_id: str, ctx: Context = scoped("telemetry:read"), days: int = Days
) -> list[RunScheduleOut]:
    return service.run_schedule(session=ctx.session, estate_id=estate_id, days=days)
