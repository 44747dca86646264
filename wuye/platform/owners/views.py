"""REST routes for owners and unit ownership under ``/api/v1``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response, status

from wuye.platform.deps import Context, UnitOfWorkRoute, scoped
from wuye.platform.fastpath import short_read
from wuye.platform.listing import ListParams, Page, list_params, paginate
from wuye.platform.owners import service
from wuye.platform.owners.models import (
    Owner,
    OwnerIn,
    OwnerOut,
    OwnerPatch,
    OwnershipIn,
    OwnershipOut,
    Phone,
)
from wuye.platform.pii import PersonalDataCipher

router = APIRouter(prefix="/api/v1", tags=["owners 业主"], route_class=UnitOfWorkRoute)

OWNER_SORT = frozenset({"name", "created_at"})


async def _cipher(request: Request) -> PersonalDataCipher:
    return request.app.state.pii


def _present_one(owner: Owner, ctx: Context, cipher: PersonalDataCipher) -> OwnerOut:
    reveal = ctx.principal.has("owners:pii")
    return service.present([owner], session=ctx.session, cipher=cipher, reveal=reveal)[0]


@router.get("/owners", response_model=Page[OwnerOut], summary="业主列表 / List owners")
@short_read
def list_owners(
    ctx: Context = scoped("estates:read"),
    cipher: PersonalDataCipher = Depends(_cipher),
    params: ListParams = Depends(list_params),
    q: str | None = Query(None, max_length=100, description="姓名包含 / name contains"),
    phone: Phone | None = Query(None, description="按手机号精确查找 / exact phone"),
    unit_id: str | None = Query(None),
    estate_id: str | None = Query(None),
) -> dict:
    stmt = service.owners_query(
        q=q,
        unit_id=unit_id,
        estate_id=estate_id,
        phone_index=cipher.index(phone, field="phone") if phone else None,
    )
    reveal = ctx.principal.has("owners:pii")
    return paginate(
        ctx.session,
        stmt,
        model=Owner,
        params=params,
        sortable=OWNER_SORT,
        present=lambda rows: service.present(
            list(rows), session=ctx.session, cipher=cipher, reveal=reveal
        ),
    )


@router.post(
    "/owners",
    response_model=OwnerOut,
    status_code=status.HTTP_201_CREATED,
    summary="登记业主 / Register an owner",
)
def create_owner(
    owner_in: OwnerIn,
    ctx: Context = scoped("estates:write"),
    cipher: PersonalDataCipher = Depends(_cipher),
) -> OwnerOut:
    owner = service.create_owner(session=ctx.session, cipher=cipher, owner_in=owner_in)
    return _present_one(owner, ctx, cipher)


@router.get("/owners/{owner_id}", response_model=OwnerOut, summary="业主详情 / Get an owner")
@short_read
def get_owner(
    owner_id: str,
    ctx: Context = scoped("estates:read"),
    cipher: PersonalDataCipher = Depends(_cipher),
) -> OwnerOut:
    return _present_one(service.get_owner(session=ctx.session, owner_id=owner_id), ctx, cipher)


@router.patch("/owners/{owner_id}", response_model=OwnerOut, summary="修改业主 / Update")
def update_owner(
    owner_id: str,
    patch: OwnerPatch,
    ctx: Context = scoped("estates:write"),
    cipher: PersonalDataCipher = Depends(_cipher),
) -> OwnerOut:
    owner = service.update_owner(session=ctx.session, cipher=cipher, owner_id=owner_id, patch=patch)
    return _present_one(owner, ctx, cipher)


@router.delete(
    "/owners/{owner_id}", status_code=status.HTTP_204_NO_CONTENT, summary="删除业主 / Delete"
)
def delete_owner(owner_id: str, ctx: Context = scoped("estates:write")) -> Response:
    service.delete_owner(session=ctx.session, owner_id=owner_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/units/{unit_id}/owners",
    response_model=OwnershipOut,
    status_code=status.HTTP_201_CREATED,
    summary="登记产权人 / Add an owner to a unit",
)
def add_ownership(
    unit_id: str, ownership_in: OwnershipIn, ctx: Context = scoped("estates:write")
) -> object:
    return service.add_ownership(session=ctx.session, unit_id=unit_id, ownership_in=ownership_in)


@router.delete(
    "/units/{unit_id}/owners/{owner_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="移除产权人 / Remove an owner from a unit",
)
def remove_ownership(
    unit_id: str, owner_id: str, ctx: Context = scoped("estates:write")
) -> Response:
    service.remove_ownership(session=ctx.session, unit_id=unit_id, owner_id=owner_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
