"""Request plans answer every request exactly as FastAPI's own handler does.

Every GET route of the API is called twice with the same request: once through its
request plan, once through FastAPI's handler (an app with a dependency override always
takes FastAPI's). Valid and invalid queries, missing, bad and under-scoped tokens: the
status, the body and the headers that matter must be the same.
"""

from __future__ import annotations

import re
import threading
import time

import pytest
from fastapi import APIRouter, Body, Depends, FastAPI, Header, Query, Request
from fastapi.testclient import TestClient

from tests.factories import make_tenant
from tests.platform.test_isolation_every_route import _graph, _routes
from wuye.platform import fastpath
from wuye.platform.deps import Context, UnitOfWorkRoute, scoped
from wuye.platform.listing import ListParams, list_params
from wuye.platform.settings import Settings

#: Queries every list route is asked with, valid and not.
QUERIES = [
    {},
    {"limit": "2"},
    {"limit": "2", "offset": "1", "sort": "-created_at"},
    {"limit": "0"},
    {"limit": "abc"},
    {"limit": ""},
    {"offset": "-1"},
    {"sort": "no_such_field"},
    {"limit": "501"},
]


def _unused_dependency() -> None:  # pragma: no cover - never called
    return None


def _both(client, method: str, url: str, **kwargs):
    """The answer through the plan, and FastAPI's answer to the same request."""
    app = client.app
    planned = client.request(method, url, **kwargs)
    app.dependency_overrides[_unused_dependency] = _unused_dependency
    try:
        standard = client.request(method, url, **kwargs)
    finally:
        app.dependency_overrides.clear()
    return planned, standard


def _clock_free(value):
    """``value`` with times in milliseconds near now masked: some answers are relative
    to the moment of the request (the last day of readings, say)."""
    if isinstance(value, dict):
        return {k: _clock_free(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clock_free(v) for v in value]
    if isinstance(value, int) and abs(value - time.time() * 1000) < 2 * 86_400_000:
        return "NOW"
    return value


def _same(planned, standard, what: str) -> None:
    assert planned.status_code == standard.status_code, (
        f"{what}: {planned.status_code} {planned.text} != {standard.status_code} {standard.text}"
    )
    json_body = "json" in planned.headers.get("content-type", "")
    if planned.content != standard.content and json_body:
        assert _clock_free(planned.json()) == _clock_free(standard.json()), (
            f"{what}: {planned.text} != {standard.text}"
        )
    # Other media (a PDF disclosure, say) carry the moment they were made.
    for header in ("content-type", "www-authenticate", "allow"):
        assert planned.headers.get(header) == standard.headers.get(header), f"{what}: {header}"


@pytest.fixture
def settings(tmp_path) -> Settings:
    """No ledger: the routes that need one answer 409, the same through either handler."""
    return Settings(
        var_dir=tmp_path / "var",
        secret_key="test-secret-key-0123456789",
        ledger_url="off",
        sandbox_ledger_url="off",
    )


@pytest.fixture
def counted(monkeypatch):
    """How many requests each plan solved."""
    solved: list[str] = []
    original = fastpath.Plan.solve

    async def solve(self, request):
        solved.append(request.url.path)
        return await original(self, request)

    monkeypatch.setattr(fastpath.Plan, "solve", solve)
    return solved


def test_every_get_route_answers_as_fastapi_does(app, client, database, token_for, counted):
    tenant = make_tenant(database)
    headers = token_for(tenant)
    ids = _graph(client, headers)
    narrow = token_for(tenant, "telemetry:read")
    checked = 0
    for path, method, op in _routes(app):
        if method != "GET":
            continue
        url = path.format(**{p: ids.get(p, "0" * 32) for p in re.findall(r"{(\w+)}", path)})
        names = {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}
        queries = [q for q in QUERIES if set(q) <= names] or [{}]
        queries += [{name: ids[name]} for name in names if name in ids]
        queries += [{name: "x" * 40} for name in names if name not in ids]
        for query in queries:
            planned, standard = _both(client, "GET", url, params=query, headers=headers)
            _same(planned, standard, f"GET {url} {query}")
            checked += 1
        for bad in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic x"}):
            planned, standard = _both(client, "GET", url, headers=bad)
            _same(planned, standard, f"GET {url} with {bad}")
        planned, standard = _both(client, "GET", url, headers=narrow)
        _same(planned, standard, f"GET {url} with a narrow token")
    assert checked >= 60
    # Most GET routes of the API run by their plans (the rest keep FastAPI's handler).
    planned_paths = {p for p in counted}
    assert len(planned_paths) >= 40, sorted(planned_paths)
    assert "/api/v1/units" in planned_paths and f"/api/v1/estates/{ids['estate_id']}" in (
        planned_paths
    )


def test_a_foreign_object_and_a_missing_route_answer_as_fastapi_does(client, database, token_for):
    headers_a = token_for(make_tenant(database))
    ids_b = _graph(client, token_for(make_tenant(database)))
    for url in (
        f"/api/v1/units/{ids_b['unit_id']}",
        f"/api/v1/estates/{ids_b['estate_id']}",
        "/api/v1/units/",
        "/api/v1/no-such-thing",
    ):
        planned, standard = _both(client, "GET", url, headers=headers_a)
        _same(planned, standard, url)
    planned, standard = _both(client, "PUT", "/api/v1/units", headers=headers_a)
    _same(planned, standard, "PUT /api/v1/units")
    assert planned.status_code == 405
    for method in ("HEAD", "OPTIONS"):
        planned, standard = _both(client, method, "/api/v1/units", headers=headers_a)
        _same(planned, standard, f"{method} /api/v1/units")


def _route_of(router: APIRouter, path: str):
    app = FastAPI()
    app.include_router(router)
    (route,) = [r for r in router.routes if r.path == path]
    return route


def test_routes_a_plan_cannot_keep_have_none():
    router = APIRouter(route_class=UnitOfWorkRoute)

    @router.get("/header")
    def with_header(x_thing: str = Header(), ctx: Context = scoped("estates:read")) -> dict:
        return {}

    @router.get("/many")
    def with_list(tag: list[str] = Query([]), ctx: Context = scoped("estates:read")) -> dict:
        return {}

    @router.post("/body")
    def with_body(value: int = Body(embed=True), ctx: Context = scoped("estates:write")) -> dict:
        return {}

    def sync_dependency() -> int:
        return 1

    @router.get("/sync-dep")
    def with_sync_dependency(n: int = Depends(sync_dependency)) -> dict:
        return {}

    @router.get("/plain")
    def plain(
        request: Request,
        estate_id: str | None = None,
        params: ListParams = Depends(list_params),
        ctx: Context = scoped("estates:read"),
    ) -> dict:
        return {}

    @router.get("/factory")
    def with_factory(
        at: float = Query(default_factory=time.time), ctx: Context = scoped("estates:read")
    ) -> dict:
        return {}

    async def limited() -> int:
        return 1

    @router.get("/limited")
    def with_limited(n: int = Depends(limited, max_concurrency=1)) -> dict:
        return {}

    for path in ("/header", "/many", "/body", "/sync-dep", "/factory", "/limited"):
        assert fastpath.compile_plan(_route_of(router, path)) is None, path
    plan = fastpath.compile_plan(_route_of(router, "/plain"))
    assert plan is not None
    assert [v.name for v in plan.values] == ["estate_id"]
    assert [s.name for s in plan.steps] == ["params", "ctx"]
    assert plan.request_param == "request"


@pytest.fixture
def units_threads(monkeypatch) -> list[str]:
    """The thread each unit list ran in."""
    from wuye.platform.estates import service

    threads: list[str] = []
    original = service.units_query

    def units_query(**kwargs):
        threads.append(threading.current_thread().name)
        return original(**kwargs)

    monkeypatch.setattr(service, "units_query", units_query)
    return threads


def test_a_short_read_runs_on_the_event_loop_only_on_sqlite(
    client, database, token_for, units_threads
):
    threads = units_threads
    headers = token_for(make_tenant(database))
    assert client.get("/api/v1/units", headers=headers).status_code == 200
    assert client.get("/api/v1/owners", headers=headers).status_code == 200
    (thread,) = threads
    on_loop = thread == client.portal.call(lambda: threading.current_thread().name)
    assert on_loop is (database.engine.dialect.name == "sqlite")


def test_a_request_handed_to_fastapi_has_run_no_dependency_twice():
    calls: list[str] = []

    async def noted(request: Request) -> str:
        calls.append(request.url.path)
        return "x"

    router = APIRouter(route_class=UnitOfWorkRoute)

    @router.get("/noted")
    async def route(note: str = Depends(noted), params: ListParams = Depends(list_params)) -> dict:
        return {"note": note, "limit": params.limit}

    app = FastAPI()
    app.include_router(router)
    with TestClient(app) as client:
        assert client.get("/noted", params={"limit": "3"}).json() == {"note": "x", "limit": 3}
        assert client.get("/noted", params={"limit": "abc"}).status_code == 422
    assert calls == ["/noted", "/noted"]


def test_a_short_read_that_ran_slow_crosses_to_the_threads_for_a_while(
    client, database, token_for, monkeypatch, units_threads
):
    if database.engine.dialect.name != "sqlite":
        pytest.skip("short reads run on the event loop only on SQLite")
    threads = units_threads
    headers = token_for(make_tenant(database))
    loop_thread = client.portal.call(lambda: threading.current_thread().name)
    monkeypatch.setattr(fastpath, "SLOW_READ", -1.0)  # every read is "slow"
    for _ in range(4):
        assert client.get("/api/v1/units", headers=headers).status_code == 200
    assert threads[:2] == [loop_thread, loop_thread]  # slow twice in a row: then threads
    assert loop_thread not in threads[2:]

    class Later:  # a minute and more has passed
        perf_counter = staticmethod(time.perf_counter)
        thread_time = staticmethod(time.thread_time)

        @staticmethod
        def monotonic() -> float:
            return time.monotonic() + fastpath.SLOW_READ_BACKOFF + 1

    monkeypatch.setattr(fastpath, "time", Later)
    assert client.get("/api/v1/units", headers=headers).status_code == 200
    assert threads[-1] == loop_thread
