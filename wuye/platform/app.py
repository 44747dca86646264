"""The FastAPI application factory: routers, problem details, docs served offline."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path

import anyio.to_thread
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

import wuye
from wuye.platform import problems
from wuye.platform.db import Database
from wuye.platform.pii import PersonalDataCipher
from wuye.platform.settings import Settings, get_settings

API_DESCRIPTION = """
物业开放平台 API — wuye, an open platform for smart property management.

Member firms (tenants) call it with OAuth 2 access tokens; every call sees only
the caller's own tenant. Errors are RFC 9457 problem details.
"""


def _docs_assets() -> Path:
    return Path(str(files("fastapi_offline") / "static"))


#: Threads serving synchronous routes. More than the database pool can feed only adds
#: contention for the GIL and for connections; the pool is sized to match.
THREADS = 16


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
    yield


def create_app(settings: Settings | None = None, database: Database | None = None) -> FastAPI:
    """Build the platform's ASGI app. ``database`` defaults to ``settings``' URL."""
    settings = settings or get_settings()
    database = database or Database(
        settings.effective_database_url, pool_size=THREADS, max_overflow=THREADS
    )
    app = FastAPI(
        lifespan=_lifespan,
        title="wuye 物业开放平台",
        version=wuye.__version__,
        description=API_DESCRIPTION,
        openapi_url="/openapi.json",
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url="/docs/oauth2-redirect",
        swagger_ui_init_oauth={"usePkceWithAuthorizationCodeGrant": True},
    )
    app.state.settings = settings
    app.state.db = database
    app.state.pii = PersonalDataCipher(settings.secret_bytes())
    problems.install(app)

    from wuye.adapters.alarms.views import router as alarms_router
    from wuye.adapters.commands.views import router as commands_router
    from wuye.adapters.devices.views import router as devices_router
    from wuye.adapters.telemetry.views import router as telemetry_router
    from wuye.federation.views import install as install_federation
    from wuye.openapi.views import install as install_contract
    from wuye.platform.bills.views import router as bills_router
    from wuye.platform.estates.views import router as estates_router
    from wuye.platform.owners.views import router as owners_router
    from wuye.platform.pages import install as install_pages
    from wuye.platform.staff.views import router as staff_router
    from wuye.platform.workorders.views import router as workorders_router
    from wuye.sandbox.views import install as install_sandbox

    # Routes match in order: the API first, so its requests are routed soonest.
    app.include_router(estates_router)
    app.include_router(owners_router)
    app.include_router(staff_router)
    app.include_router(devices_router)
    app.include_router(telemetry_router)
    app.include_router(alarms_router)
    app.include_router(commands_router)
    app.include_router(workorders_router)
    app.include_router(bills_router)
    from wuye.ledger.votes.pages import install as install_votes_pages
    from wuye.ledger.votes.views import router as votes_router

    app.include_router(votes_router)
    install_votes_pages(app)
    from wuye.ledger.fund.pages import install as install_fund_pages
    from wuye.ledger.fund.views import router as fund_router

    app.include_router(fund_router)
    install_fund_pages(app)
    from wuye.ledger.explorer.pages import install as install_explorer

    install_explorer(app)
    from wuye.ledger.credit.pages import install as install_credit_pages
    from wuye.ledger.credit.views import router as credit_router

    app.include_router(credit_router)
    install_credit_pages(app)
    install_federation(app)
    install_contract(app)
    install_sandbox(app)
    install_pages(app)

    app.mount("/static/docs", StaticFiles(directory=_docs_assets()), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="wuye API 文档",
            swagger_js_url="/static/docs/swagger-ui-bundle.js",
            swagger_css_url="/static/docs/swagger-ui.css",
            swagger_favicon_url="/static/docs/favicon.png",
            oauth2_redirect_url="/docs/oauth2-redirect",
            init_oauth={"usePkceWithAuthorizationCodeGrant": True, "clientId": ""},
        )

    @app.get("/docs/oauth2-redirect", include_in_schema=False)
    def swagger_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/healthz", tags=["platform"], summary="存活检查 / Liveness")
    def healthz() -> dict[str, str]:
        return {"status": "ok", "version": wuye.__version__}

    @app.get("/problems/{slug}", include_in_schema=False)
    def problem_type(slug: str) -> HTMLResponse:
        status, title = problems.CATALOGUE.get(slug, (404, "unknown problem type"))
        return HTMLResponse(
            f"<!doctype html><meta charset=utf-8><title>{title}</title>"
            f"<h1>{title}</h1><p>HTTP {status}</p>",
            status_code=200 if slug in problems.CATALOGUE else 404,
        )

    return app
