"""The developer portal (开发者门户): sign up, create an app and get sandbox keys at once,
the getting-started guide and API reference, the request log, usage, reset, and the
request for production credentials. Web pages, Chinese first with English.

A signed-in developer holds a cookie ``wuye_dev``: their id and an expiry, with an
HMAC under a key derived from the platform secret. Forms carry the platform's
signed double-submit CSRF token (``wuye.federation.web``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from wuye.adapters.devices.keys import keyring_for_secret
from wuye.federation.scopes import SCOPES
from wuye.federation.sealing import derive_key
from wuye.federation.service import LoginRefused
from wuye.federation.web import CSRF_COOKIE, CSRF_FIELD, PAGE_HEADERS, csrf_valid
from wuye.federation.web import _sign as csrf_sign
from wuye.platform.db import Scope
from wuye.platform.problems import Problem
from wuye.sandbox import service
from wuye.sandbox.mocks.ecommerce import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET
from wuye.sandbox.mocks.hpf import DEMO_API_KEY
from wuye.sandbox.mocks.utility import DEMO_KEY_ID, DEMO_PRIVATE_KEY_HEX
from wuye.sandbox.models import APP_CATEGORIES, Promotion
from wuye.sandbox.rfc7591 import registrar

HERE = Path(__file__).parent
TEMPLATES = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
SESSION_COOKIE = "wuye_dev"
SESSION_SECONDS = 8 * 3600
router = APIRouter(prefix="/developer", include_in_schema=False)


# --- sessions and rendering ------------------------------------------------------------


def _session_key(request: Request) -> bytes:
    return derive_key(request.app.state.settings.secret_bytes(), "developer-portal-session")


def _session_value(request: Request, developer_id: str) -> str:
    expires = int(time.time()) + SESSION_SECONDS
    payload = f"{developer_id}.{expires}"
    mac = hmac.new(_session_key(request), payload.encode(), hashlib.sha256).hexdigest()
    return f"{payload}.{mac}"


def current_developer_id(request: Request) -> str | None:
    value = request.cookies.get(SESSION_COOKIE, "")
    developer_id, _, rest = value.partition(".")
    expires, _, mac = rest.partition(".")
    if not (developer_id and expires.isdigit() and mac):
        return None
    expected = hmac.new(
        _session_key(request), f"{developer_id}.{expires}".encode(), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, mac) or int(expires) < time.time():
        return None
    return developer_id


def page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    settings = request.app.state.settings
    nonce = request.cookies.get(CSRF_COOKIE)
    fresh = not nonce
    nonce = nonce or secrets.token_urlsafe(24)
    html = TEMPLATES.get_template(template).render(
        **context,
        signed_in=current_developer_id(request) is not None,
        base_url=settings.public_url.rstrip("/"),
        csrf_field=CSRF_FIELD,
        csrf_token=csrf_sign(settings, nonce),
    )
    response = HTMLResponse(html, status_code=status_code, headers=dict(PAGE_HEADERS))
    if fresh:
        response.set_cookie(
            CSRF_COOKIE,
            nonce,
            httponly=True,
            samesite="strict",
            path="/",
            secure=settings.public_url.startswith("https://"),
        )
    return response


async def _form(request: Request) -> dict[str, str] | None:
    """The submitted form, or None if its CSRF token is not valid."""
    raw = await request.form()
    form = {k: str(v) for k, v in raw.items()}
    if not csrf_valid(request, request.app.state.settings, form.get(CSRF_FIELD)):
        return None
    return form


def _to_login() -> RedirectResponse:
    return RedirectResponse("/developer/login", status_code=303)


EXPIRED = "页面已过期，请重试 / The page expired; please try again"


# --- sign-up and sign-in ---------------------------------------------------------------


@router.get("")
def home(request: Request) -> HTMLResponse:
    return page(request, "home.html")


@router.get("/signup")
def signup_form(request: Request) -> HTMLResponse:
    return page(request, "signup.html", form={}, error=None)


@router.post("/signup")
async def signup(request: Request) -> Response:
    form = await _form(request)
    if form is None:
        return page(request, "signup.html", 400, form={}, error=EXPIRED)

    def run() -> str:
        with request.app.state.db.transaction(Scope.for_host()) as session:
            return service.sign_up(
                session=session,
                username=form.get("username", ""),
                password=form.get("password", ""),
                display_name=form.get("display_name", ""),
                email=form.get("email", ""),
            ).id

    try:
        developer_id = await run_in_threadpool(run)
    except Problem as problem:
        return page(request, "signup.html", problem.status, form=form, error=problem.detail)
    response = RedirectResponse("/developer/apps", status_code=303)
    _set_session(request, response, developer_id)
    return response


def _set_session(request: Request, response: Response, developer_id: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        _session_value(request, developer_id),
        httponly=True,
        samesite="lax",
        path="/developer",
        max_age=SESSION_SECONDS,
        secure=request.app.state.settings.public_url.startswith("https://"),
    )


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    return page(request, "login.html", username="", error=None)


@router.post("/login")
async def login(request: Request) -> Response:
    form = await _form(request)
    if form is None:
        return page(request, "login.html", 400, username="", error=EXPIRED)
    settings = request.app.state.settings

    def run() -> str:
        with request.app.state.db.transaction(Scope.for_host()) as session:
            return service.sign_in(
                session=session,
                username=form.get("username", ""),
                password=form.get("password", ""),
                settings=settings,
            ).id

    try:
        developer_id = await run_in_threadpool(run)
    except LoginRefused as refused:
        status = 429 if refused.retry_after else 401
        return page(
            request,
            "login.html",
            status,
            username=form.get("username", ""),
            error=f"登录失败 / sign-in refused: {refused}",
        )
    response = RedirectResponse("/developer/apps", status_code=303)
    _set_session(request, response, developer_id)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    response = RedirectResponse("/developer", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/developer")
    return response


# --- apps ------------------------------------------------------------------------------


@router.get("/apps")
def apps(request: Request) -> Response:
    developer_id = current_developer_id(request)
    if developer_id is None:
        return _to_login()
    with request.app.state.db.transaction(Scope.for_host()) as session:
        developer = service.get_developer(session=session, developer_id=developer_id)
        rows = service.apps_of(session=session, developer_id=developer_id)
        return page(
            request,
            "apps.html",
            developer=developer,
            apps=rows,
            categories=APP_CATEGORIES,
            error=None,
        )


@router.post("/apps")
async def create_app(request: Request) -> Response:
    developer_id = current_developer_id(request)
    if developer_id is None:
        return _to_login()
    form = await _form(request)
    if form is None:
        return RedirectResponse("/developer/apps", status_code=303)
    state = request.app.state

    def run():
        from wuye.sandbox.chain import ledgers

        return service.create_app(
            chain=ledgers(state.settings, state),
            database=state.db,
            settings=state.settings,
            cipher=state.pii,
            keyring=keyring_for_secret(state.settings.secret_bytes()),
            register=registrar(state.oauth2_server),
            developer_id=developer_id,
            name=form.get("name", ""),
            category=form.get("category", "other"),
        )

    try:
        app, secret = await run_in_threadpool(run)
    except Problem as problem:
        with state.db.transaction(Scope.for_host()) as session:
            developer = service.get_developer(session=session, developer_id=developer_id)
            rows = service.apps_of(session=session, developer_id=developer_id)
        return page(
            request,
            "apps.html",
            problem.status,
            developer=developer,
            apps=rows,
            categories=APP_CATEGORIES,
            error=problem.detail,
        )
    return _app_page(request, app.id, developer_id, new_secret=secret, status_code=201)


def _app_page(
    request: Request,
    app_id: str,
    developer_id: str,
    *,
    new_secret: str | None = None,
    notice: str | None = None,
    error: str | None = None,
    with_registration_token: bool = False,
    status_code: int = 200,
) -> Response:
    settings = request.app.state.settings
    with request.app.state.db.transaction(Scope.for_host()) as session:
        try:
            app = service.get_app(session=session, app_id=app_id, developer_id=developer_id)
        except Problem:
            return page(request, "notfound.html", 404)
        production_secret = service.reveal_production_secret(
            session=session, app=app, settings=settings
        )
        registration = None
        if new_secret or with_registration_token:
            registration = service.registration_token(session=session, settings=settings, app=app)
        from wuye.sandbox.seed import counts

        data = counts(request.app.state.db, app.tenant_id)
        return page(
            request,
            "app.html",
            status_code,
            app=app,
            new_secret=new_secret,
            production_secret=production_secret,
            registration_token=registration,
            counts=data,
            notice=notice,
            error=error,
            Promotion=Promotion,
            categories=APP_CATEGORIES,
        )


@router.get("/apps/{app_id}")
def app_detail(request: Request, app_id: str) -> Response:
    developer_id = current_developer_id(request)
    if developer_id is None:
        return _to_login()
    return _app_page(request, app_id, developer_id)


@router.post("/apps/{app_id}/registration-token")
async def registration_token(request: Request, app_id: str) -> Response:
    developer_id = current_developer_id(request)
    if developer_id is None:
        return _to_login()
    if await _form(request) is None:
        return _app_page(request, app_id, developer_id, error=EXPIRED, status_code=400)
    return _app_page(request, app_id, developer_id, with_registration_token=True)


@router.post("/apps/{app_id}/reset")
async def reset(request: Request, app_id: str) -> Response:
    developer_id = current_developer_id(request)
    if developer_id is None:
        return _to_login()
    if await _form(request) is None:
        return _app_page(request, app_id, developer_id, error=EXPIRED, status_code=400)
    state = request.app.state
    with state.db.transaction(Scope.for_host()) as session:
        tenant_id = service.get_app(
            session=session, app_id=app_id, developer_id=developer_id
        ).tenant_id
    from wuye.sandbox.chain import ledgers

    await run_in_threadpool(
        lambda: service.reset(
            chain=ledgers(state.settings, state),
            database=state.db,
            cipher=state.pii,
            keyring=keyring_for_secret(state.settings.secret_bytes()),
            tenant_id=tenant_id,
        )
    )
    return _app_page(
        request,
        app_id,
        developer_id,
        notice="沙箱已重置为初始数据 / The sandbox was reset to its seed data",
    )


@router.post("/apps/{app_id}/promotion")
async def promotion(request: Request, app_id: str) -> Response:
    developer_id = current_developer_id(request)
    if developer_id is None:
        return _to_login()
    form = await _form(request)
    if form is None:
        return _app_page(request, app_id, developer_id, error=EXPIRED, status_code=400)
    try:
        with request.app.state.db.transaction(Scope.for_host()) as session:
            service.request_promotion(
                session=session,
                app_id=app_id,
                developer_id=developer_id,
                redirect_uri=form.get("redirect_uri", ""),
                note=form.get("note", ""),
            )
    except Problem as problem:
        return _app_page(
            request, app_id, developer_id, error=problem.detail, status_code=problem.status
        )
    return _app_page(
        request,
        app_id,
        developer_id,
        notice="已提交上线申请，等待平台审核 / Submitted for the host's review",
    )


@router.get("/apps/{app_id}/logs")
def logs(request: Request, app_id: str, status: int | None = None) -> Response:
    developer_id = current_developer_id(request)
    if developer_id is None:
        return _to_login()
    with request.app.state.db.transaction(Scope.for_host()) as session:
        try:
            app = service.get_app(session=session, app_id=app_id, developer_id=developer_id)
        except Problem:
            return page(request, "notfound.html", 404)
        rows = service.recent_requests(session=session, client_id=app.client_id, status=status)
        return page(request, "logs.html", app=app, rows=rows, status=status)


@router.get("/apps/{app_id}/usage")
def usage(request: Request, app_id: str) -> Response:
    developer_id = current_developer_id(request)
    if developer_id is None:
        return _to_login()
    with request.app.state.db.transaction(Scope.for_host()) as session:
        try:
            app = service.get_app(session=session, app_id=app_id, developer_id=developer_id)
        except Problem:
            return page(request, "notfound.html", 404)
        buckets = service.hourly_usage(session=session, client_id=app.client_id)
        peak = max([b["requests"] for b in buckets] + [1])
        return page(
            request,
            "usage.html",
            app=app,
            buckets=buckets,
            peak=peak,
            total=sum(b["requests"] for b in buckets),
            errors=sum(b["errors"] for b in buckets),
        )


# --- guide and reference ---------------------------------------------------------------


@router.get("/guide")
def guide(request: Request, app: str | None = None) -> Response:
    client_id = "YOUR_CLIENT_ID"
    developer_id = current_developer_id(request)
    if developer_id and app:
        with request.app.state.db.transaction(Scope.for_host()) as session:
            try:
                client_id = service.get_app(
                    session=session, app_id=app, developer_id=developer_id
                ).client_id
            except Problem:
                pass
    from wuye.ledger.sites import sandbox_site

    site = sandbox_site(request.app.state.settings)
    return page(
        request,
        "guide.html",
        client_id=client_id,
        sandbox_rpc=None if site.off else site.rpc_url,
        demo={
            "ecommerce_client_id": DEMO_CLIENT_ID,
            "ecommerce_client_secret": DEMO_CLIENT_SECRET,
            "hpf_key": DEMO_API_KEY,
            "utility_key_id": DEMO_KEY_ID,
            "utility_private_key": DEMO_PRIVATE_KEY_HEX,
        },
    )


@router.get("/reference")
def reference(request: Request) -> Response:
    doc = request.app.openapi()
    groups: dict[str, list[dict[str, Any]]] = {}
    for path, item in doc.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            tag = (op.get("tags") or ["other"])[0]
            scopes = sorted({s for sec in op.get("security", []) for v in sec.values() for s in v})
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            groups.setdefault(tag, []).append(
                {
                    "method": method.upper(),
                    "path": path,
                    "summary": op.get("summary", ""),
                    "scopes": scopes,
                    "params": [
                        (p["name"], p["in"], p.get("required", False))
                        for p in op.get("parameters", [])
                    ],
                    "body": body.get("schema", {}).get("$ref", "").rsplit("/", 1)[-1],
                }
            )
    schemas = {
        name: json.dumps(schema, ensure_ascii=False, indent=1)
        for name, schema in sorted(doc.get("components", {}).get("schemas", {}).items())
    }
    return page(
        request,
        "reference.html",
        groups=groups,
        schemas=schemas,
        scopes=SCOPES,
        version=doc["info"].get("x-contract-version", ""),
    )


def install(app: FastAPI) -> None:
    app.mount("/static/sandbox", StaticFiles(directory=HERE / "static"), name="sandbox-static")
    app.include_router(router)
