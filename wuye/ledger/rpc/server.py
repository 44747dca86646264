"""The node's HTTP server: JSON-RPC at `/`, peer endpoints under `/p2p/`, run by uvicorn."""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Any

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from wuye.ledger.rpc.eth import EthAPI
from wuye.ledger.rpc.jsonrpc import Dispatcher
from wuye.ledger.rpc.wuye import WuyeAPI
from wuye.ledger.txpool import TxRejected

if TYPE_CHECKING:
    from wuye.ledger.node import Node


#: Methods cheap enough to answer on the event loop itself; the thread-pool handoff
#: would cost more than the call. (Not eth_sendRawTransaction: it waits for the
#: pool journal's fsync, which concurrent submissions share.)
INLINE_METHODS = frozenset({"eth_chainId", "net_version", "eth_blockNumber"})


def build_dispatcher(node: Node) -> Dispatcher:
    dispatcher = Dispatcher()
    EthAPI(node).register(dispatcher)
    WuyeAPI(node).register(dispatcher)
    return dispatcher


def build_app(node: Node) -> Starlette:
    dispatcher = build_dispatcher(node)

    async def rpc(request: Request) -> Response:
        try:
            payload = json.loads(await request.body())
        except ValueError:
            error = {"code": -32700, "message": "parse error: body is not JSON"}
            return JSONResponse({"jsonrpc": "2.0", "id": None, "error": error})
        if isinstance(payload, dict) and payload.get("method") in INLINE_METHODS:
            answer = dispatcher.handle(payload)  # sub-millisecond: skip the thread handoff
        else:
            answer = await run_in_threadpool(dispatcher.handle, payload)
        if answer is None:
            return Response(status_code=204)
        return JSONResponse(answer)

    async def messages(request: Request) -> Response:
        payload = await request.json()
        for item in payload if isinstance(payload, list) else [payload]:
            node.consensus.deliver(item)
        return Response(status_code=202)

    def _admit(raw_txs: list[Any]) -> None:
        for raw in raw_txs:
            try:
                raw_tx = bytes.fromhex(str(raw).removeprefix("0x"))
                node.submit(raw_tx, gossip=False, durable=False)
            except (TxRejected, ValueError):
                pass  # the origin node admitted it; a stale copy here is harmless

    async def txs(request: Request) -> Response:
        payload = await request.json()
        await run_in_threadpool(_admit, payload if isinstance(payload, list) else [payload])
        return Response(status_code=202)

    async def status(request: Request) -> Response:
        return JSONResponse(await run_in_threadpool(node.status))

    async def blocks(request: Request) -> Response:
        start = int(request.query_params.get("start", "1"))
        count = min(int(request.query_params.get("count", "16")), 256)
        return JSONResponse(await run_in_threadpool(node.blocks_from, start, count))

    return Starlette(
        routes=[
            Route("/", rpc, methods=["POST"]),
            Route("/p2p/messages", messages, methods=["POST"]),
            Route("/p2p/txs", txs, methods=["POST"]),
            Route("/p2p/status", status, methods=["GET"]),
            Route("/p2p/blocks", blocks, methods=["GET"]),
        ]
    )


class HTTPServer:
    """uvicorn serving a node's app in a background thread."""

    def __init__(self, node: Node, host: str, port: int) -> None:
        config = uvicorn.Config(
            build_app(node), host=host, port=port, log_level="warning", access_log=False
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="wuye-rpc", daemon=True)
        self.url = f"http://{host}:{port}"

    def start(self, timeout: float = 10.0) -> None:
        self.thread.start()
        import time

        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"JSON-RPC server did not start on {self.url}")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
