"""Mock housing provident fund platform (住房公积金), API key authentication: an owner's
account by ID number, and the owners' authorisations to pay property fees from their fund
with the transfers made under them (提取住房公积金支付物业费)."""

from __future__ import annotations

import hmac
import zlib
from pathlib import Path
from typing import Any

from starlette.requests import Request

from wuye.sandbox.mocks.base import Call, MockPlatform, Refused
from wuye.sandbox.mocks.store import MockStore
from wuye.sandbox.synthetic import is_synthetic_id_number

DEMO_API_KEY = "hpf-sandbox-key"  # noqa: S105 - the sandbox's published demo key
COMMUNITY = "沙箱示范小区（模拟数据）"
#: Houses of building 3 of the sandbox's synthetic estate whose owners pay the yearly
#: property fee from their fund; the last authorisation was revoked before any transfer.
AUTHORISED_ROOMS = ("101", "102", "201", "202", "301", "302")
#: The fee year the transfers pay; the sandbox seed bills its property fees for it.
FEE_YEAR = "2026"


def _authorisations() -> list[dict[str, Any]]:
    return [
        {
            "authorisation_no": f"WT2026{i:04d}",
            "house": {"community": COMMUNITY, "building": "3幢", "room": room},
            "status": "revoked" if i == len(AUTHORISED_ROOMS) else "active",
            "since": f"2026-0{1 + i % 3}-15",
        }
        for i, room in enumerate(AUTHORISED_ROOMS, start=1)
    ]


def _transfers(authorisations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        {
            "transfer_no": f"HK2026{i:06d}",
            "authorisation_no": a["authorisation_no"],
            "period": FEE_YEAR,
            "amount_fen": 120_000 + 6_000 * i,
            "transferred_at": f"2026-03-{10 + i:02d}T09:30:00+08:00",
        }
        for i, a in enumerate(authorisations, start=1)
        if a["status"] == "active"
    ]


def _page(rows: list[dict[str, Any]], call: Call) -> dict[str, Any]:
    page, size = call.params["page"], call.params["page_size"]
    return {"items": rows[(page - 1) * size : page * size], "total": len(rows)}


class ProvidentFundPlatform(MockPlatform):
    document = Path(__file__).with_name("hpf.openapi.yaml")
    name = "hpf"
    title = "住房公积金查询 / Housing provident fund"

    def __init__(self, store: MockStore | None = None) -> None:
        super().__init__(store)
        self.authorisations = _authorisations()
        self.transfers = _transfers(self.authorisations)

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

    def op_listAuthorisations(self, call: Call):  # noqa: N802
        return 200, _page(self.authorisations, call)

    def op_listTransfers(self, call: Call):  # noqa: N802
        return 200, _page(self.transfers, call)
