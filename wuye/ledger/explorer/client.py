"""A read-only JSON-RPC client of one ledger node, through web3.py's HTTP provider.

Everything the explorer shows comes through here, so it works the same against the
embedded node and a remote validator: the standard ``eth_`` methods for blocks,
transactions, receipts and logs, and the ``wuye_`` namespace for seals, validator
sets and Merkle inclusion proofs.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from web3 import HTTPProvider, Web3
from web3.types import RPCEndpoint

#: Most blocks one ``eth_getLogs`` call asks for; long chains are read in steps.
LOG_STEP = 5000
#: Requests per JSON-RPC batch.
BATCH = 500


class NodeError(Exception):
    """The node could not be reached, or answered with a JSON-RPC error."""


class BadNodeURL(NodeError):
    """The URL given for a node is not an http(s) URL."""


def check_url(url: str) -> str:
    """An RPC URL the explorer may call: http(s) with a host, nothing else."""
    parsed = urlparse(url.strip())
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise BadNodeURL(f"not an http(s) JSON-RPC URL: {url!r}")
    return url.strip()


def qty(value: str | int | None) -> int:
    """A JSON-RPC quantity (``0x..``) as an int."""
    if value is None:
        return 0
    return value if isinstance(value, int) else int(value, 16)


class LedgerClient:
    """Read a ledger node at ``url``: heads, blocks, transactions, logs, seals, proofs."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url = check_url(url)
        self.w3 = Web3(HTTPProvider(self.url, request_kwargs={"timeout": timeout}))

    def call(self, method: str, *params: Any) -> Any:
        try:
            answer = self.w3.provider.make_request(RPCEndpoint(method), list(params))
        except Exception as exc:  # noqa: BLE001 - any transport failure means "unreachable"
            raise NodeError(f"cannot reach {self.url}: {type(exc).__name__}: {exc}") from exc
        if "error" in answer:
            error = answer["error"]
            message = error.get("message") if isinstance(error, dict) else str(error)
            raise NodeError(f"{method} failed: {message}")
        return answer.get("result")

    # -- chain ---------------------------------------------------------------------
    def chain_id(self) -> int:
        return qty(self.call("eth_chainId"))

    def head(self) -> int:
        return qty(self.call("eth_blockNumber"))

    def client_version(self) -> str:
        return str(self.call("web3_clientVersion"))

    def block(self, number: int, full: bool = False) -> dict[str, Any] | None:
        return self.call("eth_getBlockByNumber", hex(number), full)

    def block_by_hash(self, block_hash: str, full: bool = False) -> dict[str, Any] | None:
        return self.call("eth_getBlockByHash", block_hash, full)

    def timestamp(self, number: int) -> int:
        block = self.block(number)
        if block is None:
            raise NodeError(f"no block #{number}")
        return qty(block["timestamp"])

    def timestamps(self, numbers: list[int]) -> dict[int, int]:
        """Timestamps of many blocks, asked for in JSON-RPC batches of ``BATCH``."""
        out: dict[int, int] = {}
        for i in range(0, len(numbers), BATCH):
            chunk = numbers[i : i + BATCH]
            calls = [(RPCEndpoint("eth_getBlockByNumber"), [hex(n), False]) for n in chunk]
            try:
                answers = self.w3.provider.make_batch_request(calls)
            except Exception as exc:  # noqa: BLE001 - any transport failure means "unreachable"
                raise NodeError(f"cannot reach {self.url}: {type(exc).__name__}: {exc}") from exc
            if not isinstance(answers, list):
                raise NodeError(f"eth_getBlockByNumber batch failed: {answers.get('error')}")
            for number, answer in zip(chunk, answers, strict=True):
                block = answer.get("result")
                if not block:
                    raise NodeError(f"no block #{number}: {answer.get('error')}")
                out[number] = qty(block["timestamp"])
        return out

    def block_at_time(self, timestamp: int, head: int | None = None) -> int:
        """The first block whose timestamp is at or after ``timestamp`` (head+1 if none)."""
        lo, hi = 0, self.head() if head is None else head
        if self.timestamp(hi) < timestamp:
            return hi + 1
        while lo < hi:
            mid = (lo + hi) // 2
            if self.timestamp(mid) < timestamp:
                lo = mid + 1
            else:
                hi = mid
        return lo

    # -- transactions ---------------------------------------------------------------
    def transaction(self, tx_hash: str) -> dict[str, Any] | None:
        return self.call("eth_getTransactionByHash", tx_hash)

    def receipt(self, tx_hash: str) -> dict[str, Any] | None:
        return self.call("eth_getTransactionReceipt", tx_hash)

    def logs(
        self,
        from_block: int,
        to_block: int,
        address: str | list[str] | None = None,
        topics: list[Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Logs of blocks ``from_block..to_block`` in ledger order, read in steps."""
        out: list[dict[str, Any]] = []
        start = max(0, from_block)
        while start <= to_block:
            end = min(to_block, start + LOG_STEP - 1)
            spec: dict[str, Any] = {"fromBlock": hex(start), "toBlock": hex(end)}
            if address is not None:
                spec["address"] = address
            if topics is not None:
                spec["topics"] = topics
            out.extend(self.call("eth_getLogs", spec) or [])
            start = end + 1
        out.sort(key=lambda e: (qty(e["blockNumber"]), qty(e["logIndex"])))
        return out

    # -- the wuye_ namespace -----------------------------------------------------------
    def seals(self, number: int) -> dict[str, Any] | None:
        """Header RLP, SM3 digest and SM2 seals of a final block."""
        return self.call("wuye_getSeals", hex(number))

    def validators(self, number: int | None = None) -> list[dict[str, str]]:
        """The validators that seal block ``number`` (the next block when None)."""
        return self.call("wuye_validators", "latest" if number is None else hex(number)) or []

    def proof(self, tx_hash: str) -> dict[str, Any] | None:
        """Merkle proof of a transaction and its receipt under the sealed header."""
        return self.call("wuye_getProof", tx_hash)
