"""Mock utility bill payment platform (城市公用事业缴费): SM2-signed requests only."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from starlette.requests import Request

from wuye import crypto
from wuye.openapi.adapters import sm2_signing
from wuye.sandbox.mocks.base import Call, MockPlatform, Refused
from wuye.sandbox.mocks.store import MockStore

#: The sandbox's published demo signing key: the private half is shown in the portal
#: so that developers can try signed calls; it signs nothing outside the sandbox.
DEMO_KEY_ID = "sandbox-demo"
DEMO_PRIVATE_KEY_HEX = "3945208f7b2144b13f36e38ac6d39f95889393692860b51a42fb81ef4df7c5b8"
#: Accounts registered by the sandbox estate's firm: one per house of buildings 1 and 2
#: of the synthetic estate (``wuye.sandbox.seed``: 6 floors of 2 houses a building).
ACCOUNTS = 24
COMMUNITY = "沙箱示范小区（模拟数据）"


def _address(account: int) -> dict[str, str]:
    building, house = divmod(account, 12)
    floor, number = divmod(house, 2)
    return {
        "community": COMMUNITY,
        "building": f"{building + 1}幢",
        "room": f"{floor + 1}{number + 1:02d}",
    }


def _page(rows: list[dict[str, Any]], call: Call) -> dict[str, Any]:
    page, size = call.params["page"], call.params["page_size"]
    return {"items": rows[(page - 1) * size : page * size], "total": len(rows)}


class UtilityPlatform(MockPlatform):
    document = Path(__file__).with_name("utility.openapi.yaml")
    name = "utility"
    title = "公用事业缴费 / Utility bill payment"

    def __init__(self, store: MockStore | None = None, *, seed: int = 11) -> None:
        super().__init__(store)
        demo = crypto.SM2PrivateKey.from_hex(DEMO_PRIVATE_KEY_HEX)
        self.public_keys: dict[str, crypto.SM2PublicKey] = {DEMO_KEY_ID: demo.public_key}
        #: Pages of listBills that fail every time (503), to rehearse a bad page.
        self.broken_pages: set[int] = set()
        rng = random.Random(seed)
        self.accounts: dict[str, dict[str, Any]] = {}
        self.bills: dict[str, dict[str, Any]] = {}
        for account in range(ACCOUNTS):
            account_no = f"33010{account:05d}"
            self.accounts[account_no] = {"account_no": account_no, "address": _address(account)}
            for month, kind in enumerate(("water", "power", "gas"), start=9):
                bill_no = f"B{account_no}{month:02d}{kind[0].upper()}"
                self.bills[bill_no] = {
                    "bill_no": bill_no,
                    "account_no": account_no,
                    "kind": kind,
                    "period": f"2026-{month:02d}",
                    "amount_fen": rng.randrange(2000, 40000),
                    "due_date": f"2026-{month + 1:02d}-25",
                    "status": "unpaid",
                }

    def error(self, status: int, message: str) -> dict[str, Any]:
        return {"code": status, "message": message}

    def authenticate(self, request: Request, raw: bytes) -> None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        try:
            sm2_signing.verify(
                method=request.method,
                path_and_query=target,
                headers=request.headers,
                body=raw,
                public_keys=self.public_keys,
            )
        except ValueError as exc:
            raise Refused(401, self.error(401, f"签名无效 / {exc}")) from None

    def _bill(self, bill_no: str) -> dict[str, Any] | None:
        bill = self.bills.get(bill_no)
        if bill is None:
            return None
        paid = self.store.get(f"paid:{bill_no}")
        return {**bill, "status": "paid" if paid else "unpaid"}

    def op_listAccounts(self, call: Call):  # noqa: N802 - named after the operationId
        return 200, _page(list(self.accounts.values()), call)

    def op_listBills(self, call: Call):  # noqa: N802
        if call.params["page"] in self.broken_pages:
            raise Refused(503, self.error(503, "系统繁忙 / busy"), {"Retry-After": "0"})
        account = call.params.get("account_no")
        numbers = [n for n, b in self.bills.items() if account in (None, b["account_no"])]
        return 200, _page([self._bill(n) for n in numbers], call)

    def op_payBill(self, call: Call):  # noqa: N802
        bill = self._bill(call.params["bill_no"])
        if bill is None:
            raise Refused(404, self.error(404, "账单不存在 / no such bill"))
        if bill["status"] == "paid" or call.body["amount_fen"] != bill["amount_fen"]:
            raise Refused(409, self.error(409, "已缴或金额不符 / paid, or wrong amount"))
        self.store.put(f"paid:{bill['bill_no']}", {"payer_ref": call.body["payer_ref"]})
        return 201, {**bill, "status": "paid"}
