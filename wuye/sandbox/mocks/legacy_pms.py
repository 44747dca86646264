"""A small firm's old property-management system (安居宝 AJB-PMS), served from its own
OpenAPI document with its own field names, for onboarding that firm's estates.

Faults can be switched on to rehearse a bad day: ``flaky`` answers every n-th
request with 503, and ``down_after`` makes the system go down after that many
requests (an import that stops halfway).
"""

from __future__ import annotations

import hmac
import random
from pathlib import Path
from typing import Any

from starlette.requests import Request

from wuye.sandbox.mocks.base import Call, MockPlatform, Refused
from wuye.sandbox.mocks.store import MockStore
from wuye.sandbox.synthetic import SyntheticPeople

DOCUMENT = Path(__file__).parents[2] / "openapi" / "mappings" / "legacy-pms.openapi.yaml"


class LegacyPropertySystem(MockPlatform):
    document = DOCUMENT
    name = "legacy-pms"
    title = "小型物业企业旧系统 / A small firm's legacy property system"

    def __init__(
        self, store: MockStore | None = None, *, api_key: str = "ajb-demo-key", seed: int = 7
    ) -> None:
        super().__init__(store)
        self.api_key = api_key
        self.flaky: int | None = None
        self.down_after: int | None = None
        self.tables = _build(seed)

    def error(self, status: int, message: str) -> dict[str, Any]:
        return {"code": status, "msg": message}

    def authenticate(self, request: Request, raw: bytes) -> None:
        if self.down_after is not None and self.requests > self.down_after:
            raise Refused(503, self.error(503, "系统维护中"))
        if self.flaky and self.requests % self.flaky == 0:
            raise Refused(503, self.error(503, "服务繁忙"), {"Retry-After": "0"})
        given = request.headers.get("X-AJB-AppKey", "")
        if not hmac.compare_digest(given.encode(), self.api_key.encode()):
            raise Refused(401, self.error(401, "AppKey 无效"))

    def _page(self, table: str, call: Call) -> tuple[int, dict[str, Any]]:
        rows = self.tables[table]
        page, size = call.params["pageNo"], call.params["pageSize"]
        window = rows[(page - 1) * size : page * size]
        return 200, {"code": 0, "msg": "ok", "data": {"total": len(rows), "rows": window}}

    def op_listXiaoqu(self, call: Call):  # noqa: N802 - named after the operationId
        return self._page("xiaoqu", call)

    def op_listLouyu(self, call: Call):  # noqa: N802
        return self._page("louyu", call)

    def op_listFangwu(self, call: Call):  # noqa: N802
        return self._page("fangwu", call)

    def op_listYezhu(self, call: Call):  # noqa: N802
        return self._page("yezhu", call)

    def op_listBaoxiu(self, call: Call):  # noqa: N802
        return self._page("baoxiu", call)


def _build(seed: int) -> dict[str, list[dict[str, Any]]]:
    rng = random.Random(seed)
    people = SyntheticPeople(seed=seed, phone_block=8000)
    estates = [
        ("XQ001", "翠苑一区", "杭州", "西湖区", "文三路 478 号", 30.2870, 120.1330),
        ("XQ002", "古荡新村", "杭州", "西湖区", "古墩路 12 号", 30.2810, 120.1170),
    ]
    tables: dict[str, list[dict[str, Any]]] = {
        k: [] for k in ("xiaoqu", "louyu", "fangwu", "yezhu", "baoxiu")
    }
    for xqbh, xqmc, city, district, address, lat, lon in estates:
        tables["xiaoqu"].append(
            {
                "xqbh": xqbh,
                "xqmc": xqmc,
                "szcs": city,
                "szqx": district,
                "xxdz": address,
                "wd": lat,
                "jd": lon,
            }
        )
        for b in (1, 2):
            lybh = f"{xqbh}-LY{b:02d}"
            tables["louyu"].append({"lybh": lybh, "xqbh": xqbh, "lymc": f"{b}幢", "zcs": 5})
            for floor in range(1, 6):
                for u in (1, 2):
                    tables["fangwu"].append(
                        {
                            "fwbh": f"{lybh}-{floor}{u:02d}",
                            "lybh": lybh,
                            "fh": f"{floor}{u:02d}",
                            "lc": floor,
                            "jzmj": rng.choice(("76.45", "89.10", "102.33", "118.60")),
                            "yt": "住宅",
                        }
                    )
    for i, unit in enumerate(tables["fangwu"][:-4]):
        person = people.next()
        tables["yezhu"].append(
            {
                "yzbh": f"YZ{i + 1:05d}",
                "xm": person.name,
                "sjh": person.phone,
                "sfzh": person.id_number,
                "fwbh": [unit["fwbh"]],
            }
        )
    # What old systems hold: a mistyped phone number, which the import must report.
    tables["yezhu"][5]["sjh"] = "1380013800"
    for i, (xqbh, title, urgency) in enumerate(
        [
            ("XQ001", "2幢电梯异响", "紧急"),
            ("XQ001", "地下车库照明损坏", "一般"),
            ("XQ002", "1幢屋顶渗水", "特急"),
        ]
    ):
        tables["baoxiu"].append(
            {
                "bxbh": f"BX2024{i + 1:04d}",
                "xqbh": xqbh,
                "bt": title,
                "nr": title + "，业主报修",
                "jjcd": urgency,
            }
        )
    return tables
