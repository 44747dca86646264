"""Mock community e-commerce platform: OAuth 2 client credentials (RFC 6749 section 4.4).

Its access tokens are self-contained (expiry and an HMAC), and its orders live in
the mock's store, so any worker serving it answers the same.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from wuye.sandbox.mocks.base import Call, MockPlatform, Refused
from wuye.sandbox.mocks.store import MockStore

DEMO_CLIENT_ID = "wuye-sandbox"
DEMO_CLIENT_SECRET = "ecommerce-sandbox-secret"  # noqa: S105 - the sandbox's published demo
TOKEN_SECONDS = 600
_TOKEN_KEY = hashlib.sha256(b"wuye/sandbox/ecommerce-mock/" + DEMO_CLIENT_SECRET.encode()).digest()


def _mac(payload: str) -> str:
    return hmac.new(_TOKEN_KEY, payload.encode(), hashlib.sha256).hexdigest()[:32]


class EcommercePlatform(MockPlatform):
    document = Path(__file__).with_name("ecommerce.openapi.yaml")
    name = "ecommerce"
    title = "社区电商 / Community e-commerce"

    def __init__(self, store: MockStore | None = None) -> None:
        super().__init__(store)

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
            payload = f"{int(time.time()) + TOKEN_SECONDS}.{secrets.token_hex(8)}"
            return JSONResponse(
                {
                    "access_token": f"{payload}.{_mac(payload)}",
                    "token_type": "Bearer",
                    "expires_in": TOKEN_SECONDS,
                    "scope": "orders",
                }
            )

        return [Route("/oauth/token", token, methods=["POST"])]

    def authenticate(self, request: Request, raw: bytes) -> None:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        payload, _, mac = value.rpartition(".")
        expires = payload.split(".", 1)[0]
        valid = (
            scheme.lower() == "bearer"
            and expires.isdigit()
            and hmac.compare_digest(_mac(payload), mac)
            and int(expires) > time.time()
        )
        if not valid:
            raise Refused(
                401,
                self.error(401, "令牌无效 / invalid token"),
                {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )

    def op_createOrder(self, call: Call):  # noqa: N802 - named after the operationId
        ref = call.body["external_ref"]
        placed = self.store.get(f"ref:{ref}")
        if placed is not None:
            return 200, self.store.get(f"order:{placed['order_no']}")
        order_no = f"EC{secrets.token_hex(5).upper()}"
        order = {"order_no": order_no, "status": "placed", **call.body}
        self.store.put(f"order:{order_no}", order)
        self.store.put(f"ref:{ref}", {"order_no": order_no})
        return 201, order

    def op_getOrder(self, call: Call):  # noqa: N802
        order = self.store.get(f"order:{call.params['order_no']}")
        if order is None:
            raise Refused(404, self.error(404, "无此订单 / no such order"))
        return 200, order
