"""The machinery every mock platform shares: routes, parameters and validation from its
OpenAPI document, so the mock can never drift from what it documents."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from wuye.openapi.documents import Document, Operation
from wuye.sandbox.mocks.store import MemoryStore, MockStore

HERE = Path(__file__).parent


class Refused(Exception):
    """A request the mock answers with an error status and body."""

    def __init__(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None):
        super().__init__(body)
        self.status = status
        self.body = body
        self.headers = headers or {}


class Call:
    """One request to an operation: parameters parsed by their schemas, the JSON body."""

    def __init__(self, request: Request, params: dict[str, Any], body: Any, raw: bytes) -> None:
        self.request = request
        self.params = params
        self.body = body
        self.raw = raw


def _coerce(value: str, schema: dict[str, Any]) -> Any:
    types = schema.get("type", "string")
    types = types if isinstance(types, list) else [types]
    for t in types:
        try:
            if t == "integer":
                return int(value)
            if t == "number":
                return float(value)
            if t == "boolean" and value in ("true", "false"):
                return value == "true"
        except ValueError:
            continue
    return value


class MockPlatform:
    """Override ``document``, :meth:`authenticate`, and one ``op_<operationId>`` each."""

    #: The OpenAPI document the mock serves (a file beside the subclass).
    document: Path
    #: The mock's name in URLs and mappings.
    name: str
    title: str = ""

    def __init__(self, store: MockStore | None = None) -> None:
        self.doc = Document.load(self.document)
        self.store: MockStore = store or MemoryStore()
        self.requests = 0

    def authenticate(self, request: Request, raw: bytes) -> None:
        """Raise :class:`Refused` unless the caller presents valid credentials."""

    def error(self, status: int, message: str) -> dict[str, Any]:
        return {"code": status, "message": message}

    def extra_routes(self) -> list[Route]:
        return []

    def app(self) -> Starlette:
        routes = list(self.extra_routes())
        by_path: dict[str, list[Operation]] = {}
        for op in self.doc.operations.values():
            by_path.setdefault(op.path, []).append(op)
        for path, ops in by_path.items():
            routes.append(Route(path, self._endpoint(ops), methods=[o.method.upper() for o in ops]))

        async def document(request: Request) -> Response:
            return JSONResponse(self.doc.doc)

        routes.append(Route("/openapi.json", document))
        return Starlette(routes=routes)

    def _endpoint(self, ops: list[Operation]):
        table = {o.method.upper(): o for o in ops}

        async def endpoint(request: Request) -> Response:
            op = table[request.method]
            raw = await request.body()
            try:
                self.requests += 1
                self.authenticate(request, raw)
                call = self._parse(op, request, raw)
                handler = getattr(self, "op_" + op.operation_id)
                status, body = await run_in_threadpool(handler, call)
            except Refused as refused:
                return JSONResponse(refused.body, refused.status, headers=refused.headers)
            problems = self.doc.errors(op.response_schema(status), body)
            if problems:  # the mock broke its own contract: a bug, say so loudly
                raise AssertionError(f"{self.name} {op.operation_id}: {problems}")
            return JSONResponse(body, status)

        return endpoint

    def _parse(self, op: Operation, request: Request, raw: bytes) -> Call:
        params: dict[str, Any] = {}
        problems: list[str] = []
        for p in op.parameters:
            source = {
                "path": request.path_params,
                "query": request.query_params,
                "header": request.headers,
            }.get(p["in"], {})
            schema = self.doc.resolve(p.get("schema", {}))
            if p["name"] in source:
                value = _coerce(source[p["name"]], schema)
                problems += [f"{p['name']}: {e}" for e in self.doc.errors(schema, value)]
                params[p["name"]] = value
            elif p.get("required"):
                problems.append(f"{p['name']}: required")
            elif "default" in schema:
                params[p["name"]] = schema["default"]
        body = None
        schema = op.request_schema
        if schema is not None:
            try:
                body = json.loads(raw or b"null")
            except ValueError:
                problems.append("body: not JSON")
            else:
                problems += self.doc.errors(schema, body)
        if problems:
            raise Refused(400, self.error(400, "; ".join(problems)))
        return Call(request, params, body, raw)
