"""REST routes for work orders under ``/api/v1/workorders``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, status

from wuye.platform.deps import Context, UnitOfWorkRoute, scoped
from wuye.platform.fastpath import short_read
from wuye.platform.listing import ListParams, Page, list_params, paginate
from wuye.platform.workorders import service
from wuye.platform.workorders.models import (
    STATUSES,
    DispatchIn,
    TransitionIn,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderEventOut,
    WorkOrderIn,
    WorkOrderOut,
    WorkOrderPatch,
)

router = APIRouter(prefix="/api/v1", tags=["work orders 工单"], route_class=UnitOfWorkRoute)

ORDER_SORT = frozenset({"created_at", "priority", "status", "respond_due_at", "resolve_due_at"})
EVENT_SORT = frozenset({"seq", "at"})


@router.get("/workorders", response_model=Page[WorkOrderOut], summary="工单列表 / List")
@short_read
def list_work_orders(
    ctx: Context = scoped("workorders:read"),
    params: ListParams = Depends(list_params),
    estate_id: str | None = Query(None),
    status: str | None = Query(None, pattern=f"^({'|'.join(STATUSES)})$"),
    assignee_id: str | None = Query(None),
    device_id: str | None = Query(None),
) -> dict:
    stmt = service.work_orders_query(
        estate_id=estate_id, status=status, assignee_id=assignee_id, device_id=device_id
    )
    return paginate(
        ctx.session,
        stmt,
        model=WorkOrder,
        params=params,
        sortable=ORDER_SORT,
        schema=WorkOrderOut,
    )


@router.post(
    "/workorders",
    response_model=WorkOrderOut,
    status_code=status.HTTP_201_CREATED,
    summary="新建工单 / Open a work order",
)
def create_work_order(
    order_in: WorkOrderIn, ctx: Context = scoped("workorders:write")
) -> WorkOrder:
    return service.create_work_order(
        session=ctx.session, order_in=order_in, actor=ctx.principal.subject
    )


@router.get("/workorders/{work_order_id}", response_model=WorkOrderOut, summary="工单详情 / Get")
@short_read
def get_work_order(work_order_id: str, ctx: Context = scoped("workorders:read")) -> WorkOrder:
    return service.get_work_order(session=ctx.session, work_order_id=work_order_id)


@router.patch("/workorders/{work_order_id}", response_model=WorkOrderOut, summary="修改 / Update")
def update_work_order(
    work_order_id: str, patch: WorkOrderPatch, ctx: Context = scoped("workorders:write")
) -> WorkOrder:
    return service.update_work_order(
        session=ctx.session,
        work_order_id=work_order_id,
        patch=patch,
        actor=ctx.principal.subject,
    )


@router.post(
    "/workorders/{work_order_id}/dispatch",
    response_model=WorkOrderOut,
    summary="派单 / Dispatch to the nearest available technician, or to one named",
)
def dispatch_work_order(
    work_order_id: str, dispatch_in: DispatchIn, ctx: Context = scoped("workorders:write")
) -> WorkOrder:
    return service.dispatch_work_order(
        session=ctx.session,
        work_order_id=work_order_id,
        staff_id=dispatch_in.staff_id,
        actor=ctx.principal.subject,
    )


@router.post(
    "/workorders/{work_order_id}/transition",
    response_model=WorkOrderOut,
    summary="变更状态 / Start, resolve, close or cancel",
)
def transition_work_order(
    work_order_id: str, transition_in: TransitionIn, ctx: Context = scoped("workorders:write")
) -> WorkOrder:
    return service.transition(
        session=ctx.session,
        work_order_id=work_order_id,
        transition_in=transition_in,
        actor=ctx.principal.subject,
    )


@router.get(
    "/workorders/{work_order_id}/events",
    response_model=Page[WorkOrderEventOut],
    summary="工单历史 / History",
)
def list_events(
    work_order_id: str,
    ctx: Context = scoped("workorders:read"),
    params: ListParams = Depends(list_params),
) -> dict:
    service.get_work_order(session=ctx.session, work_order_id=work_order_id)
    stmt = service.events_query(work_order_id=work_order_id)
    return paginate(
        ctx.session,
        stmt,
        model=WorkOrderEvent,
        params=params,
        sortable=EVENT_SORT,
        schema=WorkOrderEventOut,
    )
