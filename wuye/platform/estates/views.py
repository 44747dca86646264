"""REST routes for estates, buildings and units under ``/api/v1``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response, status

from wuye.platform.deps import Context, UnitOfWorkRoute, scoped
from wuye.platform.estates import service
from wuye.platform.estates.models import (
    Building,
    BuildingIn,
    BuildingOut,
    BuildingPatch,
    Estate,
    EstateIn,
    EstateOut,
    EstatePatch,
    Unit,
    UnitIn,
    UnitOut,
    UnitPatch,
)
from wuye.platform.fastpath import short_read
from wuye.platform.listing import ListParams, Page, list_params, page_response, paginate

router = APIRouter(prefix="/api/v1", tags=["estates 小区"], route_class=UnitOfWorkRoute)

ESTATE_SORT = frozenset({"name", "code", "city", "created_at"})
BUILDING_SORT = frozenset({"name", "floors", "created_at"})
UNIT_SORT = frozenset({"number", "floor", "floor_area_m2", "created_at"})


@router.get("/estates", response_model=Page[EstateOut], summary="小区列表 / List estates")
@short_read
def list_estates(
    ctx: Context = scoped("estates:read"),
    params: ListParams = Depends(list_params),
    city: str | None = Query(None, description="按城市过滤 / filter by city"),
    q: str | None = Query(None, max_length=100, description="名称包含 / name contains"),
) -> dict:
    stmt = service.estates_query(city=city, q=q)
    return paginate(
        ctx.session, stmt, model=Estate, params=params, sortable=ESTATE_SORT, schema=EstateOut
    )


@router.post(
    "/estates",
    response_model=EstateOut,
    status_code=status.HTTP_201_CREATED,
    summary="新建小区 / Create an estate",
)
def create_estate(estate_in: EstateIn, ctx: Context = scoped("estates:write")) -> Estate:
    return service.create_estate(session=ctx.session, estate_in=estate_in)


@router.get("/estates/{estate_id}", response_model=EstateOut, summary="小区详情 / Get an estate")
@short_read
def get_estate(estate_id: str, ctx: Context = scoped("estates:read")) -> Estate:
    return service.get_estate(session=ctx.session, estate_id=estate_id)


@router.patch("/estates/{estate_id}", response_model=EstateOut, summary="修改小区 / Update")
def update_estate(
    estate_id: str, patch: EstatePatch, ctx: Context = scoped("estates:write")
) -> Estate:
    return service.update_estate(session=ctx.session, estate_id=estate_id, patch=patch)


@router.delete(
    "/estates/{estate_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="删除小区 / Delete an estate",
)
def delete_estate(estate_id: str, ctx: Context = scoped("estates:write")) -> Response:
    service.delete_estate(session=ctx.session, estate_id=estate_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/estates/{estate_id}/buildings",
    response_model=Page[BuildingOut],
    summary="楼栋列表 / List an estate's buildings",
)
@short_read
def list_buildings(
    estate_id: str, ctx: Context = scoped("estates:read"), params: ListParams = Depends(list_params)
) -> dict:
    service.get_estate(session=ctx.session, estate_id=estate_id)
    stmt = service.buildings_query(estate_id=estate_id)
    return paginate(
        ctx.session, stmt, model=Building, params=params, sortable=BUILDING_SORT,
        schema=BuildingOut,
    )  # fmt: skip


@router.post(
    "/estates/{estate_id}/buildings",
    response_model=BuildingOut,
    status_code=status.HTTP_201_CREATED,
    summary="新建楼栋 / Add a building",
)
def create_building(
    estate_id: str, building_in: BuildingIn, ctx: Context = scoped("estates:write")
) -> Building:
    return service.create_building(
        session=ctx.session, estate_id=estate_id, building_in=building_in
    )


@router.get(
    "/buildings/{building_id}", response_model=BuildingOut, summary="楼栋详情 / Get a building"
)
def get_building(building_id: str, ctx: Context = scoped("estates:read")) -> Building:
    return service.get_building(session=ctx.session, building_id=building_id)


@router.patch("/buildings/{building_id}", response_model=BuildingOut, summary="修改楼栋 / Update")
def update_building(
    building_id: str, patch: BuildingPatch, ctx: Context = scoped("estates:write")
) -> Building:
    return service.update_building(session=ctx.session, building_id=building_id, patch=patch)


@router.delete(
    "/buildings/{building_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="删除楼栋 / Delete a building",
)
def delete_building(building_id: str, ctx: Context = scoped("estates:write")) -> Response:
    service.delete_building(session=ctx.session, building_id=building_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/buildings/{building_id}/units",
    response_model=UnitOut,
    status_code=status.HTTP_201_CREATED,
    summary="新建房屋 / Add a unit",
)
def create_unit(building_id: str, unit_in: UnitIn, ctx: Context = scoped("estates:write")) -> Unit:
    return service.create_unit(session=ctx.session, building_id=building_id, unit_in=unit_in)


@router.get("/units", response_model=Page[UnitOut], summary="房屋列表 / List units")
@short_read
def list_units(
    ctx: Context = scoped("estates:read"),
    params: ListParams = Depends(list_params),
    estate_id: str | None = Query(None),
    building_id: str | None = Query(None),
    usage: str | None = Query(None),
) -> Response:
    stmt, values = service.units_query(estate_id=estate_id, building_id=building_id, usage=usage)
    return page_response(
        ctx.session, stmt, model=Unit, params=params, sortable=UNIT_SORT, schema=UnitOut,
        values=values,
    )  # fmt: skip


@router.get("/units/{unit_id}", response_model=UnitOut, summary="房屋详情 / Get a unit")
@short_read
def get_unit(unit_id: str, ctx: Context = scoped("estates:read")) -> Unit:
    return service.get_unit(session=ctx.session, unit_id=unit_id)


@router.patch("/units/{unit_id}", response_model=UnitOut, summary="修改房屋 / Update a unit")
def update_unit(unit_id: str, patch: UnitPatch, ctx: Context = scoped("estates:write")) -> Unit:
    return service.update_unit(session=ctx.session, unit_id=unit_id, patch=patch)


@router.delete(
    "/units/{unit_id}", status_code=status.HTTP_204_NO_CONTENT, summary="删除房屋 / Delete"
)
def delete_unit(unit_id: str, ctx: Context = scoped("estates:write")) -> Response:
    service.delete_unit(session=ctx.session, unit_id=unit_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
