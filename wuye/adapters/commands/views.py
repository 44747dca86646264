"""REST routes for device commands: send one, follow its lifecycle."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, status

from wuye.adapters.commands import service
from wuye.adapters.commands.models import COMMAND_STATUSES, CommandIn, CommandOut, DeviceCommand
from wuye.platform.deps import Context, UnitOfWorkRoute, scoped
from wuye.platform.listing import ListParams, Page, list_params, paginate

router = APIRouter(prefix="/api/v1", tags=["commands 设备指令"], route_class=UnitOfWorkRoute)

COMMAND_SORT = frozenset({"created_at", "status", "name"})


@router.post(
    "/devices/{device_id}/commands",
    response_model=CommandOut,
    status_code=status.HTTP_201_CREATED,
    summary="下发设备指令 / Send a command to a device",
    description=(
        "指令排队后由指令中继加密下发，设备验证、执行并返回受保护的应答。"
        " / The command is queued; the relay sends it protected (SM4-GCM, the "
        "platform's own sequence numbers), and the device's verified answer moves it "
        "to acknowledged or failed, or it expires after ttl_s."
    ),
)
def send_command(
    device_id: str, command_in: CommandIn, ctx: Context = scoped("devices:write")
) -> DeviceCommand:
    return service.create_command(
        session=ctx.session,
        device_id=device_id,
        command_in=command_in,
        actor=ctx.principal.subject,
    )


@router.get("/commands", response_model=Page[CommandOut], summary="指令列表 / List commands")
def list_commands(
    ctx: Context = scoped("devices:read"),
    params: ListParams = Depends(list_params),
    device_id: str | None = Query(None),
    status: str | None = Query(None, pattern=f"^({'|'.join(COMMAND_STATUSES)})$"),
) -> dict:
    stmt = service.commands_query(device_id=device_id, status=status)
    return paginate(
        ctx.session,
        stmt,
        model=DeviceCommand,
        params=params,
        sortable=COMMAND_SORT,
        schema=CommandOut,
    )


@router.get("/commands/{command_id}", response_model=CommandOut, summary="指令详情 / Get a command")
def get_command(command_id: str, ctx: Context = scoped("devices:read")) -> DeviceCommand:
    return service.get_command(session=ctx.session, command_id=command_id)
