"""Mock housing provident fund query platform (住房公积金), API key authentication."""

from __future__ import annotations

import hmac
import zlib
from pathlib import Path
from typing import Any

from starlette.requests import Request

from wuye.sandbox.mocks.base import Call, MockPlatform, Refused
from wuye.sandbox.synthetic import is_synthetic_id_number

DEMO_API_KEY = "hpf-sandbox-key"  # noqa: S105 - the sandbox's published demo key


class ProvidentFundPlatform(MockPlatform):
    document = Path(__file__).with_name("hpf.openapi.yaml")
    name = "hpf"
    title = "住房公积金查询 / Housing provident fund"

    def error(self, status: int, message: str) -> dict[str, Any]:
        return {"code": status, "message": message}

    def authenticate(self, request: Request, raw: bytes) -> None:
        given = request.headers.get("X-HPF-Key", "").encode()
        if not hmac.compare_digest(given, DEMO_API_KEY.encode()):
            raise Refused(401, self.error(401, "密钥无效 / bad key"))

    def op_getAccount(self, call: Call):  # noqa: N802 - named after the operationId
        id_number = call.params["id_number"]
        if not is_synthetic_id_number(id_number):  # the sandbox only knows its fake people
            raise Refused(404, self.error(404, "无此账户 / no account"))
        seed = zlib.crc32(id_number.encode())
        return 200, {
            "id_number": id_number,
            "name": "沙箱用户",
            "status": "normal",
            "balance_fen": seed % 50_000_000,
            "monthly_deposit_fen": 100_000 + seed % 400_000,
        }
