"""Tenancy's HTTP surface: the onboarding and host-admin API, and :func:`install`, which
adds federation's routers, pages and the OAuth 2 authorization server to the app and
sets ``app.state.token_verifier``."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Security
from sqlalchemy.orm import Session

from wuye.federation import service
from wuye.federation.models import (
    ApplicationIn,
    ApplicationOut,
    ApplicationStatus,
    OnboardResult,
    RejectIn,
    TenantOut,
)
from wuye.federation.tokens import TokenVerifier
from wuye.platform.db import Database, Scope
from wuye.platform.deps import Context, UnitOfWorkRoute, current_principal, get_database
from wuye.platform.problems import Problem
from wuye.platform.security import Principal

onboarding = APIRouter(prefix="/api/v1/onboarding", tags=["onboarding 入驻"])
admin = APIRouter(prefix="/api/v1/admin", tags=["admin 平台管理"], route_class=UnitOfWorkRoute)


def host_session(database: Database = Depends(get_database)) -> Iterator[Session]:
    """One host-scoped transaction for a public federation route."""
    with database.transaction(Scope.for_host()) as session:
        yield session


def host_admin(
    principal: Principal = Security(current_principal, scopes=["admin"]),
    database: Database = Depends(get_database),
) -> Context:
    """The caller holds ``admin`` AND belongs to the host firm; the route's session sees
    every tenant (federation's tables are managed across tenants)."""
    if not principal.host:
        raise Problem("forbidden", "host-firm administrators only / 仅限平台运营方管理员")
    return Context(principal=principal, database=database, scope=Scope.for_host())


@onboarding.post(
    "/applications",
    status_code=201,
    response_model=ApplicationOut,
    summary="提交入驻申请 / Apply to join the platform",
)
def submit_application(
    body: ApplicationIn,
    request: Request,
    session: Session = Depends(host_session, scope="function"),
) -> ApplicationOut:
    application = service.apply(session, application_in=body, settings=request.app.state.settings)
    return ApplicationOut.model_validate(application)


@admin.get(
    "/applications",
    response_model=list[ApplicationOut],
    summary="入驻申请列表 / List applications",
)
def list_applications(
    status: ApplicationStatus | None = Query(None, description="pending / approved / rejected"),
    ctx: Context = Depends(host_admin),
) -> list[ApplicationOut]:
    rows = service.list_applications(ctx.session, status=status)
    return [ApplicationOut.model_validate(r) for r in rows]


@admin.get(
    "/applications/{application_id}",
    response_model=ApplicationOut,
    summary="入驻申请详情 / One application",
)
def get_application(application_id: str, ctx: Context = Depends(host_admin)) -> ApplicationOut:
    application = service.get_application(ctx.session, application_id=application_id)
    return ApplicationOut.model_validate(application)


@admin.post(
    "/applications/{application_id}/approve",
    response_model=OnboardResult,
    status_code=201,
    summary="批准入驻 / Approve: creates the tenant, its admin and its first client",
)
def approve_application(application_id: str, ctx: Context = Depends(host_admin)) -> OnboardResult:
    return service.approve(
        ctx.session, application_id=application_id, reviewer=ctx.principal.subject
    )


@admin.post(
    "/applications/{application_id}/reject",
    response_model=ApplicationOut,
    summary="驳回入驻 / Reject an application",
)
def reject_application(
    application_id: str, body: RejectIn, ctx: Context = Depends(host_admin)
) -> ApplicationOut:
    application = service.reject(
        ctx.session,
        application_id=application_id,
        reviewer=ctx.principal.subject,
        reason=body.reason,
    )
    return ApplicationOut.model_validate(application)


@admin.get("/tenants", response_model=list[TenantOut], summary="租户列表 / List tenants")
def list_tenants(ctx: Context = Depends(host_admin)) -> list[TenantOut]:
    return [TenantOut.model_validate(t) for t in service.list_tenants(ctx.session)]


@admin.post(
    "/tenants/{tenant_id}/suspend",
    response_model=TenantOut,
    summary="暂停租户（吊销全部令牌）/ Suspend a tenant, revoking all its tokens",
)
def suspend_tenant(tenant_id: str, ctx: Context = Depends(host_admin)) -> TenantOut:
    return TenantOut.model_validate(service.suspend_tenant(ctx.session, tenant_id=tenant_id))


@admin.post(
    "/tenants/{tenant_id}/reactivate",
    response_model=TenantOut,
    summary="恢复租户 / Reactivate a suspended tenant",
)
def reactivate_tenant(tenant_id: str, ctx: Context = Depends(host_admin)) -> TenantOut:
    return TenantOut.model_validate(service.reactivate_tenant(ctx.session, tenant_id=tenant_id))


def install(app: FastAPI) -> None:
    """Add tenancy to ``app``: the onboarding and admin API, the onboarding pages, the
    OAuth 2 authorization server, and ``app.state.token_verifier``."""
    from wuye.federation.oauth2.views import install as install_oauth2
    from wuye.federation.pages import router as pages

    app.state.token_verifier = TokenVerifier(app.state.db, app.state.settings)
    app.include_router(onboarding)
    app.include_router(admin)
    app.include_router(pages)
    install_oauth2(app)
