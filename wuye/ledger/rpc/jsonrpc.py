"""JSON-RPC 2.0 dispatch: a method table, batches, and errors shaped as the spec says.

Error codes follow JSON-RPC 2.0 (-32700 parse error, -32600 invalid request,
-32601 method not found, -32602 invalid params, -32603 internal error) and the
Ethereum conventions web3.py understands (3 with revert data for
`execution reverted`, -32000 for a refused transaction).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Method = Callable[..., Any]


class RPCError(Exception):
    """An error to return to the caller, with a JSON-RPC code and optional data."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_json(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def invalid_params(message: str) -> RPCError:
    return RPCError(-32602, f"invalid params: {message}")


class Dispatcher:
    """A table of JSON-RPC methods and the logic to call them."""

    def __init__(self) -> None:
        self.methods: dict[str, Method] = {}

    def register(self, name: str, method: Method) -> None:
        self.methods[name] = method

    def handle(self, payload: Any) -> Any:
        """Answer one request object or a batch; None when nothing is to be sent back."""
        if isinstance(payload, list):
            if not payload:
                return _error(None, RPCError(-32600, "invalid request: empty batch"))
            answers = [self._one(item) for item in payload]
            return [a for a in answers if a is not None] or None
        return self._one(payload)

    def _one(self, request: Any) -> dict[str, Any] | None:
        if not isinstance(request, dict) or request.get("jsonrpc") != "2.0":
            return _error(None, RPCError(-32600, "invalid request: not a JSON-RPC 2.0 object"))
        ident = request.get("id")
        name = request.get("method")
        params = request.get("params", [])
        if not isinstance(name, str):
            return _error(ident, RPCError(-32600, "invalid request: method must be a string"))
        method = self.methods.get(name)
        if method is None:
            return _error(
                ident, RPCError(-32601, f"the method {name} does not exist/is not available")
            )
        if not isinstance(params, list | dict):
            return _error(ident, invalid_params("params must be an array or an object"))
        try:
            result = method(*params) if isinstance(params, list) else method(**params)
        except RPCError as exc:
            return _error(ident, exc)
        except TypeError as exc:
            return _error(ident, invalid_params(str(exc)))
        except Exception as exc:  # noqa: BLE001 - one bad call must not take the server down
            log.exception("JSON-RPC method %s failed", name)
            return _error(ident, RPCError(-32603, f"internal error: {exc}"))
        if "id" not in request:
            return None
        return {"jsonrpc": "2.0", "id": ident, "result": result}


def _error(ident: Any, error: RPCError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": ident, "error": error.to_json()}
