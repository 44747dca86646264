"""The onboarding web page (入驻申请): a plain HTML form, Chinese first with English."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse

from wuye.federation import service
from wuye.federation.models import ApplicationIn
from wuye.federation.web import CSRF_FIELD, csrf_valid, render
from wuye.platform.db import Scope
from wuye.platform.problems import Problem

router = APIRouter(include_in_schema=False)

FIELDS = ("name", "credit_code", "contact_name", "contact_phone", "estates")
LABELS = {
    "name": "企业名称 / Firm name",
    "credit_code": "统一社会信用代码 / Unified social credit code",
    "contact_name": "联系人 / Contact person",
    "contact_phone": "联系电话 / Contact phone",
    "estates": "在管小区 / Estates",
    "form": "表单 / Form",
}


def parse_estates(text: str) -> list[dict[str, str]]:
    """``name | address`` per line; blank lines are skipped."""
    estates = []
    for line in text.splitlines():
        name, _, address = line.partition("|")
        if name.strip():
            estates.append({"name": name.strip(), "address": address.strip()})
    return estates


def _page(request: Request, form: dict[str, str], errors: list[tuple[str, str]], status: int):
    return render(
        request,
        request.app.state.settings,
        "onboarding.html",
        {"form": form, "errors": errors, "labels": LABELS},
        status_code=status,
    )


@router.get("/onboarding")
def onboarding_form(request: Request) -> HTMLResponse:
    return _page(request, dict.fromkeys(FIELDS, ""), [], 200)


@router.post("/onboarding")
async def onboarding_submit(request: Request) -> HTMLResponse:
    raw = await request.form()
    form = {name: str(raw.get(name, "")) for name in FIELDS}
    if not csrf_valid(request, request.app.state.settings, str(raw.get(CSRF_FIELD, ""))):
        return _page(request, form, [("form", "请刷新页面后重试 / reload the page and retry")], 400)
    return await run_in_threadpool(_submit, request, form)


def _submit(request: Request, form: dict[str, str]) -> HTMLResponse:
    try:
        application_in = ApplicationIn(
            name=form["name"],
            credit_code=form["credit_code"],
            contact_name=form["contact_name"],
            contact_phone=form["contact_phone"],
            estates=parse_estates(form["estates"]),
        )
    except ValidationError as exc:
        errors = [
            (str(err["loc"][0]) if err["loc"] else "form", err["msg"].removeprefix("Value error, "))
            for err in exc.errors()
        ]
        return _page(request, form, errors, 422)
    database = request.app.state.db
    try:
        with database.transaction(Scope.for_host()) as session:
            application = service.apply(
                session, application_in=application_in, settings=request.app.state.settings
            )
    except Problem as problem:
        field = str(problem.extensions.get("field", "form"))
        return _page(request, form, [(field, problem.detail or problem.title)], problem.status)
    return render(
        request,
        request.app.state.settings,
        "onboarding_done.html",
        {"application": application},
        status_code=201,
    )
