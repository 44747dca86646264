"""Public credit pages (信用公示), Chinese first with English, rendered on the server.

``/credit/model`` explains the scoring model from :mod:`wuye.ledger.credit.scoring`'s
own constants (page and code cannot disagree); ``/credit/firms`` lists rated firms;
``/credit/firms/{tenant_id}`` is a firm's profile with its score history drawn as an
inline SVG line chart. No script is needed to read any of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from wuye.ledger.credit import scoring, service
from wuye.platform import pages as platform_pages
from wuye.platform.db import Scope
from wuye.platform.problems import Problem

HERE = Path(__file__).parent
PLATFORM_TEMPLATES = Path(platform_pages.__file__).parent / "templates"
templates = Jinja2Templates(directory=[HERE / "templates", PLATFORM_TEMPLATES])

COMPONENT_LABELS = {
    "sla": ("工单时效", "work-order SLA"),
    "complaints": ("投诉处理", "complaints"),
    "satisfaction": ("业主满意度", "residents' satisfaction"),
    "regulatory": ("监管记录", "regulators' record"),
}
OUTCOME_LABELS = {
    "unfounded": ("经核实不成立", "found groundless"),
    "resolved": (
        f"{scoring.COMPLAINT_RESOLVE_DAYS} 日内办结且业主认可",
        "resolved in time, accepted",
    ),
    "resolved_unaccepted": (
        f"{scoring.COMPLAINT_RESOLVE_DAYS} 日内办结但业主不认可",
        "resolved in time, not accepted",
    ),
    "late": (f"超过 {scoring.COMPLAINT_RESOLVE_DAYS} 日办结", "resolved late"),
    "open": ("评分时仍未办结", "still open when scored"),
}
PENALTY_LABELS = {1: "轻微 minor", 2: "一般 general", 3: "严重 serious"}
COMMENDATION_LABELS = {1: "市级 city", 2: "省级 province"}


def model_context() -> dict[str, Any]:
    """Everything the model page shows, read from the scoring module."""
    return {
        "version": scoring.MODEL_ID,
        "max_score": scoring.MAX_SCORE,
        "weights": [
            {"key": k, "zh": COMPONENT_LABELS[k][0], "en": COMPONENT_LABELS[k][1], "weight": w}
            for k, w in scoring.WEIGHTS.items()
        ],
        "weight_total": sum(scoring.WEIGHTS.values()),
        "s": scoring,
        "outcomes": [
            {"key": k, "zh": OUTCOME_LABELS[k][0], "en": OUTCOME_LABELS[k][1], "points": p}
            for k, p in scoring.COMPLAINT_POINTS.items()
        ],
        "penalties": [(PENALTY_LABELS[k], p) for k, p in scoring.PENALTY_POINTS.items()],
        "commendations": [
            (COMMENDATION_LABELS[k], p) for k, p in scoring.COMMENDATION_POINTS.items()
        ],
        "grades": scoring.GRADES,
        "stars": [(s, (s - 1) * scoring.STAR_POINTS) for s in range(1, 6)],
        "record_fields": scoring.RECORD_FIELDS,
    }


def line_chart(
    labels: list[str], series: list[tuple[str, str, list[int]]], *, width: int = 720
) -> Markup:
    """An inline SVG line chart: x = labels, one polyline per (name, colour, values)."""
    height, left, right, top, bottom = 260, 48, 40, 16, 44
    values = [v for _, _, vs in series for v in vs]
    if not labels or not values:
        return Markup('<p class="empty">暂无评分 / no scores yet</p>')
    lo = min(0, (min(values) // 100) * 100) if min(values) < 500 else 500
    hi = max(scoring.MAX_SCORE, -(-max(values) // 100) * 100)
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(i: int) -> float:
        return left + (plot_w * i / (len(labels) - 1) if len(labels) > 1 else plot_w / 2)

    def y(v: int) -> float:
        return top + plot_h * (hi - v) / (hi - lo)

    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="信用分走势 / score history">'
    ]
    for v in range(lo, hi + 1, 100):
        parts.append(
            f'<line x1="{left}" y1="{y(v):.1f}" x2="{width - right}" y2="{y(v):.1f}" '
            'stroke="#ddd"/>'
            f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end" font-size="11">{v}</text>'
        )
    for i, label in enumerate(labels):
        parts.append(
            f'<text x="{x(i):.1f}" y="{height - bottom + 16}" text-anchor="middle" '
            f'font-size="11">{escape(label)}</text>'
        )
    for n, (name, colour, vs) in enumerate(series):
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(vs))
        parts.append(
            f'<polyline class="series" fill="none" stroke="{colour}" stroke-width="2" '
            f'points="{points}"/>'
        )
        for i, v in enumerate(vs):
            parts.append(
                f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}">'
                f"<title>{escape(labels[i])} {escape(name)}: {v}</title></circle>"
            )
        parts.append(
            f'<text x="{left + 8 + 180 * n}" y="{height - 8}" font-size="12" fill="{colour}">'
            f"— {escape(name)}</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it went through escape()


def install(app: FastAPI) -> None:
    def page(request: Request, name: str, **context: Any) -> HTMLResponse:
        return templates.TemplateResponse(request, name, context)

    @app.get("/credit/model", include_in_schema=False, response_class=HTMLResponse)
    def model_page(request: Request) -> HTMLResponse:
        return page(request, "credit_model.html", **model_context())

    @app.get("/credit/firms", include_in_schema=False, response_class=HTMLResponse)
    def firms_page(request: Request) -> HTMLResponse:
        with request.app.state.db.transaction(Scope.for_host()) as session:
            firms = service.firms_overview(session=session)
        return page(request, "credit_firms.html", firms=firms)

    @app.get("/credit/firms/{tenant_id}", include_in_schema=False, response_class=HTMLResponse)
    def profile_page(request: Request, tenant_id: str) -> HTMLResponse:
        try:
            with request.app.state.db.transaction(Scope.for_host()) as session:
                profile = service.profile(session=session, tenant_id=tenant_id)
        except Problem:
            return HTMLResponse("<!doctype html><p>未找到该企业 / firm not found</p>", 404)
        history = profile.history
        chart = line_chart(
            [h.period for h in history],
            [
                ("计算分 computed", "#2563eb", [h.computed for h in history]),
                ("有效分 effective", "#dc2626", [h.effective for h in history]),
            ],
        )
        return page(
            request,
            "credit_profile.html",
            profile=profile,
            chart=chart,
            labels=COMPONENT_LABELS,
            latest=history[-1] if history else None,
        )
