"""REST routes for devices under ``/api/v1/devices``."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response, status

from wuye.adapters.devices import service
from wuye.adapters.devices.keys import DeviceKeyring, keyring_for_secret
from wuye.adapters.devices.models import (
    Device,
    DeviceIn,
    DeviceOut,
    DevicePatch,
    ProvisionIn,
    ProvisionOut,
)
from wuye.platform.deps import Context, UnitOfWorkRoute, scoped
from wuye.platform.fastpath import short_read
from wuye.platform.listing import ListParams, Page, list_params, paginate

router = APIRouter(prefix="/api/v1", tags=["devices 设备"], route_class=UnitOfWorkRoute)

DEVICE_SORT = frozenset({"code", "type", "name", "created_at", "last_seen_ms"})


def device_keyring(request: Request) -> DeviceKeyring:
    return keyring_for_secret(request.app.state.settings.secret_bytes())


@router.get("/devices", response_model=Page[DeviceOut], summary="设备列表 / List devices")
@short_read
def list_devices(
    ctx: Context = scoped("devices:read"),
    params: ListParams = Depends(list_params),
    estate_id: str | None = Query(None),
    type: str | None = Query(None, description="设备类型 / device type"),  # noqa: A002
    status: str | None = Query(None, pattern="^(active|disabled)$"),
    q: str | None = Query(None, max_length=64, description="编码包含 / code contains"),
) -> dict:
    stmt = service.devices_query(estate_id=estate_id, type=type, status=status, q=q)
    return paginate(
        ctx.session, stmt, model=Device, params=params, sortable=DEVICE_SORT, schema=DeviceOut
    )


@router.post(
    "/devices",
    response_model=DeviceOut,
    status_code=status.HTTP_201_CREATED,
    summary="登记设备 / Register a device",
)
def create_device(
    device_in: DeviceIn,
    ctx: Context = scoped("devices:write"),
    keyring: DeviceKeyring = Depends(device_keyring),
) -> Device:
    return service.create_device(session=ctx.session, keyring=keyring, device_in=device_in)


@router.get("/devices/{device_id}", response_model=DeviceOut, summary="设备详情 / Get a device")
@short_read
def get_device(device_id: str, ctx: Context = scoped("devices:read")) -> Device:
    return service.get_device(session=ctx.session, device_id=device_id)


@router.patch("/devices/{device_id}", response_model=DeviceOut, summary="修改设备 / Update")
def update_device(
    device_id: str,
    patch: DevicePatch,
    ctx: Context = scoped("devices:write"),
    keyring: DeviceKeyring = Depends(device_keyring),
) -> Device:
    return service.update_device(
        session=ctx.session, keyring=keyring, device_id=device_id, patch=patch
    )


@router.delete(
    "/devices/{device_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="删除设备 / Delete a device",
)
def delete_device(device_id: str, ctx: Context = scoped("devices:write")) -> Response:
    service.delete_device(session=ctx.session, device_id=device_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/devices/{device_id}/provision",
    response_model=ProvisionOut,
    summary="下发设备密钥（仅显示一次）/ Provision keys (shown once)",
)
def provision_device(
    device_id: str,
    provision_in: ProvisionIn,
    response: Response,
    ctx: Context = scoped("devices:write"),
    keyring: DeviceKeyring = Depends(device_keyring),
) -> ProvisionOut:
    response.headers["Cache-Control"] = "no-store"
    return service.provision_device(
        session=ctx.session, keyring=keyring, device_id=device_id, provision_in=provision_in
    )
