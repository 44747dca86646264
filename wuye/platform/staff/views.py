"""REST routes for staff under ``/api/v1``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response, status

from wuye.platform.deps import Context, UnitOfWorkRoute, scoped
from wuye.platform.fastpath import short_read
from wuye.platform.listing import ListParams, Page, list_params, paginate
from wuye.platform.staff import service
from wuye.platform.staff.models import Staff, StaffIn, StaffOut, StaffPatch

router = APIRouter(prefix="/api/v1", tags=["staff 员工"], route_class=UnitOfWorkRoute)

STAFF_SORT = frozenset({"name", "created_at"})


@router.get("/staff", response_model=Page[StaffOut], summary="员工列表 / List staff")
@short_read
def list_staff(
    ctx: Context = scoped("estates:read"),
    params: ListParams = Depends(list_params),
    estate_id: str | None = Query(None),
    on_duty: bool | None = Query(None),
    q: str | None = Query(None, max_length=100),
) -> dict:
    stmt = service.staff_query(estate_id=estate_id, on_duty=on_duty, q=q)
    return paginate(
        ctx.session, stmt, model=Staff, params=params, sortable=STAFF_SORT, schema=StaffOut
    )


@router.post(
    "/staff",
    response_model=StaffOut,
    status_code=status.HTTP_201_CREATED,
    summary="新增员工 / Add staff",
)
def create_staff(staff_in: StaffIn, ctx: Context = scoped("estates:write")) -> Staff:
    return service.create_staff(session=ctx.session, staff_in=staff_in)


@router.get("/staff/{staff_id}", response_model=StaffOut, summary="员工详情 / Get staff")
@short_read
def get_staff(staff_id: str, ctx: Context = scoped("estates:read")) -> Staff:
    return service.get_staff(session=ctx.session, staff_id=staff_id)


@router.patch("/staff/{staff_id}", response_model=StaffOut, summary="修改员工 / Update")
def update_staff(staff_id: str, patch: StaffPatch, ctx: Context = scoped("estates:write")) -> Staff:
    return service.update_staff(session=ctx.session, staff_id=staff_id, patch=patch)


@router.delete(
    "/staff/{staff_id}", status_code=status.HTTP_204_NO_CONTENT, summary="删除员工 / Delete"
)
def delete_staff(staff_id: str, ctx: Context = scoped("estates:write")) -> Response:
    service.delete_staff(session=ctx.session, staff_id=staff_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
