"""Sandbox keys come from the platform's own dynamic client registration (RFC 7591):
the portal presents an initial access token of the new sandbox tenant to the
authorization server's registration endpoint, in process, exactly as a developer's
own ``POST /oauth/register`` would."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.datastructures import Headers

from wuye.federation.oauth2.server import AuthorizationServer, StarletteJsonRequest
from wuye.platform.problems import Problem

#: ``register(initial_access_token, client_metadata) -> client information response``
Registrar = Callable[[str, dict[str, Any]], dict[str, Any]]


def registrar(server: AuthorizationServer) -> Registrar:
    """A :data:`Registrar` that calls ``server``'s RFC 7591 endpoint."""

    def register(initial_access_token: str, client_metadata: dict[str, Any]) -> dict[str, Any]:
        url = server.settings.public_url.rstrip("/") + "/oauth/register"
        headers = Headers(
            {
                "authorization": f"Bearer {initial_access_token}",
                "content-type": "application/json",
            }
        )
        request = StarletteJsonRequest("POST", url, headers, client_metadata)
        with server.unit_of_work():
            response = server.create_endpoint_response("client_registration", request)
        body = json.loads(bytes(response.body) or b"{}")
        # RFC 7591 section 3.2.1: "the authorization server returns an HTTP 201 Created"
        if response.status_code != 201:
            raise Problem(
                "bad-request",
                f"registration refused: {body.get('error')}: {body.get('error_description', '')}",
            )
        return body

    return register
