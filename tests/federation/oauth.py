"""Helpers that act as the user's browser on the sign-in and consent page."""

from __future__ import annotations

import html
import re

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client

from .conftest import PASSWORD, Live

REDIRECT_URI = "http://127.0.0.1:9/callback"


def consent_form(browser: httpx.Client, url: str) -> tuple[str, str]:
    """GET the authorization page; returns (form action, CSRF token)."""
    page = browser.get(url)
    assert page.status_code == 200, page.text
    action = re.search(r'<form method="post" action="([^"]+)"', page.text)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert action and csrf, page.text
    return html.unescape(action.group(1)), csrf.group(1)


def sign_in(
    live: Live,
    url: str,
    username: str,
    *,
    password: str = PASSWORD,
    decision: str = "allow",
    browser: httpx.Client | None = None,
) -> httpx.Response:
    """Open the authorization URL, sign in and answer; returns the POST's response."""
    own = browser is None
    browser = browser or live.http()
    try:
        action, csrf = consent_form(browser, url)
        return browser.post(
            action,
            data={
                "csrf_token": csrf,
                "username": username,
                "password": password,
                "decision": decision,
            },
        )
    finally:
        if own:
            browser.close()


def authorization_code_flow(live: Live, oauth: OAuth2Client, username: str) -> dict[str, object]:
    """The whole authorization code + PKCE flow; returns the token response."""
    verifier = generate_token(48)
    url, state = oauth.create_authorization_url(
        f"{live.url}/oauth/authorize", code_verifier=verifier
    )
    answer = sign_in(live, url, username)
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(REDIRECT_URI + "?") and f"state={state}" in location
    return oauth.fetch_token(
        f"{live.url}/oauth/token", authorization_response=location, code_verifier=verifier
    )
