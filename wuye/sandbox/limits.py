"""Per-app rate limits, daily quotas and the request log, for every API call of an app.

An ASGI middleware in front of ``/api/``: the bearer token's ``client_id`` (its
signature checked by the platform's verifier, its database state by the route
as always) names the app. Counters are fixed windows kept in the database - one
row per client and minute, one per client and day - so every uvicorn worker
counts against the same limit. Over a limit the answer is 429 with
``Retry-After``; every answer carries ``X-RateLimit-Limit``, ``-Remaining`` and
``-Reset``. The request is then logged with trimmed bodies and secrets masked.
"""

from __future__ import annotations

import json
import random
import re
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio.to_thread
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from wuye.platform.db import Database
from wuye.platform.db import Scope as DbScope
from wuye.platform.problems import MEDIA_TYPE, Problem
from wuye.sandbox.models import RateCounter, RequestLog, SandboxApp

BODY_LIMIT = 2000
#: JSON keys whose values never reach the log.
SECRET_KEYS = re.compile(
    r"secret|password|token|authorization|private|key|id_number|phone", re.IGNORECASE
)
_CACHE_SECONDS = 10.0
#: How long the request log keeps an entry.
LOG_RETENTION_DAYS = 14
#: Share of requests that also prune old counters and log entries.
PRUNE_CHANCE = 1 / 500


@dataclass(frozen=True, slots=True)
class Limits:
    tenant_id: str
    per_minute: int
    per_day: int
    #: A production client: it reads member firms' data, so its log keeps no bodies.
    production: bool = False


def redact(text: str) -> str:
    """A body as logged: secret-looking JSON fields masked, then trimmed."""
    try:
        data = json.loads(text)
    except ValueError:
        return text[:BODY_LIMIT]

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: "***" if SECRET_KEYS.search(k) else walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    out = json.dumps(walk(data), ensure_ascii=False)
    return out if len(out) <= BODY_LIMIT else out[: BODY_LIMIT - 1] + "…"


class AppLimits:
    """Which client ids are apps, and their limits (cached briefly per process)."""

    def __init__(self, database: Database) -> None:
        self.database = database
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, Limits | None]] = {}

    def cached(self, client_id: str) -> tuple[bool, Limits | None]:
        """``(True, limits)`` when the answer is cached and fresh; no database work."""
        hit = self._cache.get(client_id)
        if hit and hit[0] > time.monotonic():
            return True, hit[1]
        return False, None

    def get(self, client_id: str) -> Limits | None:
        now = time.monotonic()
        fresh, limits = self.cached(client_id)
        if fresh:
            return limits
        with self.database.transaction(DbScope.for_host()) as session:
            app = session.scalars(
                select(SandboxApp).where(
                    (SandboxApp.client_id == client_id)
                    | (SandboxApp.production_client_id == client_id)
                )
            ).first()
            limits = None
            if app is not None:
                production = app.production_client_id == client_id
                limits = Limits(app.tenant_id, app.rate_per_minute, app.daily_quota, production)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[client_id] = (now + _CACHE_SECONDS, limits)
        return limits

    def count(self, client_id: str, now: float) -> tuple[int, int]:
        """Count one request in the current minute and day; the counts after it."""
        minute, day = int(now // 60), int(now // 86400)
        insert = pg_insert if self.database.engine.dialect.name == "postgresql" else sqlite_insert
        out = []
        with self.database.transaction(DbScope.for_host()) as session:
            for window in (f"m:{minute}", f"d:{day}"):
                stmt = insert(RateCounter).values(client_id=client_id, window=window, count=1)
                stmt = stmt.on_conflict_do_update(
                    index_elements=["client_id", "window"],
                    set_={"count": RateCounter.count + 1},
                ).returning(RateCounter.count)
                out.append(int(session.execute(stmt).scalar_one()))
        if random.random() < PRUNE_CHANCE:  # noqa: S311 - spreading housekeeping, not secrecy
            self.prune(now)
        return out[0], out[1]

    def prune(self, now: float) -> None:
        """Forget counters of past windows and log entries past their retention."""
        minute, day = int(now // 60), int(now // 86400)
        with self.database.transaction(DbScope.for_host()) as session:
            # Window numbers of one kind have the same number of digits for centuries, so
            # text order is numeric order.
            session.execute(
                delete(RateCounter).where(
                    RateCounter.window.like("m:%"), RateCounter.window < f"m:{minute - 60}"
                )
            )
            session.execute(
                delete(RateCounter).where(
                    RateCounter.window.like("d:%"), RateCounter.window < f"d:{day - 1}"
                )
            )
            cutoff = datetime.fromtimestamp(now - LOG_RETENTION_DAYS * 86400, UTC)
            session.execute(delete(RequestLog).where(RequestLog.created_at < cutoff))

    def log(self, tenant_id: str, **entry: Any) -> None:
        with self.database.transaction(DbScope.tenant(tenant_id)) as session:
            session.add(RequestLog(**entry))


def _masked_query(query: str) -> str:
    """``?a=1&phone=***``: query values under secret-looking names masked."""
    if not query:
        return ""
    parts = []
    for pair in query.split("&"):
        name, sep, _value = pair.partition("=")
        parts.append(f"{name}{sep}***" if sep and SECRET_KEYS.search(name) else pair)
    return "?" + "&".join(parts)


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            kind, _, token = value.decode("latin-1").partition(" ")
            return token.strip() if kind.lower() == "bearer" else None
    return None


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        token = _bearer(scope)
        state = scope["app"].state
        claims: dict[str, Any] = {}
        if token and token.count(".") == 2:
            try:
                claims = state.token_verifier.decode(token)
            except Exception:  # noqa: BLE001 - the route itself reports a bad token
                claims = {}
        client_id = claims.get("client_id")
        limits: AppLimits = state.app_limits
        found = None
        if client_id:
            # Most calls come from clients already looked up: answer those without a
            # thread-pool crossing.
            fresh, found = limits.cached(client_id)
            if not fresh:
                found = await anyio.to_thread.run_sync(limits.get, client_id)
        if found is None:
            await self.app(scope, receive, send)
            return
        # A sandbox call is logged in the sandbox; a production call in the firm whose
        # data it touched (the token's tenant), without bodies.
        log_tenant = str(claims["tenant_id"]) if found.production else found.tenant_id
        await self._limited(scope, receive, send, limits, found, str(client_id), log_tenant)

    async def _limited(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        limits: AppLimits,
        found: Limits,
        client_id: str,
        log_tenant: str,
    ) -> None:
        started = time.time()
        per_minute, per_day = await anyio.to_thread.run_sync(limits.count, client_id, started)
        minute_left = found.per_minute - per_minute
        day_left = found.per_day - per_day
        reset = 60 - int(started % 60)
        if day_left < 0:
            reset = 86400 - int(started % 86400)
        headers = {
            "X-RateLimit-Limit": str(found.per_minute),
            "X-RateLimit-Remaining": str(max(0, min(minute_left, day_left))),
            "X-RateLimit-Reset": str(reset),
            "X-Quota-Limit": str(found.per_day),
            "X-Quota-Remaining": str(max(0, day_left)),
        }
        request_body = bytearray()
        response_body = bytearray()
        status = [0]
        path = scope["path"] + _masked_query(scope.get("query_string", b"").decode("latin-1"))

        def write_log() -> None:
            bodies = not found.production
            limits.log(
                log_tenant,
                client_id=client_id,
                method=scope["method"],
                path=path[:500],
                status=status[0],
                latency_ms=int((time.time() - started) * 1000),
                request_body=redact(request_body.decode("utf-8", "replace")) if bodies else "",
                response_body=redact(response_body.decode("utf-8", "replace")) if bodies else "",
            )

        async def receive_logged() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(request_body) < BODY_LIMIT * 2:
                request_body.extend(message.get("body", b""))
            return message

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                message = {
                    **message,
                    "headers": [
                        *message.get("headers", []),
                        *((k.lower().encode(), v.encode()) for k, v in headers.items()),
                    ],
                }
            elif message["type"] == "http.response.body":
                if len(response_body) < BODY_LIMIT * 2:
                    response_body.extend(message.get("body", b""))
                if not message.get("more_body"):
                    # Logged before the last byte leaves: a client that has its answer
                    # finds the request in its log.
                    await anyio.to_thread.run_sync(write_log)
            await send(message)

        if minute_left < 0 or day_left < 0:
            which = "daily quota" if day_left < 0 else "rate limit"
            problem = Problem(
                "rate-limited",
                f"{which} exceeded; retry after {reset} s",
                headers={"Retry-After": str(reset)},
            )
            body = json.dumps(problem.body(scope["path"]), ensure_ascii=False).encode()
            await send_with_headers(
                {
                    "type": "http.response.start",
                    "status": 429,
                    "headers": [
                        (b"content-type", MEDIA_TYPE.encode()),
                        (b"retry-after", str(reset).encode()),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send_with_headers({"type": "http.response.body", "body": body})
        else:
            await self.app(scope, receive_logged, send_with_headers)
