"""REST routes for alarms under ``/api/v1/alarms``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from wuye.adapters.alarms import service
from wuye.adapters.alarms.models import AcknowledgeIn, Alarm, AlarmOut
from wuye.adapters.devices.types import SEVERITIES
from wuye.platform.deps import Context, UnitOfWorkRoute, scoped
from wuye.platform.fastpath import short_read
from wuye.platform.listing import ListParams, Page, list_params, paginate

router = APIRouter(prefix="/api/v1", tags=["alarms 告警"], route_class=UnitOfWorkRoute)

ALARM_SORT = frozenset({"created_at", "raised_ts_ms", "severity", "state"})


@router.get("/alarms", response_model=Page[AlarmOut], summary="告警列表 / List alarms")
@short_read
def list_alarms(
    ctx: Context = scoped("telemetry:read"),
    params: ListParams = Depends(list_params),
    device_id: str | None = Query(None),
    estate_id: str | None = Query(None),
    state: str | None = Query(None, pattern="^(raised|acknowledged|cleared|active)$"),
    severity: str | None = Query(None, pattern=f"^({'|'.join(SEVERITIES)})$"),
) -> dict:
    stmt = service.alarms_query(
        device_id=device_id, estate_id=estate_id, state=state, severity=severity
    )
    return paginate(
        ctx.session, stmt, model=Alarm, params=params, sortable=ALARM_SORT, schema=AlarmOut
    )


@router.get("/alarms/{alarm_id}", response_model=AlarmOut, summary="告警详情 / Get an alarm")
@short_read
def get_alarm(alarm_id: str, ctx: Context = scoped("telemetry:read")) -> Alarm:
    return service.get_alarm(session=ctx.session, alarm_id=alarm_id)


@router.post(
    "/alarms/{alarm_id}/acknowledge", response_model=AlarmOut, summary="确认告警 / Acknowledge"
)
def acknowledge(alarm_id: str, ack: AcknowledgeIn, ctx: Context = scoped("devices:write")) -> Alarm:
    return service.acknowledge(
        session=ctx.session, alarm_id=alarm_id, ack=ack, actor=ctx.principal.subject
    )
