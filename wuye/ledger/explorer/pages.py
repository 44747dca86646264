"""The explorer's web pages under ``/explorer`` (Chinese first, with English).

Pages render on the server (charts are inline SVG); the only script is the package's own
``static/explorer.js``, which polls a running integrity check. Every page reads the node
named by the ``rpc`` query parameter, else the platform's configured ledger, and every
listing is also served as CSV with ``format=csv``.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from wuye.ledger.explorer import charts, service
from wuye.ledger.explorer.client import BadNodeURL, LedgerClient, NodeError, check_url
from wuye.ledger.explorer.decoders import CATEGORIES, yuan
from wuye.ledger.explorer.index import index_for
from wuye.ledger.explorer.integrity import IntegrityBusy, IntegrityJobs
from wuye.ledger.explorer.names import Names
from wuye.ledger.genesis import GenesisError
from wuye.platform import pages as platform_pages

HERE = Path(__file__).parent
PLATFORM_TEMPLATES = Path(platform_pages.__file__).parent / "templates"
templates = Jinja2Templates(directory=[HERE / "templates", PLATFORM_TEMPLATES])
#: Seconds the names read from the database are reused before being read again.
NAMES_TTL = 30.0
EVENTS_PER_PAGE = 100


def default_rpc_url(app: FastAPI) -> str:
    """``app.state.explorer_rpc_url``, else the platform's ledger (the embedded node's port)."""
    configured = getattr(app.state, "explorer_rpc_url", None)
    if configured:
        return str(configured)
    from wuye.platform.settings import EMBEDDED

    settings = app.state.settings
    if settings.ledger_url != EMBEDDED:
        return str(settings.ledger_url)
    return f"http://127.0.0.1:{settings.embedded_ledger_port}"


def default_genesis(app: FastAPI) -> Path | None:
    """The platform's own genesis file, when it has one (the embedded node writes it)."""
    configured = getattr(app.state, "explorer_genesis", None)
    path = (
        Path(configured) if configured else app.state.settings.var_dir / "ledger" / "genesis.json"
    )
    return path if path.exists() else None


class _NamesCache:
    def __init__(self) -> None:
        self.names = Names()
        self.read_at = 0.0
        self.lock = threading.Lock()

    def get(self, app: FastAPI) -> Names:
        database = getattr(app.state, "db", None)
        if database is None:
            return Names()
        with self.lock:
            if time.monotonic() - self.read_at > NAMES_TTL:
                try:
                    self.names = Names.from_database(database)
                except Exception:  # noqa: BLE001 - no database (or no tables): digests only
                    self.names = Names()
                self.read_at = time.monotonic()
            return self.names


def install(app: FastAPI) -> None:
    app.mount("/static/explorer", StaticFiles(directory=HERE / "static"), name="explorer-static")
    app.state.explorer_jobs = IntegrityJobs()
    names_cache = _NamesCache()

    def context_for(request: Request, rpc: str) -> dict[str, Any]:
        default = default_rpc_url(request.app)
        extra = {"rpc": rpc} if rpc != default else {}

        def link(path: str, **params: Any) -> str:
            query = {k: v for k, v in (extra | params).items() if v not in (None, "")}
            return path + ("?" + urlencode(query) if query else "")

        return {
            "rpc": rpc,
            "default_rpc": default,
            "rpc_extra": extra,
            "link": link,
            "yuan": yuan,
            "categories": CATEGORIES,
            "query": dict(request.query_params),
        }

    def allowed_node(request: Request, url: str) -> str:
        """``url`` if the explorer may read it: the platform's ledger, or a node the operator
        listed in ``WUYE_EXPLORER_NODES`` - the server makes the request, so a visitor must not
        make it call just any address."""
        url = check_url(url)
        default = default_rpc_url(request.app)
        if url.rstrip("/") != default.rstrip(
            "/"
        ) and not request.app.state.settings.explorer_allows(url):
            raise BadNodeURL(
                f"节点未获允许 / node not allowed: {url} (list it in WUYE_EXPLORER_NODES)"
            )
        return url

    def context(request: Request) -> dict[str, Any]:
        """The page's context: the node it reads (``rpc``, else the default) and helpers."""
        chosen = request.query_params.get("rpc", "").strip()
        return context_for(
            request, allowed_node(request, chosen) if chosen else default_rpc_url(request.app)
        )

    def client_of(ctx: dict[str, Any]) -> LedgerClient:
        return LedgerClient(ctx["rpc"])

    def page(
        request: Request, name: str, ctx: dict[str, Any], status: int = 200, **extra: Any
    ) -> HTMLResponse:
        return templates.TemplateResponse(request, name, ctx | extra, status_code=status)

    def csv_response(table: service.Table) -> Response:
        return Response(
            table.to_csv(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="wuye-{table.name}.csv"'},
        )

    def wants_csv(request: Request) -> bool:
        return request.query_params.get("format") == "csv"

    @app.exception_handler(NodeError)
    def node_error(request: Request, exc: NodeError) -> HTMLResponse:
        bad_url = isinstance(exc, BadNodeURL)
        ctx = context_for(request, default_rpc_url(request.app)) if bad_url else context(request)
        return page(
            request, "explorer_error.html", ctx, status=400 if bad_url else 502, error=str(exc)
        )

    @app.get("/explorer", include_in_schema=False, response_class=HTMLResponse)
    def explorer_home(request: Request) -> HTMLResponse:
        ctx = context(request)
        client = client_of(ctx)
        info = service.overview(client=client)
        index = index_for(client)
        names = names_cache.get(request.app)
        return page(
            request,
            "explorer_home.html",
            ctx,
            info=info,
            blocks=service.blocks_table(client=client, per_page=10),
            events=service.events_table(events=index.snapshot(), names=names, limit=20),
        )

    @app.get("/explorer/search", include_in_schema=False)
    def explorer_search(request: Request, q: str = "") -> Response:
        ctx = context(request)
        target = service.search_target(client=client_of(ctx), q=q)
        if target:
            return RedirectResponse(ctx["link"](target), status_code=303)
        return RedirectResponse(ctx["link"]("/explorer/events", q=q), status_code=303)

    @app.get("/explorer/blocks", include_in_schema=False)
    def explorer_blocks(
        request: Request, page_no: int = 1, since: str = "", until: str = ""
    ) -> Response:
        ctx = context(request)
        try:
            start, end = service.parse_day(since), service.parse_day(until, end=True)
        except ValueError as exc:
            return page(request, "explorer_error.html", ctx, status=400, error=str(exc))
        table = service.blocks_table(
            client=client_of(ctx),
            page=max(1, page_no),
            since=start,
            until=end,
            everything=wants_csv(request),
        )
        if wants_csv(request):
            return csv_response(table)
        return page(request, "explorer_blocks.html", ctx, table=table, page_no=max(1, page_no))

    @app.get("/explorer/blocks/{number}", include_in_schema=False)
    def explorer_block(request: Request, number: int, listing: str = "transactions") -> Response:
        ctx = context(request)
        client = client_of(ctx)
        detail = service.block_detail(client=client, number=number)
        if detail is None:
            return page(
                request,
                "explorer_error.html",
                ctx,
                status=404,
                error=f"没有区块 #{number} / no block #{number}",
            )
        if wants_csv(request):
            return csv_response(detail["seal_table" if listing == "seals" else "transactions"])
        return page(request, "explorer_block.html", ctx, d=detail)

    @app.get("/explorer/tx/{tx_hash}", include_in_schema=False, response_class=HTMLResponse)
    def explorer_tx(request: Request, tx_hash: str) -> HTMLResponse:
        ctx = context(request)
        if not service.HASH_RE.match(tx_hash):
            return page(
                request,
                "explorer_error.html",
                ctx,
                status=404,
                error="不是交易哈希 / not a transaction hash",
            )
        names = names_cache.get(request.app)
        detail = service.transaction_detail(client=client_of(ctx), tx_hash=tx_hash, names=names)
        if detail is None:
            return page(
                request,
                "explorer_error.html",
                ctx,
                status=404,
                error=f"没有交易 / no transaction {tx_hash}",
            )
        return page(request, "explorer_tx.html", ctx, d=detail, names=names)

    @app.get("/explorer/events", include_in_schema=False)
    def explorer_events(
        request: Request,
        q: str = "",
        estate: str = "",
        unit: str = "",
        firm: str = "",
        category: str = "",
        since: str = "",
        until: str = "",
        from_block: str = "",
        to_block: str = "",
    ) -> Response:
        ctx = context(request)
        names = names_cache.get(request.app)
        try:
            wanted = service.build_filter(
                names=names,
                q=q,
                estate=estate,
                unit=unit,
                firm=firm,
                category=category,
                since=since,
                until=until,
                from_block=from_block,
                to_block=to_block,
            )
        except ValueError as exc:
            return page(request, "explorer_error.html", ctx, status=400, error=str(exc))
        index = index_for(client_of(ctx))
        found = wanted.apply(index.snapshot(), names)
        limit = None if wants_csv(request) else EVENTS_PER_PAGE
        table = service.events_table(events=found, names=names, limit=limit)
        if wants_csv(request):
            return csv_response(table)
        return page(request, "explorer_events.html", ctx, table=table)

    @app.get("/explorer/estates", include_in_schema=False)
    def explorer_estates(request: Request) -> Response:
        ctx = context(request)
        names = names_cache.get(request.app)
        table = service.estates_table(index=index_for(client_of(ctx)), names=names)
        if wants_csv(request):
            return csv_response(table)
        return page(request, "explorer_estates.html", ctx, table=table)

    @app.get("/explorer/estates/{ref}", include_in_schema=False)
    def explorer_estate(request: Request, ref: str, listing: str = "movements") -> Response:
        ctx = context(request)
        names = names_cache.get(request.app)
        if not service.HASH_RE.match(ref):
            found = names.search(ref, ("estate",))
            if len(found) != 1:
                return page(
                    request,
                    "explorer_error.html",
                    ctx,
                    status=404,
                    error=f"没有小区 / no estate {ref}",
                )
            return RedirectResponse(ctx["link"](f"/explorer/estates/{found[0]}"), status_code=303)
        view = service.estate_view(index=index_for(client_of(ctx)), names=names, ref=ref)
        if wants_csv(request):
            return csv_response(view.votes if listing == "votes" else view.movements)
        balance_chart = charts.line_chart(
            "维修资金余额 / Fund balance",
            [charts.Series("余额 balance", view.balance)],
            fmt=_yuan_axis,
        )
        flows_chart = charts.bar_chart(
            "每月收支 / Monthly inflows and outflows",
            view.months,
            [("流入 inflows", view.inflows), ("流出 outflows", view.outflows)],
            fmt=_yuan_axis,
        )
        common_chart = charts.bar_chart(
            "共有部分经营收支 / Common-part income and expenses",
            view.common_months,
            [("收入 income", view.common_income), ("支出 expenses", view.common_expense)],
            fmt=_yuan_axis,
        )
        credit_chart = charts.line_chart(
            "物业企业信用分 / Firms' credit scores",
            [charts.Series(label, points) for label, points in view.firms.items()],
            step=False,
            zero=False,
        )
        return page(
            request,
            "explorer_estate.html",
            ctx,
            view=view,
            balance_chart=balance_chart,
            flows_chart=flows_chart,
            common_chart=common_chart,
            credit_chart=credit_chart,
        )

    @app.get("/explorer/firms", include_in_schema=False)
    def explorer_firms(request: Request) -> Response:
        ctx = context(request)
        names = names_cache.get(request.app)
        index = index_for(client_of(ctx))
        table = service.firms_table(index=index, names=names)
        if wants_csv(request):
            return csv_response(table)
        series = [
            charts.Series(row["name"], service.credit_series(index=index, subject=row["ref"]))
            for row in table.rows[: len(charts.PALETTE)]
        ]
        chart = charts.line_chart("信用分 / Credit scores", series, step=False, zero=False)
        return page(request, "explorer_firms.html", ctx, table=table, chart=chart)

    @app.get("/explorer/firms/{ref}", include_in_schema=False)
    def explorer_firm(request: Request, ref: str) -> Response:
        ctx = context(request)
        names = names_cache.get(request.app)
        if not service.HASH_RE.match(ref):
            return page(
                request,
                "explorer_error.html",
                ctx,
                status=404,
                error=f"没有主体 / no subject {ref}",
            )
        index = index_for(client_of(ctx))
        found = service.build_filter(names=names, firm=ref).apply(index.snapshot(), names)
        table = service.events_table(events=found, names=names)
        table.name = "credit-history"
        if wants_csv(request):
            return csv_response(table)
        chart = charts.line_chart(
            "信用分 / Credit score",
            [charts.Series(names.label(ref), service.credit_series(index=index, subject=ref))],
            step=False,
            zero=False,
        )
        return page(
            request, "explorer_firm.html", ctx, table=table, chart=chart, label=names.label(ref)
        )

    @app.get("/explorer/integrity", include_in_schema=False, response_class=HTMLResponse)
    def explorer_integrity(request: Request) -> HTMLResponse:
        ctx = context(request)
        return page(request, "explorer_integrity.html", ctx, genesis=default_genesis(request.app))

    @app.post("/explorer/integrity", include_in_schema=False)
    def explorer_integrity_start(
        request: Request,
        rpc: str = Form(""),
        genesis: str = Form(""),
        reexecute: bool = Form(False),
    ) -> Response:
        ctx = context(request)
        url = allowed_node(request, rpc) if rpc.strip() else ctx["rpc"]
        jobs: IntegrityJobs = request.app.state.explorer_jobs
        try:
            job = jobs.start(
                url,
                genesis_path=default_genesis(request.app),
                genesis_text=genesis,
                reexecute=reexecute,
            )
        except (GenesisError, IntegrityBusy) as exc:
            return page(request, "explorer_error.html", ctx, status=400, error=str(exc))
        return RedirectResponse(ctx["link"](f"/explorer/integrity/{job.id}"), status_code=303)

    @app.get("/explorer/integrity/{job_id}.json", include_in_schema=False)
    def explorer_integrity_status(request: Request, job_id: str) -> JSONResponse:
        job = request.app.state.explorer_jobs.get(job_id)
        if job is None:
            return JSONResponse({"error": "no such check"}, status_code=404)
        return JSONResponse(job.to_json())

    @app.get("/explorer/integrity/{job_id}", include_in_schema=False, response_class=HTMLResponse)
    def explorer_integrity_job(request: Request, job_id: str) -> HTMLResponse:
        ctx = context(request)
        job = request.app.state.explorer_jobs.get(job_id)
        if job is None:
            return page(
                request,
                "explorer_error.html",
                ctx,
                status=404,
                error="没有这次校验 / no such check",
            )
        return page(request, "explorer_job.html", ctx, job=job)


def _yuan_axis(fen: int) -> str:
    """Axis labels in whole yuan."""
    return f"¥{fen // 100:,}"
