"""Request plans: an API route's parameters solved by a plan compiled once per route.

FastAPI solves a route's parameters by walking its dependency tree on every request,
asking of each field again what kind it is (a sequence? a model? which alias?). For
the routes most calls reach - reads taking a few query and path values and the
caller's :class:`~wuye.platform.deps.Context` - that walk costs more than the route's
own work. :func:`compile_plan` answers those questions once, when the route is built,
and keeps only what varies per request: each value is validated by FastAPI's own
field (the same pydantic validator, so the same coercions and constraints), and the
token is checked by the same :func:`~wuye.platform.deps.context_for` as ``scoped()``.

A plan never decides what FastAPI would answer differently:

* a route it does not fully understand (a body, headers, cookies, a ``Response`` or
  background-tasks parameter, a sequence or model parameter, a dependency it does not
  know, a custom response class, streaming) gets no plan and keeps FastAPI's handler;
* a request whose values fail validation, or an app with dependency overrides, is
  handed to FastAPI's handler, which reports the error exactly as it always has;
* the result is serialised by FastAPI's own ``serialize_response``.

``tests/platform/test_fastpath.py`` holds every route with a plan to answering as
FastAPI does, valid requests and invalid ones alike.

A route marked :func:`short_read` (a brief read of the platform's own database and
nothing else) runs on the event loop instead of crossing to a worker thread, when the
database is the embedded SQLite one: such a read costs less than the crossing, and
worker threads contending for the interpreter lock for every SQLite call cost more
still. On PostgreSQL, whose every statement waits on the network, it crosses as usual.
A read that turns out slow (a tenant with a very large table, a page far down a long
list) sends its route back to the threads for a while (:data:`SLOW_READ`), so that it
holds up the worker's other requests once rather than on every call.
"""

from __future__ import annotations

import copy
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import params
from fastapi.datastructures import DefaultPlaceholder
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

try:  # FastAPI's own helpers; without them a route simply keeps FastAPI's handler.
    from fastapi._compat.shared import field_annotation_is_sequence
    from fastapi.dependencies.utils import _get_param_aliases, _get_param_model
    from fastapi.routing import (
        _effective_route_context_var,
        _extract_endpoint_context,
        serialize_response,
    )
    from fastapi.utils import is_body_allowed_for_status_code
except ImportError:  # pragma: no cover - a FastAPI outside the declared bounds
    _effective_route_context_var = None

log = logging.getLogger(__name__)

Handler = Callable[[Request], Awaitable[Response]]

#: A dependency carrying this attribute - an asynchronous function of the request alone,
#: giving what the dependency gives - is solved by calling it (``deps.require`` does).
RESOLVE_ATTR = "__wuye_resolve__"
#: Marks an endpoint as a brief read of the platform database (see :func:`short_read`).
SHORT_READ_ATTR = "__wuye_short_read__"

_IMMUTABLE = (type(None), bool, int, float, str, bytes, frozenset)

#: A short read that took more processor time than this (seconds) on the event loop twice
#: in a row - a tenant with a large table, a page far down a long list - crosses to worker
#: threads, as every other route does, for :data:`SLOW_READ_BACKOFF` seconds: slow reads
#: hold up the worker's other requests twice, not on every call.
SLOW_READ = 0.005
#: The same for a read's time on the clock, waits included (seconds).
SLOW_READ_WAIT = 0.1
SLOW_READ_BACKOFF = 60.0


def short_read(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a synchronous route as a brief read of the platform's own database.

    Only for routes that read a bounded amount (a page, one object) and call nothing
    outside the database: on SQLite the route runs on the event loop, where anything
    slow would hold up every other request of the worker.
    """
    setattr(endpoint, SHORT_READ_ATTR, True)
    return endpoint


@dataclass(frozen=True, slots=True)
class _Value:
    """One query or path value: where it comes from and how it is validated."""

    field: Any
    name: str
    alias: str
    loc: tuple[str, str]
    path: bool
    required: bool
    default: Any
    copy_default: bool
    validate_default: bool

    @classmethod
    def of(cls, field: Any) -> _Value | None:
        info = field.field_info
        if not isinstance(info, (params.Query, params.Path)):
            return None
        if _get_param_model(field) is not None or field_annotation_is_sequence(info.annotation):
            return None
        if info.default_factory is not None:  # called per request by FastAPI
            return None
        aliases = _get_param_aliases(field)
        if len(aliases) != 1:  # a choice of names: FastAPI picks per request
            return None
        ((_, alias),) = aliases
        path = isinstance(info, params.Path)
        default = None if info.is_required() else field.default
        return cls(
            field=field,
            name=field.name,
            alias=alias,
            loc=("path" if path else "query", alias),
            path=path,
            required=info.is_required(),
            default=default,
            copy_default=not isinstance(default, _IMMUTABLE),
            validate_default=bool(info.validate_default),
        )

    def solve(self, request: Request, out: dict[str, Any]) -> bool:
        """Put the validated value in ``out``; False when FastAPI must answer."""
        source = request.path_params if self.path else request.query_params
        raw = source.get(self.alias)
        if raw is None:
            if self.required:
                return False
            if not self.validate_default:
                out[self.name] = copy.deepcopy(self.default) if self.copy_default else self.default
                return True
            raw = self.default
        value, errors = self.field.validate(raw, out, loc=self.loc)
        if errors:
            return False
        out[self.name] = value
        return True


@dataclass(frozen=True, slots=True)
class _Step:
    """One sub-dependency: a resolver of the request, or an asynchronous function of
    query values (and perhaps the request)."""

    name: str | None
    call: Callable[..., Any]
    resolve: Callable[[Request], Awaitable[Any]] | None
    values: tuple[_Value, ...]
    request_param: str | None = None


class Plan:
    """The compiled parameters of one route (see the module docstring)."""

    def __init__(
        self,
        *,
        route: Any,
        values: tuple[_Value, ...],
        steps: tuple[_Step, ...],
        request_param: str | None,
    ) -> None:
        self.call = route.dependant.call
        self.is_coroutine = inspect.iscoroutinefunction(self.call)
        self.short_read = bool(getattr(self.call, SHORT_READ_ATTR, False))
        self.values = values
        self.steps = steps
        self.request_param = request_param
        self.overrides = route.dependency_overrides_provider
        self.path = route.dependant.path or ""
        self.endpoint_ctx = dict(_extract_endpoint_context(self.call))
        #: Until when this short read crosses to a worker thread (it ran slow lately).
        self._threaded_until = 0.0
        self._slow_runs = 0
        self.response_field = route.response_field
        self.status_code = route.status_code
        self.include = route.response_model_include
        self.exclude = route.response_model_exclude
        self.by_alias = route.response_model_by_alias
        self.exclude_unset = route.response_model_exclude_unset
        self.exclude_defaults = route.response_model_exclude_defaults
        self.exclude_none = route.response_model_exclude_none

    async def solve(self, request: Request) -> dict[str, Any] | None:
        """The endpoint's arguments, or None when FastAPI's handler must answer.

        Every value is validated before any dependency runs, so that a request handed
        to FastAPI has run nothing twice."""
        values: dict[str, Any] = {}
        for value in self.values:
            if not value.solve(request, values):
                return None
        step_values: list[dict[str, Any]] = []
        for step in self.steps:
            given: dict[str, Any] = {}
            for value in step.values:
                if not value.solve(request, given):
                    return None
            step_values.append(given)
        for step, given in zip(self.steps, step_values, strict=True):
            if step.resolve is not None:
                solved = await step.resolve(request)
            else:
                if step.request_param is not None:
                    given[step.request_param] = request
                solved = await step.call(**given)
            if step.name is not None:
                values[step.name] = solved
        if self.request_param is not None:
            values[self.request_param] = request
        return values

    def handler(self, standard: Handler) -> Handler:
        """A route handler solving parameters by this plan, FastAPI's ``standard``
        answering whatever the plan does not."""

        async def handle(request: Request) -> Response:
            if self.overrides is not None and getattr(self.overrides, "dependency_overrides", None):
                return await standard(request)
            values = await self.solve(request)
            if values is None:
                return await standard(request)
            if self.is_coroutine:
                raw = await self.call(**values)
                inline = True
            elif self._inline(request):
                raw = self._run_timed(values)
                inline = True
            else:
                raw = await run_in_threadpool(self.call, **values)
                inline = False
            if isinstance(raw, Response):
                return raw
            return await self._serialise(request, raw, inline=inline)

        return handle

    def _inline(self, request: Request) -> bool:
        """Whether this short read runs on the event loop now (see :data:`SLOW_READ`)."""
        if not self.short_read or not getattr(request.app.state.db, "embedded", False):
            return False
        return time.monotonic() >= self._threaded_until

    def _run_timed(self, values: dict[str, Any]) -> Any:
        # The thread's own processor time, which a busy machine's scheduling does not
        # inflate; and the clock, for a read that waits (a cold disk).
        cpu, wall = time.thread_time(), time.perf_counter()
        try:
            return self.call(**values)
        finally:
            slow = (
                time.thread_time() - cpu > SLOW_READ or time.perf_counter() - wall > SLOW_READ_WAIT
            )
            # Twice in a row: a first call that compiled its statement is not slow.
            self._slow_runs = self._slow_runs + 1 if slow else 0
            if self._slow_runs >= 2:
                self._slow_runs = 0
                self._threaded_until = time.monotonic() + SLOW_READ_BACKOFF
                log.warning(
                    "%s %s read slowly twice in a row; it runs on worker threads for %.0f s",
                    "GET",
                    self.path,
                    SLOW_READ_BACKOFF,
                )

    async def _serialise(self, request: Request, raw: Any, *, inline: bool) -> Response:
        """``raw`` answered as FastAPI answers a route's return value."""
        mount = request.scope.get("root_path", "").rstrip("/")
        endpoint_ctx = {**self.endpoint_ctx, "path": f"{request.method} {mount}{self.path}"}
        content = await serialize_response(
            endpoint_ctx=endpoint_ctx,  # type: ignore[arg-type]
            field=self.response_field,
            response_content=raw,
            include=self.include,
            exclude=self.exclude,
            by_alias=self.by_alias,
            exclude_unset=self.exclude_unset,
            exclude_defaults=self.exclude_defaults,
            exclude_none=self.exclude_none,
            is_coroutine=inline,
            dump_json=self.response_field is not None,
        )
        kwargs = {} if self.status_code is None else {"status_code": self.status_code}
        if self.response_field is not None:
            response = Response(content=content, media_type="application/json", **kwargs)
        else:
            response = JSONResponse(content, **kwargs)
        if not is_body_allowed_for_status_code(response.status_code):
            response.body = b""
        return response


def effective_route(route: Any) -> Any | None:
    """The route as included in the app (its prefix and its routers' dependencies), while
    FastAPI builds its handler; None when this FastAPI does not say."""
    if _effective_route_context_var is None:
        return None
    context = _effective_route_context_var.get()
    if context is not None and context.original_route is route:
        return context
    return route


def _values(fields: Sequence[Any]) -> tuple[_Value, ...] | None:
    out = []
    for field in fields:
        value = _Value.of(field)
        if value is None:
            return None
        out.append(value)
    return tuple(out)


def _plain(dependant: Dependant) -> bool:
    """Nothing but query and path values (and sub-dependencies, checked apart)."""
    return not (
        dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
    )


def _step(dependant: Dependant) -> _Step | None:
    call = dependant.call
    if getattr(dependant, "concurrency", None) is not None:  # a semaphore FastAPI holds
        return None
    resolve = getattr(call, RESOLVE_ATTR, None)
    if resolve is not None:
        return _Step(name=dependant.name, call=call, resolve=resolve, values=())
    if not inspect.iscoroutinefunction(call) or dependant.dependencies:
        return None
    if not _plain(dependant) or dependant.path_params:
        return None
    values = _values(dependant.query_params)
    if values is None:
        return None
    return _Step(
        name=dependant.name,
        call=call,
        resolve=None,
        values=values,
        request_param=dependant.request_param_name,
    )


def compile_plan(route: Any) -> Plan | None:
    """A plan for ``route`` (an ``APIRoute`` or FastAPI's included form of one), or None
    when FastAPI's handler must keep it."""
    if route is None:
        return None
    dependant: Dependant = route.dependant
    call = dependant.call
    if call is None or inspect.isgeneratorfunction(call) or inspect.isasyncgenfunction(call):
        return None
    if route.body_field is not None or not _plain(dependant):
        return None
    if not isinstance(route.response_class, DefaultPlaceholder):
        return None
    if route.response_class.value is not JSONResponse:
        return None
    if getattr(route, "stream_item_field", None) is not None or getattr(
        route, "is_json_stream", False
    ):
        return None
    values = _values(dependant.path_params + dependant.query_params)
    if values is None:
        return None
    steps = []
    seen: set[int] = set()
    for sub in dependant.dependencies:
        step = _step(sub)
        # A dependency named twice is solved once by FastAPI (its cache); keep it simple.
        if step is None or id(step.call) in seen:
            return None
        seen.add(id(step.call))
        steps.append(step)
    return Plan(
        route=route,
        values=values,
        steps=tuple(steps),
        request_param=dependant.request_param_name,
    )
