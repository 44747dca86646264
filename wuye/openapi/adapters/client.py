"""Calling an external system's operations: its authentication, retries with backoff,
and both sides of every exchange validated against its OpenAPI document."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from wuye import crypto
from wuye.openapi.adapters.sm2_signing import SM2RequestSigner
from wuye.openapi.documents import Document

#: Statuses worth retrying: rate limited, and the server side's temporary failures.
RETRYABLE = frozenset({429, 502, 503, 504})


class CallFailed(Exception):
    """An operation failed for good (after retries), with the system's own words."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


def _oauth2_client(base_url: str, auth: dict[str, Any], doc: Document) -> httpx.Client:
    from authlib.integrations.httpx_client import OAuth2Client

    token_url = auth.get("token_url")
    if not token_url:  # from the document's client-credentials flow
        for scheme in doc.doc.get("components", {}).get("securitySchemes", {}).values():
            flow = scheme.get("flows", {}).get("clientCredentials")
            if flow:
                token_url = flow["tokenUrl"]
    if not token_url:
        raise CallFailed("no tokenUrl for the client credentials grant")
    token_url = str(httpx.URL(base_url.rstrip("/") + "/").join(token_url.lstrip("/")))
    client = OAuth2Client(
        client_id=auth["client_id"],
        client_secret=auth["client_secret"],
        scope=auth.get("scope"),
        token_endpoint=token_url,
        grant_type="client_credentials",
        base_url=base_url,
        timeout=15,
    )
    client.fetch_token()  # RFC 6749 section 4.4.2; refetched by ensure_active_token
    return client


def http_client(base_url: str, auth: dict[str, Any], doc: Document) -> httpx.Client:
    """An httpx client that authenticates as ``auth`` says (a table of kinds, no ladders)."""
    kind = auth.get("type", "none")
    factory = _AUTH.get(kind)
    if factory is None:
        raise CallFailed(f"unknown auth type {kind!r}; known: {', '.join(_AUTH)}")
    return factory(base_url, auth, doc)


def _api_key(base_url: str, auth: dict[str, Any], doc: Document) -> httpx.Client:
    header = auth.get("header")
    if not header:
        for scheme in doc.doc.get("components", {}).get("securitySchemes", {}).values():
            if scheme.get("type") == "apiKey" and scheme.get("in") == "header":
                header = scheme["name"]
    return httpx.Client(base_url=base_url, headers={header: auth["key"]}, timeout=15)


def _sm2(base_url: str, auth: dict[str, Any], doc: Document) -> httpx.Client:
    key = crypto.SM2PrivateKey.from_hex(auth["private_key"])
    return httpx.Client(base_url=base_url, auth=SM2RequestSigner(auth["key_id"], key), timeout=15)


_AUTH: dict[str, Callable[[str, dict[str, Any], Document], httpx.Client]] = {
    "none": lambda base_url, auth, doc: httpx.Client(base_url=base_url, timeout=15),
    "api_key": _api_key,
    "oauth2_client_credentials": _oauth2_client,
    "sm2": _sm2,
}


class OperationClient:
    """Calls operations by ``operationId``."""

    def __init__(
        self,
        doc: Document,
        http: httpx.Client,
        *,
        attempts: int = 4,
        backoff: float = 0.2,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.doc = doc
        self.http = http
        self.attempts = attempts
        self.backoff = backoff
        self.sleep = sleep
        self.retries = 0

    def call(
        self, operation_id: str, *, params: dict[str, Any] | None = None, body: Any = None
    ) -> Any:
        op = self.doc.operation(operation_id)
        params = dict(params or {})
        if body is not None:
            problems = self.doc.errors(op.request_schema, body)
            if problems:
                raise CallFailed("request does not match their schema: " + "; ".join(problems))
        path = op.path
        query = {}
        for p in op.parameters:
            if p["name"] in params:
                value = params.pop(p["name"])
                if p["in"] == "path":
                    path = path.replace("{" + p["name"] + "}", str(value))
                elif p["in"] == "query":
                    query[p["name"]] = value
        for attempt in range(1, self.attempts + 1):
            try:
                response = self.http.request(
                    op.method.upper(), path, params=query, json=body if body is not None else None
                )
            except httpx.TransportError as exc:
                if attempt == self.attempts:
                    raise CallFailed(f"{operation_id}: {type(exc).__name__}: {exc}") from exc
                self._wait(attempt, None)
                continue
            if response.status_code in RETRYABLE and attempt < self.attempts:
                self._wait(attempt, response.headers.get("Retry-After"))
                continue
            break
        if response.status_code >= 400:
            raise CallFailed(
                f"{operation_id}: HTTP {response.status_code} {response.text[:300]}",
                response.status_code,
            )
        data = response.json() if response.content else None
        problems = self.doc.errors(op.response_schema(response.status_code), data)
        if problems:
            raise CallFailed("response does not match their schema: " + "; ".join(problems[:5]))
        return data

    def _wait(self, attempt: int, retry_after: str | None) -> None:
        self.retries += 1
        delay = self.backoff * 2 ** (attempt - 1)
        if retry_after and retry_after.isdigit():
            delay = max(delay, min(float(retry_after), 30.0))
        self.sleep(delay)
