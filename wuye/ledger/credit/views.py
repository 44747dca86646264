"""REST routes for credit ratings (信用评价) under ``/api/v1``.

* a firm records complaints and residents' satisfaction ratings and reads its own scores;
* ``/api/v1/credit/public/...``: published scores, profiles and their canonical inputs,
  readable by anyone (credit information is public, so anyone can recompute it);
* ``/api/v1/regulator/credit/...``: regulators record penalties and commendations and
  sign adjustments from their own ledger accounts;
* ``/api/v1/admin/credit/...``: the host firm computes and publishes a month.
"""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Depends, Path, Query, Request, Response, Security, status
from sqlalchemy.orm import Session

from wuye.federation.models import Role
from wuye.federation.views import host_admin
from wuye.ledger.credit import service
from wuye.ledger.credit.chain import CreditLedger, configured_ledger
from wuye.ledger.credit.models import (
    PERIOD_PATTERN,
    AdjustmentIn,
    AdjustmentOut,
    Complaint,
    ComplaintIn,
    ComplaintOut,
    ComplaintResolutionIn,
    CreditAdjustment,
    Period,
    ProfileOut,
    PublishOut,
    RatingIn,
    RatingOut,
    RegulatorAction,
    RegulatorActionIn,
    RegulatorActionOut,
    SatisfactionRating,
    ScoreOut,
)
from wuye.platform.db import Database, Scope
from wuye.platform.deps import Context, UnitOfWorkRoute, current_principal, get_database, scoped
from wuye.platform.listing import ListParams, Page, list_params, paginate
from wuye.platform.problems import Problem
from wuye.platform.security import Principal

router = APIRouter(prefix="/api/v1", tags=["credit 信用评价"], route_class=UnitOfWorkRoute)

COMPLAINT_SORT = frozenset({"received_at", "created_at", "category"})
RATING_SORT = frozenset({"rated_at", "stars", "created_at"})
ACTION_SORT = frozenset({"decided_at", "created_at", "kind"})
ADJUSTMENT_SORT = frozenset({"created_at", "period", "adjustment_id"})


def ledger_for(request: Request) -> CreditLedger:
    ledger = getattr(request.app.state, "credit_ledger", None)
    if ledger is None:
        try:
            ledger = configured_ledger(request.app.state.settings)
        except (LookupError, OSError) as exc:
            raise Problem("conflict", f"credit ledger unavailable: {exc}") from exc
        request.app.state.credit_ledger = ledger
    return ledger


def public_session(database: Database = Depends(get_database)) -> Iterator[Session]:
    """A read-only look at published credit records across firms."""
    with database.transaction(Scope.for_host()) as session:
        yield session


def regulator(
    principal: Principal = Security(current_principal, scopes=["ledger:read"]),
    database: Database = Depends(get_database),
) -> Context:
    """The caller is a regulator (监管部门); its session sees every firm's credit records."""
    if principal.role != Role.REGULATOR.value:
        raise Problem("forbidden", "regulators only / 仅限监管部门")
    return Context(principal=principal, database=database, scope=Scope.for_host())


# --- a firm's own events -------------------------------------------------------------


@router.get(
    "/credit/complaints", response_model=Page[ComplaintOut], summary="投诉列表 / List complaints"
)
def list_complaints(
    ctx: Context = scoped("workorders:read"),
    params: ListParams = Depends(list_params),
    estate_id: str | None = Query(None),
    staff_id: str | None = Query(None),
) -> dict:
    stmt = service.complaints_query(estate_id=estate_id, staff_id=staff_id)
    return paginate(
        ctx.session,
        stmt,
        model=Complaint,
        params=params,
        sortable=COMPLAINT_SORT,
        schema=ComplaintOut,
    )


@router.post(
    "/credit/complaints",
    response_model=ComplaintOut,
    status_code=status.HTTP_201_CREATED,
    summary="登记投诉 / Record a complaint",
)
def create_complaint(
    complaint_in: ComplaintIn, ctx: Context = scoped("workorders:write")
) -> object:
    return service.create_complaint(session=ctx.session, complaint_in=complaint_in)


@router.get(
    "/credit/complaints/{complaint_id}",
    response_model=ComplaintOut,
    summary="投诉详情 / Get a complaint",
)
def get_complaint(complaint_id: str, ctx: Context = scoped("workorders:read")) -> object:
    return service.get_complaint(session=ctx.session, complaint_id=complaint_id)


@router.post(
    "/credit/complaints/{complaint_id}/resolution",
    response_model=ComplaintOut,
    summary="投诉办结 / Resolve a complaint",
)
def resolve_complaint(
    complaint_id: str,
    resolution_in: ComplaintResolutionIn,
    ctx: Context = scoped("workorders:write"),
) -> object:
    return service.resolve_complaint(
        session=ctx.session, complaint_id=complaint_id, resolution_in=resolution_in
    )


@router.get(
    "/credit/ratings",
    response_model=Page[RatingOut],
    summary="满意度评价列表 / List satisfaction ratings",
)
def list_ratings(
    ctx: Context = scoped("workorders:read"),
    params: ListParams = Depends(list_params),
    estate_id: str | None = Query(None),
    staff_id: str | None = Query(None),
) -> dict:
    stmt = service.ratings_query(estate_id=estate_id, staff_id=staff_id)
    return paginate(
        ctx.session,
        stmt,
        model=SatisfactionRating,
        params=params,
        sortable=RATING_SORT,
        schema=RatingOut,
    )


@router.post(
    "/credit/ratings",
    response_model=RatingOut,
    status_code=status.HTTP_201_CREATED,
    summary="登记满意度评价 (1-5 星) / Record a satisfaction rating",
)
def create_rating(rating_in: RatingIn, ctx: Context = scoped("workorders:write")) -> object:
    return service.create_rating(session=ctx.session, rating_in=rating_in)


@router.get(
    "/credit/regulator-actions",
    response_model=Page[RegulatorActionOut],
    summary="本企业的监管奖惩记录 / The firm's penalties and commendations",
)
def list_own_actions(
    ctx: Context = scoped("estates:read"), params: ListParams = Depends(list_params)
) -> dict:
    return paginate(
        ctx.session,
        service.regulator_actions_query(),
        model=RegulatorAction,
        params=params,
        sortable=ACTION_SORT,
        schema=RegulatorActionOut,
    )


@router.get(
    "/credit/scores",
    response_model=list[ScoreOut],
    summary="本企业及员工的信用评分 / The firm's and its staff's scores",
)
def own_scores(
    ctx: Context = scoped("estates:read"), period: Period | None = Query(None)
) -> list[ScoreOut]:
    return service.published_scores(
        session=ctx.session, period=period, tenant_id=ctx.principal.tenant_id
    )


# --- public ----------------------------------------------------------------------------


@router.get(
    "/credit/public/firms",
    summary="公开：企业信用一览 / Public: firms and their latest scores",
)
def public_firms(session: Session = Depends(public_session)) -> list[dict]:
    return [
        {
            "tenant_id": f["tenant_id"],
            "name": f["name"],
            "latest": f["latest"].model_dump() if f["latest"] else None,
        }
        for f in service.firms_overview(session=session)
    ]


@router.get(
    "/credit/public/firms/{tenant_id}",
    response_model=ProfileOut,
    summary="公开：企业信用档案 / Public: a firm's credit profile",
)
def public_profile(tenant_id: str, session: Session = Depends(public_session)) -> ProfileOut:
    return service.profile(session=session, tenant_id=tenant_id)


@router.get(
    "/credit/public/scores",
    response_model=list[ScoreOut],
    summary="公开：某月全部评分 / Public: every published score of a month",
)
def public_scores(
    period: Period = Query(...), session: Session = Depends(public_session)
) -> list[ScoreOut]:
    return service.published_scores(session=session, period=period)


@router.get(
    "/credit/public/scores/{period}/{subject_ref}/inputs",
    summary="公开：评分输入（规范 JSON，SM3 上链）/ Public: a score's canonical inputs",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}}},
)
def public_inputs(
    subject_ref: str,
    period: str = Path(pattern=PERIOD_PATTERN),
    session: Session = Depends(public_session),
) -> Response:
    data = service.inputs_of(session=session, period=period, subject_ref=subject_ref)
    return Response(data, media_type="application/json")


# --- regulators -----------------------------------------------------------------------


@router.post(
    "/regulator/credit/actions",
    response_model=RegulatorActionOut,
    status_code=status.HTTP_201_CREATED,
    summary="监管：记录处罚或表彰 / Regulator: record a penalty or commendation",
)
def record_action(action_in: RegulatorActionIn, ctx: Context = Depends(regulator)) -> object:
    return service.record_regulator_action(
        session=ctx.session, regulator=ctx.principal.subject, action_in=action_in
    )


@router.post(
    "/regulator/credit/adjustments",
    response_model=AdjustmentOut,
    status_code=status.HTTP_201_CREATED,
    summary="监管：信用分调整（上链签名）/ Regulator: a signed score adjustment",
)
def create_adjustment(
    adjustment_in: AdjustmentIn, request: Request, ctx: Context = Depends(regulator)
) -> object:
    return service.adjust(
        session=ctx.session,
        ledger=ledger_for(request),
        cipher=request.app.state.pii,
        regulator=ctx.principal.subject,
        adjustment_in=adjustment_in,
    )


@router.get(
    "/regulator/credit/adjustments",
    response_model=Page[AdjustmentOut],
    summary="监管：调整记录 / Regulator: adjustments",
)
def list_adjustments(
    ctx: Context = Depends(regulator),
    params: ListParams = Depends(list_params),
    period: Period | None = Query(None),
) -> dict:
    return paginate(
        ctx.session,
        service.adjustments_query(period=period),
        model=CreditAdjustment,
        params=params,
        sortable=ADJUSTMENT_SORT,
        schema=AdjustmentOut,
    )


# --- the host firm ---------------------------------------------------------------------


@router.post(
    "/admin/credit/periods/{period}/publish",
    response_model=PublishOut,
    summary="计算并发布月度信用评分 / Compute and publish a month's scores",
)
def publish(
    request: Request,
    period: str = Path(pattern=PERIOD_PATTERN),
    ctx: Context = Depends(host_admin),
) -> PublishOut:
    return service.publish_period(session=ctx.session, ledger=ledger_for(request), period=period)
