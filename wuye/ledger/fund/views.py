"""REST routes for the maintenance fund under ``/api/v1/fund``: city rates, unit accounts,
deposits, interest, common parts, repair projects and their votes and payments,
reconciliation and the monthly disclosure."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from sqlalchemy import select

from wuye.ledger.clients import fund_client
from wuye.ledger.fund import disclosure, service
from wuye.ledger.fund.chain import FundLedger
from wuye.ledger.fund.models import (
    AccountOut,
    CityRateIn,
    CityRateOut,
    CommonPartIn,
    CommonPartOut,
    CommonPartRecord,
    EmergencyIn,
    EntryKind,
    EntryOut,
    FundAccount,
    FundEntry,
    FundProject,
    InterestIn,
    PaymentIn,
    PeriodIn,
    ProjectIn,
    ProjectOut,
    ShareOut,
    VoteIn,
)
from wuye.ledger.fund.reconcile import reconcile
from wuye.platform.deps import Context, UnitOfWorkRoute, scoped
from wuye.platform.estates.service import get_estate
from wuye.platform.listing import ListParams, Page, list_params, paginate
from wuye.platform.problems import Problem

router = APIRouter(prefix="/api/v1/fund", tags=["fund 专项维修资金"], route_class=UnitOfWorkRoute)

ENTRY_SORT = frozenset({"period", "created_at", "block_number", "amount_fen"})
ACCOUNT_SORT = frozenset({"balance_fen", "unit_id", "created_at"})
PROJECT_SORT = frozenset({"created_at", "title", "budget_fen"})
COMMON_SORT = frozenset({"period", "created_at", "amount_fen"})


def ledger_for(request: Request, ctx: Context) -> FundLedger:
    """The fund client of the caller's site: the sandbox ledger for a sandbox tenant."""
    return fund_client(request.app.state, sandbox=ctx.principal.sandbox)


# --- city rates -------------------------------------------------------------


@router.get("/city-rates", response_model=list[CityRateOut], summary="各城市交存标准 / City rates")
def list_city_rates(ctx: Context = scoped("funds:read")) -> list[dict[str, Any]]:
    return [r.__dict__ for r in service.list_city_rates(session=ctx.session)]


@router.put("/city-rates", response_model=CityRateOut, summary="设置城市交存标准 / Set a city rate")
def set_city_rate(rate_in: CityRateIn, ctx: Context = scoped("funds:write")) -> dict[str, Any]:
    return service.set_city_rate(session=ctx.session, rate_in=rate_in).__dict__


# --- estates, accounts, flows ----------------------------------------------


@router.get("/estates/{estate_id}", summary="小区维修资金概况 / Estate fund summary")
def estate_summary(estate_id: str, ctx: Context = scoped("funds:read")) -> dict[str, Any]:
    return service.estate_summary(session=ctx.session, estate_id=estate_id)


@router.get(
    "/estates/{estate_id}/monthly", summary="按月收支与结存 / Monthly inflows, outflows, balance"
)
def estate_monthly(estate_id: str, ctx: Context = scoped("funds:read")) -> list[dict[str, Any]]:
    return [p.__dict__ for p in service.monthly(session=ctx.session, estate_id=estate_id)]


@router.get(
    "/estates/{estate_id}/accounts",
    response_model=Page[AccountOut],
    summary="分户账列表 / Unit accounts (an owner sees their own units)",
)
def list_accounts(
    estate_id: str,
    ctx: Context = scoped("funds:read"),
    params: ListParams = Depends(list_params),
) -> dict:
    get_estate(session=ctx.session, estate_id=estate_id)
    stmt = select(FundAccount).where(FundAccount.estate_id == estate_id)
    if ctx.principal.role == "owner":
        from wuye.platform.owners.models import Ownership

        owner_id = ctx.principal.subject.removeprefix("owner:")
        stmt = stmt.where(
            FundAccount.unit_id.in_(select(Ownership.unit_id).where(Ownership.owner_id == owner_id))
        )
    return paginate(
        ctx.session,
        stmt,
        model=FundAccount,
        params=params,
        sortable=ACCOUNT_SORT,
        schema=AccountOut,
    )


@router.get("/units/{unit_id}", summary="本户分户账及明细 / A unit's account and statement")
def unit_account(unit_id: str, ctx: Context = scoped("funds:read")) -> dict[str, Any]:
    service.check_unit_visible(session=ctx.session, principal=ctx.principal, unit_id=unit_id)
    account = service.get_account(session=ctx.session, unit_id=unit_id)
    return {
        "account": AccountOut.model_validate(account).model_dump(),
        "movements": service.movements_of(session=ctx.session, unit_id=unit_id),
    }


@router.get(
    "/estates/{estate_id}/entries",
    response_model=Page[EntryOut],
    summary="资金收支流水 / The estate's fund transactions",
)
def list_entries(
    estate_id: str,
    ctx: Context = scoped("funds:read"),
    params: ListParams = Depends(list_params),
    period: int | None = Query(None, ge=190001, le=999912, description="yyyymm"),
    kind: EntryKind | None = Query(None),
) -> dict:
    get_estate(session=ctx.session, estate_id=estate_id)
    stmt = service.entries_query(estate_id=estate_id, period=period, kind=kind)
    return paginate(
        ctx.session, stmt, model=FundEntry, params=params, sortable=ENTRY_SORT, schema=EntryOut
    )


def _entries(entries: list[FundEntry]) -> list[dict[str, Any]]:
    return [EntryOut.model_validate(e).model_dump(mode="json") for e in entries]


@router.post(
    "/estates/{estate_id}/purchases",
    status_code=status.HTTP_201_CREATED,
    summary="首次交存（开户）/ First deposits at purchase",
)
def open_accounts(
    estate_id: str,
    body: PeriodIn,
    request: Request,
    ctx: Context = scoped("funds:write"),
    unit_id: list[str] | None = Query(None, description="only these units (default: all new)"),
) -> list[dict[str, Any]]:
    get_estate(session=ctx.session, estate_id=estate_id)
    return _entries(
        service.open_accounts(
            session=ctx.session,
            ledger=ledger_for(request, ctx),
            estate_id=estate_id,
            period=body.period,
            unit_ids=unit_id,
        )
    )


@router.post(
    "/estates/{estate_id}/top-ups",
    status_code=status.HTTP_201_CREATED,
    summary="续筹（余额低于阈值的户）/ Top-ups below the city threshold",
)
def top_up(
    estate_id: str, body: PeriodIn, request: Request, ctx: Context = scoped("funds:write")
) -> list[dict[str, Any]]:
    get_estate(session=ctx.session, estate_id=estate_id)
    return _entries(
        service.top_up(
            session=ctx.session,
            ledger=ledger_for(request, ctx),
            estate_id=estate_id,
            period=body.period,
        )
    )


@router.post(
    "/estates/{estate_id}/interest",
    status_code=status.HTTP_201_CREATED,
    summary="增值收益按余额分配 / Allocate interest by balance",
)
def allocate_interest(
    estate_id: str, body: InterestIn, request: Request, ctx: Context = scoped("funds:write")
) -> list[dict[str, Any]]:
    get_estate(session=ctx.session, estate_id=estate_id)
    return _entries(
        service.allocate_interest(
            session=ctx.session,
            ledger=ledger_for(request, ctx),
            estate_id=estate_id,
            period=body.period,
            amount_fen=body.amount_fen,
        )
    )


# --- common parts -------------------------------------------------------------


@router.get(
    "/estates/{estate_id}/common-parts",
    response_model=Page[CommonPartOut],
    summary="共有部分经营收支 / Common-part income and expenses",
)
def list_common_parts(
    estate_id: str,
    ctx: Context = scoped("funds:read"),
    params: ListParams = Depends(list_params),
    period: int | None = Query(None, ge=190001, le=999912),
) -> dict:
    get_estate(session=ctx.session, estate_id=estate_id)
    stmt = select(CommonPartRecord).where(CommonPartRecord.estate_id == estate_id)
    if period is not None:
        stmt = stmt.where(CommonPartRecord.period == period)
    return paginate(
        ctx.session,
        stmt,
        model=CommonPartRecord,
        params=params,
        sortable=COMMON_SORT,
        schema=CommonPartOut,
    )


@router.post(
    "/estates/{estate_id}/common-parts",
    response_model=CommonPartOut,
    status_code=status.HTTP_201_CREATED,
    summary="记录共有部分收支 / Record common-part income or expense",
)
def record_common_part(
    estate_id: str, common_in: CommonPartIn, request: Request, ctx: Context = scoped("funds:write")
) -> object:
    get_estate(session=ctx.session, estate_id=estate_id)
    return service.record_common_part(
        session=ctx.session,
        ledger=ledger_for(request, ctx),
        estate_id=estate_id,
        common_in=common_in,
    )


@router.post(
    "/estates/{estate_id}/common-income-transfers",
    status_code=status.HTTP_201_CREATED,
    summary="共有部分净收益转入维修资金 / Transfer common-part net income into the fund",
)
def transfer_common_income(
    estate_id: str, body: InterestIn, request: Request, ctx: Context = scoped("funds:write")
) -> list[dict[str, Any]]:
    get_estate(session=ctx.session, estate_id=estate_id)
    return _entries(
        service.transfer_common_income(
            session=ctx.session,
            ledger=ledger_for(request, ctx),
            estate_id=estate_id,
            period=body.period,
            amount_fen=body.amount_fen,
        )
    )


# --- repair projects ----------------------------------------------------------


@router.get(
    "/estates/{estate_id}/projects",
    response_model=Page[ProjectOut],
    summary="维修项目 / Repair projects",
)
def list_projects(
    estate_id: str, ctx: Context = scoped("funds:read"), params: ListParams = Depends(list_params)
) -> dict:
    get_estate(session=ctx.session, estate_id=estate_id)
    stmt = select(FundProject).where(FundProject.estate_id == estate_id)
    return paginate(
        ctx.session,
        stmt,
        model=FundProject,
        params=params,
        sortable=PROJECT_SORT,
        schema=ProjectOut,
    )


@router.post(
    "/estates/{estate_id}/projects",
    response_model=ProjectOut,
    status_code=status.HTTP_201_CREATED,
    summary="提出维修项目并按面积分摊 / Propose a repair, apportioned by area",
)
def propose_project(
    estate_id: str, project_in: ProjectIn, request: Request, ctx: Context = scoped("funds:write")
) -> object:
    get_estate(session=ctx.session, estate_id=estate_id)
    return service.propose_project(
        session=ctx.session,
        ledger=ledger_for(request, ctx),
        estate_id=estate_id,
        project_in=project_in,
    )


@router.get("/projects/{project_id}", summary="维修项目详情 / A repair project with its shares")
def get_project(project_id: str, ctx: Context = scoped("funds:read")) -> dict[str, Any]:
    import json

    project = service.get_project(session=ctx.session, project_id=project_id)
    entries = ctx.session.scalars(
        select(FundEntry).where(FundEntry.project_id == project.id).order_by(FundEntry.block_number)
    ).all()
    return {
        "project": ProjectOut.model_validate(project).model_dump(mode="json"),
        "evidence": json.loads(project.evidence),
        "shares": [
            ShareOut.model_validate(s).model_dump()
            for s in service.shares_of(ctx.session, project.id)
        ],
        "payments": _entries(list(entries)),
    }


@router.post(
    "/projects/{project_id}/vote",
    status_code=status.HTTP_201_CREATED,
    summary="发起业主表决（批准或追认）/ Start the owners' vote (approval or ratification)",
)
def request_vote(
    project_id: str, vote_in: VoteIn, ctx: Context = scoped("funds:write")
) -> dict[str, Any]:
    service.get_project(session=ctx.session, project_id=project_id)
    election = service.request_vote(session=ctx.session, project_id=project_id, vote_in=vote_in)
    return {"election_id": election.id, "status": election.status.value}


@router.post(
    "/projects/{project_id}/authorise",
    response_model=ProjectOut,
    summary="按表决结果批准或追认 / Record the decided vote on the ledger",
)
def authorise(project_id: str, request: Request, ctx: Context = scoped("funds:write")) -> object:
    service.get_project(session=ctx.session, project_id=project_id)
    return service.authorise_by_vote(
        session=ctx.session, ledger=ledger_for(request, ctx), project_id=project_id
    )


@router.post(
    "/projects/{project_id}/emergency",
    response_model=ProjectOut,
    summary="应急维修（记录原因与证据）/ Declare an emergency repair",
)
def declare_emergency(
    project_id: str,
    emergency_in: EmergencyIn,
    request: Request,
    ctx: Context = scoped("funds:write"),
) -> object:
    service.get_project(session=ctx.session, project_id=project_id)
    return service.declare_emergency(
        session=ctx.session,
        ledger=ledger_for(request, ctx),
        project_id=project_id,
        emergency_in=emergency_in,
    )


@router.post(
    "/projects/{project_id}/payments",
    status_code=status.HTTP_201_CREATED,
    summary="按发票分期支付 / Pay a stage against an invoice",
)
def pay_stage(
    project_id: str, payment_in: PaymentIn, request: Request, ctx: Context = scoped("funds:write")
) -> list[dict[str, Any]]:
    service.get_project(session=ctx.session, project_id=project_id)
    return _entries(
        service.pay_stage(
            session=ctx.session,
            ledger=ledger_for(request, ctx),
            project_id=project_id,
            payment_in=payment_in,
        )
    )


# --- reconciliation and disclosure -------------------------------------------


@router.get(
    "/estates/{estate_id}/reconciliation",
    summary="对账：账本与数据库镜像 / Reconcile the mirror against the ledger",
)
def reconciliation(
    estate_id: str, request: Request, ctx: Context = scoped("funds:read")
) -> dict[str, Any]:
    get_estate(session=ctx.session, estate_id=estate_id)
    return reconcile(
        session=ctx.session, ledger=ledger_for(request, ctx), estate_id=estate_id
    ).to_json()


def _disclosure(ctx: Context, estate_id: str, period: int | None) -> disclosure.Disclosure:
    """The month asked for; by default the latest month with any fund transaction."""
    from datetime import UTC, datetime

    from sqlalchemy import func

    get_estate(session=ctx.session, estate_id=estate_id)
    if period is None:
        period = ctx.session.scalar(
            select(func.max(FundEntry.period)).where(FundEntry.estate_id == estate_id)
        )
        if period is None:
            now = datetime.now(UTC)
            period = now.year * 100 + now.month
    try:
        return disclosure.build(session=ctx.session, estate_id=estate_id, period=period)
    except ValueError as exc:
        raise Problem("validation-error", f"period: {exc}") from exc


@router.get(
    "/estates/{estate_id}/disclosure.csv",
    summary="月度公示 CSV / Monthly disclosure as CSV",
    response_class=Response,
)
def disclosure_csv(
    estate_id: str,
    period: int | None = Query(None, ge=190001, le=999912, description="yyyymm (default: latest)"),
    ctx: Context = scoped("funds:read"),
) -> Response:
    d = _disclosure(ctx, estate_id, period)
    return Response(
        disclosure.to_csv(d).encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="fund-{period}.csv"'},
    )


@router.get(
    "/estates/{estate_id}/disclosure.pdf",
    summary="月度公示 PDF / Monthly disclosure as PDF",
    response_class=Response,
)
def disclosure_pdf(
    estate_id: str,
    period: int | None = Query(None, ge=190001, le=999912, description="yyyymm (default: latest)"),
    ctx: Context = scoped("funds:read"),
) -> Response:
    d = _disclosure(ctx, estate_id, period)
    return Response(
        disclosure.to_pdf(d),
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="fund-{period}.pdf"'},
    )
