"""HTTP routes of the authorization server: ``/oauth/*``, the metadata document, and the
sign-in and consent page.

The OAuth endpoints answer with RFC 6749 error JSON (section 5.2), as the standard
requires, not problem+json. Authlib runs in a worker thread; see ``server.py``.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Error
from authlib.oauth2.rfc6749.errors import InsecureTransportError
from fastapi import APIRouter, FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from wuye.federation import keys, service
from wuye.federation.oauth2.rfc8414 import metadata
from wuye.federation.oauth2.server import (
    AuthorizationServer,
    StarletteOAuth2Request,
    read_json_request,
    read_oauth2_request,
)
from wuye.federation.scopes import SCOPES
from wuye.federation.web import CSRF_FIELD, csrf_valid, render

router = APIRouter(tags=["oauth2 授权"])


def _server(request: Request) -> AuthorizationServer:
    return request.app.state.oauth2_server


@router.get(
    "/.well-known/oauth-authorization-server",
    summary="授权服务器元数据 / Authorization server metadata (RFC 8414)",
)
def server_metadata(request: Request) -> JSONResponse:
    return JSONResponse(metadata(request.app.state.settings))


@router.get("/oauth/jwks.json", summary="令牌签名公钥 / Token signing keys (JWK Set, RFC 7517)")
def jwks(request: Request) -> JSONResponse:
    server = _server(request)
    with server.unit_of_work() as session:
        if not keys.published(session):
            keys.create_key(session, settings=server.settings)
        document = keys.jwks(session)
    return JSONResponse(document, headers={"Cache-Control": "public, max-age=300"})


@router.post("/oauth/token", summary="令牌端点 / Token endpoint (RFC 6749 section 3.2)")
async def token(request: Request) -> Response:
    oauth_request = await read_oauth2_request(request)
    server = _server(request)

    def run() -> Response:
        with server.unit_of_work():
            return server.create_token_response(oauth_request)

    return await run_in_threadpool(run)


@router.post("/oauth/introspect", summary="令牌内省 / Token introspection (RFC 7662)")
async def introspect(request: Request) -> Response:
    return await _endpoint(request, "introspection")


@router.post("/oauth/revoke", summary="吊销令牌 / Token revocation (RFC 7009)")
async def revoke(request: Request) -> Response:
    return await _endpoint(request, "revocation")


async def _endpoint(request: Request, name: str) -> Response:
    oauth_request = await read_oauth2_request(request)
    server = _server(request)

    def run() -> Response:
        with server.unit_of_work():
            return server.create_endpoint_response(name, oauth_request)

    return await run_in_threadpool(run)


@router.post(
    "/oauth/register",
    status_code=201,
    summary="动态注册客户端 / Dynamic client registration (RFC 7591)",
)
async def register(request: Request) -> Response:
    json_request = await read_json_request(request)
    server = _server(request)

    def run() -> Response:
        with server.unit_of_work():
            return server.create_endpoint_response("client_registration", json_request)

    return await run_in_threadpool(run)


# -- the authorization endpoint: sign in and consent -----------------------------------


def _error_page(request: Request, server: AuthorizationServer, oauth_request, error: OAuth2Error):
    """RFC 6749 section 4.1.2.1: "If the request fails due to a missing, invalid, or
    mismatching redirection URI, or if the client identifier is missing or invalid,
    the authorization server SHOULD inform the resource owner of the error and MUST
    NOT automatically redirect the user-agent to the invalid redirection URI."
    Authlib sets ``redirect_uri`` on an error only once client and URI are verified."""
    if error.redirect_uri:
        return server.handle_error_response(oauth_request, error)
    return render(
        request,
        server.settings,
        "error.html",
        {
            "title": "授权请求无效",
            "title_en": "Invalid authorization request",
            "error": error.error,
            "description": error.description or "",
        },
        status_code=400,
    )


def _consent_page(
    request: Request,
    server: AuthorizationServer,
    grant: Any,
    *,
    error: str = "",
    username: str = "",
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    phone: dict[str, Any] | None = None,
) -> Response:
    client = grant.client
    requested = (grant.request.scope or "").split()
    return render(
        request,
        server.settings,
        "authorize.html",
        {
            "client_name": client.name,
            "scopes": [(s, SCOPES[s]) for s in requested if s in SCOPES],
            "action": f"/oauth/authorize?{request.url.query}",
            "redirect_uri": grant.redirect_uri,
            "error": error,
            "username": username,
            # Owners' clients offer the phone + code method first.
            "owners_first": str(client.role) == "owner",
            "phone": phone or {"step": "phone", "number": ""},
        },
        status_code=status_code,
        headers=headers,
    )


@router.get("/oauth/authorize", include_in_schema=False)
async def authorize_page(request: Request) -> Response:
    oauth_request = await read_oauth2_request(request)
    return await run_in_threadpool(_show_authorize, request, oauth_request)


def _show_authorize(request: Request, oauth_request: StarletteOAuth2Request) -> Response:
    server = _server(request)
    with server.unit_of_work():
        try:
            grant = server.get_consent_grant(oauth_request, end_user=None)
        except OAuth2Error as error:
            return _error_page(request, server, oauth_request, error)
        return _consent_page(request, server, grant)


@router.post("/oauth/authorize", include_in_schema=False)
async def authorize_submit(request: Request) -> Response:
    form = await request.form()
    fields = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    # The OAuth parameters come from the query only; the form carries the user's answer.
    oauth_request = StarletteOAuth2Request(
        "GET",
        str(request.url),
        request.headers,
        list(request.query_params.multi_items()),
        [],
    )
    return await run_in_threadpool(_decide, request, oauth_request, fields)


def _decide(
    request: Request, oauth_request: StarletteOAuth2Request, fields: dict[str, str]
) -> Response:
    server = _server(request)
    with server.unit_of_work() as session:
        try:
            grant = server.get_consent_grant(oauth_request, end_user=None)
        except OAuth2Error as error:
            return _error_page(request, server, oauth_request, error)
        username = fields.get("username", "").strip()
        if not csrf_valid(request, server.settings, fields.get(CSRF_FIELD)):
            return _consent_page(
                request,
                server,
                grant,
                username=username,
                error="页面已过期，请重试 / The page expired; please try again",
                status_code=400,
            )
        method = fields.get("method", "password")
        if method == "phone-send":
            return _send_code(request, server, grant, session, fields)
        if fields.get("decision") != "allow":
            # RFC 6749 section 4.1.2.1: access_denied - "The resource owner or
            # authorization server denied the request."
            return server.create_authorization_response(oauth_request, grant_user=None, grant=grant)
        if method == "phone-verify":
            return _verify_code(request, server, oauth_request, grant, session, fields)
        try:
            user = service.authenticate(
                session,
                username=username,
                password=fields.get("password", ""),
                settings=server.settings,
            )
        except service.LoginRefused as refused:
            if refused.retry_after:
                return _consent_page(
                    request,
                    server,
                    grant,
                    username=username,
                    error=(
                        f"登录失败次数过多，请 {refused.retry_after} 秒后再试 / Too many failed "
                        f"sign-ins; try again in {refused.retry_after} seconds"
                    ),
                    status_code=429,
                    headers={"Retry-After": str(refused.retry_after)},
                )
            return _consent_page(
                request,
                server,
                grant,
                username=username,
                error=f"用户名或密码错误 / {refused}",
                status_code=401,
            )
        return server.create_authorization_response(oauth_request, grant_user=user, grant=grant)


# -- owners: phone number and one-time code (see wuye/federation/owner_login.py) ----------


def _browser(request: Request, server: AuthorizationServer) -> str:
    from wuye.federation import owner_login
    from wuye.federation.web import CSRF_COOKIE

    return owner_login.browser_binding(server.settings, request.cookies.get(CSRF_COOKIE, ""))


def _send_code(
    request: Request, server: AuthorizationServer, grant: Any, session: Any, fields: dict[str, str]
) -> Response:
    from wuye.federation import owner_login

    raw = fields.get("phone", "")
    try:
        phone = owner_login.normalise_phone(raw)
    except ValueError as exc:
        return _consent_page(
            request,
            server,
            grant,
            error=str(exc),
            status_code=422,
            phone={"step": "phone", "number": raw},
        )
    try:
        challenge = owner_login.request_code(
            session,
            settings=server.settings,
            cipher=request.app.state.pii,
            gateway=request.app.state.sms_gateway,
            phone=phone,
            client_id=grant.client.client_id,
            browser=_browser(request, server),
            address=request.client.host if request.client else "",
        )
    except owner_login.TooManyRequests as exc:
        return _consent_page(
            request,
            server,
            grant,
            error=(
                f"获取验证码过于频繁，请 {exc.retry_after} 秒后再试 / Too many codes requested; "
                f"try again in {exc.retry_after} seconds"
            ),
            status_code=429,
            headers={"Retry-After": str(exc.retry_after)},
            phone={"step": "phone", "number": phone},
        )
    return _consent_page(
        request,
        server,
        grant,
        phone={
            "step": "code",
            "number": phone,
            "masked": owner_login.masked(phone),
            "challenge": challenge.id,
        },
    )


def _verify_code(
    request: Request,
    server: AuthorizationServer,
    oauth_request: StarletteOAuth2Request,
    grant: Any,
    session: Any,
    fields: dict[str, str],
) -> Response:
    from wuye.federation import owner_login

    phone = fields.get("phone", "")
    state = {
        "step": "code",
        "number": phone,
        "masked": owner_login.masked(phone),
        "challenge": fields.get("challenge", ""),
    }
    try:
        found = owner_login.verify_code(
            session,
            settings=server.settings,
            cipher=request.app.state.pii,
            challenge_id=fields.get("challenge", ""),
            code=fields.get("code", ""),
            phone=phone,
            browser=_browser(request, server),
            client_id=grant.client.client_id,
        )
    except owner_login.CodeRefused as exc:
        # Commit the counted attempt: the refusal is an answer, not a failure.
        return _consent_page(request, server, grant, error=str(exc), status_code=401, phone=state)
    chosen = [m for m in found if m.owner_id == fields.get("owner")] if len(found) > 1 else found
    if len(chosen) != 1:
        return _consent_page(
            request,
            server,
            grant,
            phone=state | {"step": "choose", "matches": found},
        )
    user = owner_login.owner_user(session, match=chosen[0])
    owner_login.finish(session, challenge_id=fields["challenge"])
    return server.create_authorization_response(oauth_request, grant_user=user, grant=grant)


def install(app: FastAPI) -> None:
    """Create the authorization server for ``app`` and route ``/oauth/*`` to it."""
    from wuye.federation.owner_login import GATEWAYS

    if getattr(app.state, "sms_gateway", None) is None:
        import os

        app.state.sms_gateway = GATEWAYS[os.environ.get("WUYE_SMS_GATEWAY", "log")]()
    app.state.oauth2_server = AuthorizationServer.create(
        app.state.db, app.state.settings, app.state.token_verifier
    )
    app.include_router(router)

    @app.exception_handler(InsecureTransportError)
    async def _insecure_transport(request: Request, exc: InsecureTransportError) -> JSONResponse:
        # RFC 6749 section 3.1: "The authorization server MUST require the use of TLS"
        # (loopback addresses excepted, RFC 8252 section 7.3). Behind a TLS-terminating
        # proxy, let uvicorn trust its X-Forwarded-Proto (--forwarded-allow-ips).
        return JSONResponse(
            {
                "error": "invalid_request",
                "error_description": "OAuth 2 requires HTTPS (RFC 6749 section 3.1)",
            },
            status_code=400,
            headers={"Cache-Control": "no-store"},
        )
