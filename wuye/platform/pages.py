"""Web pages of the platform itself (Chinese first, with English), served from the package."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

import wuye

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=HERE / "templates")


def install(app: FastAPI) -> None:
    app.mount("/static/wuye", StaticFiles(directory=HERE / "static"), name="wuye-static")

    @app.get("/", include_in_schema=False, response_class=HTMLResponse)
    def home(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(
            request, "home.html", {"version": wuye.__version__, "links": entry_points()}
        )


def entry_points() -> list[tuple[str, str, str]]:
    """(path, 中文, English) of the pages a visitor starts from; also printed by `wuye run`."""
    return [
        ("/", "平台首页", "Home"),
        ("/docs", "开放接口文档", "API reference (Swagger UI)"),
        ("/openapi.json", "OpenAPI 契约", "OpenAPI document"),
        ("/onboarding", "物业企业入驻申请", "Onboarding for member firms"),
        ("/votes", "业主电子投票", "Owners' votes and receipts"),
        ("/fund", "专项维修资金（业主查询）", "Maintenance fund (owners)"),
        ("/credit/firms", "物业企业信用评价", "Firms' credit ratings"),
        ("/explorer", "区块链浏览器（监管审计）", "Ledger explorer for regulators"),
        ("/developer", "开发者门户（沙箱）", "Developer portal (sandbox)"),
        ("/.well-known/oauth-authorization-server", "OAuth 2 元数据", "OAuth 2 metadata"),
    ]
