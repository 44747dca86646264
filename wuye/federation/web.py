"""Federation's web pages: Jinja2 templates served from the package, and CSRF protection
for their forms.

CSRF uses a signed double submit: a random value in an HttpOnly, SameSite=Strict
cookie, and in each form the HMAC of that value under a key derived from the
platform secret. A cross-site form can neither read the cookie nor forge the HMAC.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from wuye.federation.sealing import derive_key
from wuye.platform.settings import Settings

CSRF_COOKIE = "wuye_csrf"
CSRF_FIELD = "csrf_token"
TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
#: Pages must not be framed (clickjacking on the consent page), nor cached.
PAGE_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
    "frame-ancestors 'none'; form-action 'self' http: https:",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}


def _sign(settings: Settings, nonce: str) -> str:
    key = derive_key(settings.secret_bytes(), "csrf")
    return hmac.new(key, nonce.encode(), hashlib.sha256).hexdigest()


def csrf_valid(request: Request, settings: Settings, submitted: str | None) -> bool:
    nonce = request.cookies.get(CSRF_COOKIE)
    if not nonce or not submitted:
        return False
    return hmac.compare_digest(_sign(settings, nonce), submitted)


def render(
    request: Request,
    settings: Settings,
    template: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render ``template`` with a CSRF token for its forms, setting the cookie if new."""
    nonce = request.cookies.get(CSRF_COOKIE)
    fresh = not nonce
    if fresh:
        nonce = secrets.token_urlsafe(24)
    assert nonce is not None
    html = TEMPLATES.get_template(template).render(
        **context, csrf_field=CSRF_FIELD, csrf_token=_sign(settings, nonce)
    )
    response = HTMLResponse(
        html, status_code=status_code, headers={**PAGE_HEADERS, **(headers or {})}
    )
    if fresh:
        response.set_cookie(
            CSRF_COOKIE,
            nonce,
            httponly=True,
            samesite="strict",
            secure=settings.public_url.startswith("https://"),
            path="/",
        )
    return response
