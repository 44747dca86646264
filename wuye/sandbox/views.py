"""The sandbox's HTTP surface: reset and the request log for sandbox tokens, the host's
review of promotion requests, the mock platforms, and :func:`install`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, status
from starlette.concurrency import run_in_threadpool

from wuye.adapters.devices.keys import keyring_for_secret
from wuye.federation.views import host_admin
from wuye.ledger.votes.models import ElectionOut
from wuye.platform.deps import Context, UnitOfWorkRoute, scoped
from wuye.platform.listing import ListParams, Page, list_params, paginate
from wuye.platform.security import Principal
from wuye.sandbox import service
from wuye.sandbox.models import (
    PromotionReviewIn,
    RequestLog,
    RequestLogOut,
    ResetOut,
    SandboxAppOut,
    SimulatedBallotIn,
    SimulatedCredentialOut,
)

router = APIRouter(
    prefix="/api/v1/sandbox", tags=["sandbox 开发者沙箱"], route_class=UnitOfWorkRoute
)
admin = APIRouter(
    prefix="/api/v1/admin/sandbox", tags=["admin 平台管理"], route_class=UnitOfWorkRoute
)

LOG_SORT = frozenset({"created_at", "status", "latency_ms"})


@router.post(
    "/reset",
    response_model=ResetOut,
    summary="重置沙箱到初始数据 / Reset the caller's sandbox to its seed state",
)
async def reset_sandbox(request: Request, ctx: Context = scoped("estates:write")) -> ResetOut:
    from wuye.sandbox.chain import ledgers

    principal: Principal = ctx.principal
    app = request.app
    counts = await run_in_threadpool(
        lambda: service.reset(
            chain=ledgers(app.state.settings, app.state),
            database=app.state.db,
            cipher=app.state.pii,
            keyring=keyring_for_secret(app.state.settings.secret_bytes()),
            tenant_id=principal.tenant_id,
        )
    )
    return ResetOut(tenant_id=principal.tenant_id, counts=counts)


@router.get(
    "/requests",
    response_model=Page[RequestLogOut],
    summary="请求日志 / The caller's request log",
)
def list_requests(
    ctx: Context = scoped("estates:read"),
    params: ListParams = Depends(list_params),
    status_code: int | None = Query(None, alias="status", ge=100, le=599),
) -> dict:
    from sqlalchemy import select

    stmt = select(RequestLog)
    if status_code is not None:
        stmt = stmt.where(RequestLog.status == status_code)
    return paginate(
        ctx.session, stmt, model=RequestLog, params=params, sortable=LOG_SORT, schema=RequestLogOut
    )


@router.get(
    "/elections/{election_id}/credentials",
    response_model=list[SimulatedCredentialOut],
    summary="模拟业主的投票凭证 / The synthetic owners' voting credentials (sandbox only)",
)
def simulated_credentials(
    election_id: str, request: Request, ctx: Context = scoped("votes:cast")
) -> list[SimulatedCredentialOut]:
    from wuye.sandbox import votes

    return votes.credentials(
        session=ctx.session,
        secret=request.app.state.settings.secret_bytes(),
        principal=ctx.principal,
        election_id=election_id,
    )


@router.post(
    "/elections/{election_id}/simulated-ballots",
    status_code=status.HTTP_201_CREATED,
    summary="以模拟业主身份投票 / Cast as a synthetic owner's device would (sandbox only)",
)
def simulated_ballot(
    election_id: str,
    ballot_in: SimulatedBallotIn,
    request: Request,
    ctx: Context = scoped("votes:cast"),
) -> dict[str, Any]:
    import json

    from wuye.ledger.votes.views import ledger_for
    from wuye.sandbox import votes

    votes.sandbox_election(ctx.session, ctx.principal, election_id)  # 404, 403 first
    row = votes.cast_as_owner(
        session=ctx.session,
        secret=request.app.state.settings.secret_bytes(),
        principal=ctx.principal,
        ledger=ledger_for(request, ctx),
        election_id=election_id,
        unit_id=ballot_in.unit_id,
        choice=ballot_in.choice,
    )
    return {"id": row.id, "tracker": row.tracker, "receipt": json.loads(row.receipt)}


@router.post(
    "/elections/{election_id}/simulated-decryption",
    response_model=ElectionOut,
    summary="模拟计票监督人解密 / The simulated trustees decrypt the closed vote (sandbox only)",
)
def simulated_decryption(
    election_id: str, request: Request, ctx: Context = scoped("votes:manage")
) -> object:
    from wuye.ledger.votes.views import ledger_for
    from wuye.sandbox import votes

    votes.sandbox_election(ctx.session, ctx.principal, election_id)  # 404, 403 first
    return votes.decrypt_as_trustees(
        session=ctx.session,
        secret=request.app.state.settings.secret_bytes(),
        principal=ctx.principal,
        ledger=ledger_for(request, ctx),
        election_id=election_id,
    )


@admin.get("/apps", response_model=list[SandboxAppOut], summary="开发者应用 / Developer apps")
def list_apps(ctx: Context = Depends(host_admin)) -> list[SandboxAppOut]:
    return [
        SandboxAppOut.model_validate(a) for a in service.pending_promotions(session=ctx.session)
    ]


@admin.post(
    "/apps/{app_id}/review",
    response_model=SandboxAppOut,
    status_code=status.HTTP_200_OK,
    summary="审核上线申请 / Review a request for production credentials",
)
def review(
    app_id: str,
    body: PromotionReviewIn,
    request: Request,
    ctx: Context = Depends(host_admin),
) -> SandboxAppOut:
    app = service.review_promotion(
        session=ctx.session,
        app_id=app_id,
        reviewer=ctx.principal.subject,
        approve=body.approve,
        reason=body.reason,
        settings=request.app.state.settings,
    )
    return SandboxAppOut.model_validate(app)


def install(app: FastAPI) -> None:
    """Add the sandbox to ``app``: API routes, rate limits and request log, mock
    platforms under ``/sandbox/mocks/<name>``, and the developer portal."""
    from wuye.sandbox.limits import AppLimits, RateLimitMiddleware
    from wuye.sandbox.mocks import PLATFORMS
    from wuye.sandbox.mocks.store import DatabaseStore
    from wuye.sandbox.portal import install as install_portal

    app.include_router(router)
    app.include_router(admin)
    app.state.app_limits = AppLimits(app.state.db)
    app.add_middleware(RateLimitMiddleware)
    app.state.mocks = {}
    for name, platform in PLATFORMS.items():
        mock = platform(DatabaseStore(app.state.db, name))
        app.state.mocks[name] = mock
        app.mount(f"/sandbox/mocks/{name}", mock.app(), name=f"mock-{name}")
    install_portal(app)
