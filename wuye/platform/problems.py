"""Errors as RFC 9457 problem details (``application/problem+json``).

Each problem has a stable ``type`` (a path under ``/problems/``, resolvable on
the platform itself), a human ``title`` in Chinese and English, and the HTTP
status. Raise :class:`Problem` (or a subclass) anywhere below a view.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from wuye.platform.db import TenantViolation

MEDIA_TYPE = "application/problem+json"

#: slug -> (status, title). The slug is part of the public contract: never reuse one.
CATALOGUE: dict[str, tuple[int, str]] = {
    "validation-error": (422, "请求参数有误 / Invalid request"),
    "bad-request": (400, "请求有误 / Bad request"),
    "unauthorized": (401, "未认证 / Authentication required"),
    "forbidden": (403, "无权访问 / Forbidden"),
    "insufficient-scope": (403, "权限范围不足 / Insufficient scope"),
    "not-found": (404, "资源不存在 / Not found"),
    "method-not-allowed": (405, "方法不允许 / Method not allowed"),
    "conflict": (409, "资源冲突 / Conflict"),
    "rate-limited": (429, "请求过多 / Too many requests"),
    "internal-error": (500, "服务器内部错误 / Internal error"),
    "service-unavailable": (503, "服务暂不可用 / Service unavailable"),
}


class Problem(Exception):
    """An error the API reports as problem+json."""

    def __init__(
        self,
        slug: str,
        detail: str | None = None,
        *,
        status: int | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        default_status, title = CATALOGUE.get(slug, (status or 400, slug))
        self.slug = slug
        self.status = status or default_status
        self.title = title
        self.detail = detail
        self.headers = headers or {}
        self.extensions = extensions
        super().__init__(detail or title)

    def body(self, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"type": f"/problems/{self.slug}", "title": self.title}
        body["status"] = self.status
        if self.detail:
            body["detail"] = self.detail
        if instance:
            body["instance"] = instance
        body.update(self.extensions)
        return body


class NotFound(Problem):
    def __init__(self, what: str, ident: str) -> None:
        super().__init__("not-found", f"{what} {ident} not found")


class Conflict(Problem):
    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__("conflict", detail, **extensions)


def problem_response(problem: Problem, request: Request | None = None) -> JSONResponse:
    return JSONResponse(
        problem.body(str(request.url.path) if request else None),
        status_code=problem.status,
        media_type=MEDIA_TYPE,
        headers=problem.headers,
    )


_STATUS_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    429: "rate-limited",
}


def install(app: FastAPI) -> None:
    """Route every error of ``app`` through problem+json."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc, request)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": ".".join(str(p) for p in err.get("loc", ()) if p != "body"),
                "message": err.get("msg", ""),
            }
            for err in exc.errors()
        ]
        first = errors[0] if errors else {"field": "", "message": ""}
        detail = f"{first['field']}: {first['message']}" if first["field"] else first["message"]
        return problem_response(Problem("validation-error", detail, errors=errors), request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        slug = _STATUS_SLUGS.get(exc.status_code, "bad-request")
        problem = Problem(
            slug,
            exc.detail if isinstance(exc.detail, str) else None,
            status=exc.status_code,
            headers=dict(exc.headers or {}),
        )
        return problem_response(problem, request)

    @app.exception_handler(TenantViolation)
    async def _tenant(request: Request, exc: TenantViolation) -> JSONResponse:
        return problem_response(Problem("not-found"), request)
