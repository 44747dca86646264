"""The maintenance-fund page for owners and staff (Chinese first, with English).

The page calls the fund API with the caller's access token (kept in the tab's
sessionStorage, as the votes pages do): an owner sees their own unit's account
and the estate's flows; the monthly disclosure downloads as CSV or PDF.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from wuye.platform import pages as platform_pages

HERE = Path(__file__).parent
templates = Jinja2Templates(
    directory=[HERE / "templates", Path(platform_pages.__file__).parent / "templates"]
)


def install(app: FastAPI) -> None:
    @app.get("/fund", include_in_schema=False, response_class=HTMLResponse)
    def fund_page(request: Request) -> HTMLResponse:
        return templates.TemplateResponse(request, "fund.html", {})
