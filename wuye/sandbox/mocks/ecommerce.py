"""Mock community e-commerce platform: OAuth 2 client credentials (RFC 6749 section 4.4)."""

from __future__ import annotations

import base64
import hmac
import itertools
import secrets
import time
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from wuye.sandbox.mocks.base import Call, MockPlatform, Refused

DEMO_CLIENT_ID = "wuye-sandbox"
DEMO_CLIENT_SECRET = "ecommerce-sandbox-secret"  # noqa: S105 - the sandbox's published demo


class EcommercePlatform(MockPlatform):
    document = Path(__file__).with_name("ecommerce.openapi.yaml")
    name = "ecommerce"
    title = "社区电商 / Community e-commerce"

    def __init__(self) -> None:
        super().__init__()
        self.tokens: dict[str, float] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self._numbers = itertools.count(1)

    def error(self, status: int, message: str) -> dict[str, Any]:
        return {"code": status, "message": message}

    def extra_routes(self) -> list[Route]:
        async def token(request: Request) -> Response:
            form = await request.form()
            client_id, secret = str(form.get("client_id", "")), str(form.get("client_secret", ""))
            scheme, _, value = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() == "basic":
                client_id, _, secret = base64.b64decode(value).decode().partition(":")
            ok = hmac.compare_digest(client_id.encode(), DEMO_CLIENT_ID.encode()) and (
                hmac.compare_digest(secret.encode(), DEMO_CLIENT_SECRET.encode())
            )
            if form.get("grant_type") != "client_credentials" or not ok:
                return JSONResponse({"error": "invalid_client"}, 401)
            access = secrets.token_urlsafe(24)
            self.tokens[access] = time.time() + 600
            return JSONResponse(
                {
                    "access_token": access,
                    "token_type": "Bearer",
                    "expires_in": 600,
                    "scope": "orders",
                }
            )

        return [Route("/oauth/token", token, methods=["POST"])]

    def authenticate(self, request: Request, raw: bytes) -> None:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or self.tokens.get(value, 0) < time.time():
            raise Refused(
                401,
                self.error(401, "令牌无效 / invalid token"),
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )

    def op_createOrder(self, call: Call):  # noqa: N802 - named after the operationId
        for order in self.orders.values():
            if order["external_ref"] == call.body["external_ref"]:
                return 200, order
        order_no = f"EC{next(self._numbers):08d}"
        self.orders[order_no] = {"order_no": order_no, "status": "placed", **call.body}
        return 201, self.orders[order_no]

    def op_getOrder(self, call: Call):  # noqa: N802
        order = self.orders.get(call.params["order_no"])
        if order is None:
            raise Refused(404, self.error(404, "无此订单 / no such order"))
        return 200, order
