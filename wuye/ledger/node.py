"""A ledger node: chain, transaction pool, consensus, peers and the HTTP server, together.

`NodeConfig` is what `wuye ledger node --config FILE` reads. A node with a
validator key takes part in consensus; every node serves JSON-RPC and the
peer endpoints under `/p2p/` on one HTTP port.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from eth.abc import BlockAPI
from eth_utils import keccak

from wuye import crypto
from wuye.ledger.consensus import Consensus
from wuye.ledger.execution import Ledger
from wuye.ledger.genesis import Genesis
from wuye.ledger.seals import Seal
from wuye.ledger.store import PoolJournal
from wuye.ledger.txpool import AccountView, TxPool, TxRejected, recover_sender

log = logging.getLogger(__name__)


@dataclass
class NodeConfig:
    """One node's settings; paths relative to the config file's directory."""

    data_dir: str
    genesis: str
    validator_key: str | None = None
    host: str = "127.0.0.1"
    port: int = 8545
    peers: list[str] = field(default_factory=list)
    block_interval: float = 0.5
    max_block_txs: int = 500
    round_timeout: float = 4.0
    sync_interval: float = 1.0

    @classmethod
    def load(cls, path: Path) -> NodeConfig:
        path = Path(path)
        data = json.loads(path.read_text())
        config = cls(**data)
        base = path.parent
        config.data_dir = str((base / config.data_dir).resolve())
        config.genesis = str((base / config.genesis).resolve())
        if config.validator_key:
            config.validator_key = str((base / config.validator_key).resolve())
        return config

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(asdict(self), indent=2) + "\n")


class Peer:
    """Another node, reached over HTTP; outgoing messages go through a queue and one thread.

    The thread posts whatever queued up meanwhile as one JSON array per path,
    consensus messages before transactions, over one kept-alive `http.client`
    connection (a fraction of httpx's cost per request, which adds up on the
    hot path between validators).
    """

    #: Most items one drain of the queue sends.
    MAX_DRAIN = 2000
    #: How long gossiped transactions wait for company before they are posted.
    TX_LINGER = 0.01

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        parts = urlsplit(self.url)
        self._address = (parts.hostname or "127.0.0.1", parts.port or 80)
        self._connection: http.client.HTTPConnection | None = None
        self.client = httpx.Client(timeout=httpx.Timeout(5.0, connect=1.0))
        self.outbox: queue.Queue[tuple[str, Any] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name=f"peer {url}", daemon=True)
        self._thread.start()

    def send(self, path: str, payload: Any) -> None:
        self.outbox.put((path, payload))

    def _run(self) -> None:
        while True:
            item = self.outbox.get()
            if item is None:
                break
            if item[0] == "/p2p/txs":
                time.sleep(self.TX_LINGER)  # one post for many transactions, not one each
            batches: dict[str, list[Any]] = {"/p2p/messages": [], item[0]: []}
            batches[item[0]].append(item[1])
            closing = False
            for _ in range(self.MAX_DRAIN):
                try:
                    more = self.outbox.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    closing = True
                    break
                batches.setdefault(more[0], []).append(more[1])
            for path, payloads in batches.items():
                if payloads:
                    self._post(path, json.dumps(payloads).encode())
            if closing:
                break
        if self._connection is not None:
            self._connection.close()

    def _post(self, path: str, body: bytes) -> None:
        for _ in range(2):  # a kept-alive connection the peer closed fails once
            try:
                if self._connection is None:
                    self._connection = http.client.HTTPConnection(*self._address, timeout=5)
                self._connection.request("POST", path, body, {"Content-Type": "application/json"})
                self._connection.getresponse().read()
                return
            except (OSError, http.client.HTTPException):
                if self._connection is not None:
                    self._connection.close()
                self._connection = None
        # the peer is down; consensus recovers by round change and sync

    def get(self, path: str, **params: Any) -> Any:
        response = self.client.get(self.url + path, params=params, timeout=10.0)
        response.raise_for_status()
        return response.json()

    def close(self) -> None:
        self.outbox.put(None)
        self.client.close()


def require_coincurve() -> None:
    """Refuse to run on eth-keys' pure-Python backend (17 times slower key recovery)."""
    from eth_keys import KeyAPI
    from eth_keys.backends.coincurve import CoinCurveECCBackend

    if not isinstance(KeyAPI().backend, CoinCurveECCBackend):
        raise RuntimeError(
            "eth-keys is not using coincurve; install coincurve (see ARCHITECTURE.md)"
        )


class Node:
    """Ledger, pool, consensus and peers of one running node."""

    def __init__(self, config: NodeConfig) -> None:
        require_coincurve()
        self.config = config
        self.genesis = Genesis.load(Path(config.genesis))
        self.ledger = Ledger(Path(config.data_dir), self.genesis)
        self.key: crypto.SM2PrivateKey | None = None
        self.public_key: str | None = None
        if config.validator_key:
            self.key = crypto.SM2PrivateKey.from_pem(Path(config.validator_key).read_bytes())
            self.public_key = self.key.public_key.to_hex().lower()
        self.pool = TxPool()
        self.journal = PoolJournal(self.ledger.store)
        self.peers = [Peer(url) for url in config.peers]
        self.tx_builder = self.ledger.block_class.get_transaction_builder()
        self._views: dict[bytes, AccountView] = {}
        self._views_generation = 0
        self._views_lock = threading.Lock()
        self._restore_pool()
        self.consensus = Consensus(self)

    # -- transactions ---------------------------------------------------------
    def account_view(self, address: bytes) -> AccountView:
        # Views are valid until the next block is final; on_finalized bumps the generation.
        with self._views_lock:
            view = self._views.get(address)
            generation = self._views_generation
        if view is None:
            view = self.ledger.account_view(address)
            with self._views_lock:
                if generation == self._views_generation:
                    self._views[address] = view
        return view

    def submit(self, raw: bytes, gossip: bool = True, durable: bool = True) -> bytes:
        """Admit a signed transaction to the pool and pass it on to peers.

        With `durable`, the transaction is on disk (the pool journal) before its
        hash is returned, so a restart, even after `kill -9`, still has it.
        """
        tx = self._admit(raw)
        if tx is not None:
            pending = self.pool.pending(tx.hash)
            if pending is not None:
                self.journal.add(tx.hash, pending.seq, raw, durable=durable)
            if gossip:
                for peer in self.peers:
                    peer.send("/p2p/txs", "0x" + raw.hex())
        return keccak(raw)

    def decode_tx(self, raw: bytes) -> Any:
        """A transaction from its bytes: the pool's copy if pending (its sender is recovered)."""
        pending = self.pool.pending(keccak(raw))
        if pending is not None and pending.raw == raw:
            return pending.tx
        tx = self.tx_builder.decode(raw)
        with contextlib.suppress(Exception):  # a bad signature fails later, in py-evm's terms
            recover_sender(tx, raw)
        return tx

    def _admit(self, raw: bytes) -> Any:
        """The decoded transaction if the pool admitted it, None if it was already pending."""
        try:
            tx = self.tx_builder.decode(raw)
        except Exception as exc:  # noqa: BLE001 - any decoding failure is the sender's
            raise TxRejected(f"invalid raw transaction: {exc}") from exc
        added = self.pool.add(
            tx, self.account_view, self.ledger.chain_id, raw=raw, gas_limit=self.genesis.gas_limit
        )
        return tx if added else None

    def _restore_pool(self) -> None:
        """Re-admit the journal's transactions after a restart; forget what no longer applies."""
        entries = self.journal.entries()
        waiting = [(tx_hash, raw) for tx_hash, _, raw in entries]
        while waiting:  # a later nonce journaled first is admitted on a later pass
            retry = []
            for tx_hash, raw in waiting:
                try:
                    self._admit(raw)
                except TxRejected as exc:
                    if str(exc).startswith("nonce too high"):
                        retry.append((tx_hash, raw))
                    else:
                        self.journal.forget([tx_hash])
            if len(retry) == len(waiting):
                self.journal.forget(h for h, _ in retry)
                break
            waiting = retry
        if entries:
            log.info(
                "restored %d pending transactions of %d journaled", len(self.pool), len(entries)
            )

    def next_nonce(self, address: bytes) -> int:
        return max(self.account_view(address).nonce, self.pool.next_nonce(address))

    def on_finalized(self, tx_hashes: list[bytes]) -> None:
        with self._views_lock:
            self._views.clear()
            self._views_generation += 1
        stale = self.pool.remove_included(tx_hashes, lambda a: self.account_view(a).nonce)
        self.journal.forget(stale)

    def drop_invalid(self, tx_hashes: list[bytes]) -> None:
        """Forget transactions that failed to execute (and their senders' later nonces)."""
        self.journal.forget(self.pool.drop(tx_hashes))

    # -- peers ------------------------------------------------------------------
    def broadcast(self, message: dict[str, Any]) -> None:
        for peer in self.peers:
            peer.send("/p2p/messages", message)

    def blocks_from(self, start: int, count: int) -> list[dict[str, Any]]:
        """Finalised blocks with their seals, for a peer catching up."""
        chain = self.ledger.reader()
        head = chain.get_canonical_head().block_number
        out = []
        for number in range(start, min(head, start + count - 1) + 1):
            block = chain.get_canonical_block_by_number(number)
            out.append(
                {
                    "block": self.ledger.encode_block(block).hex(),
                    "seals": [s.to_json() for s in self.ledger.seals(number)],
                }
            )
        return out

    def fetch_ahead(self, height: int) -> Iterator[tuple[BlockAPI, list[Seal]]]:
        """Finalised blocks from `height` on, from the first peer that has them."""
        for peer in self.peers:
            try:
                status = peer.get("/p2p/status")
                if int(status["head"]) < height:
                    continue
                items = peer.get("/p2p/blocks", start=height, count=64)
            except (httpx.HTTPError, ValueError, KeyError):
                continue
            for item in items:
                yield (
                    self.ledger.decode_block(bytes.fromhex(item["block"])),
                    [Seal.from_json(s) for s in item["seals"]],
                )
            return

    def status(self) -> dict[str, Any]:
        head = self.ledger.head()
        return {
            "head": head.block_number,
            "hash": "0x" + head.hash.hex(),
            "validator": self.public_key,
            "pending": len(self.pool),
        }

    # -- lifecycle ----------------------------------------------------------------
    def start(self) -> None:
        self.consensus.start()

    def stop(self) -> None:
        self.consensus.stop()
        for peer in self.peers:
            peer.close()
        self.journal.close()
        self.ledger.close()

    def wait_for_block(self, number: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        with self.consensus.finalized:
            while self.ledger.head().block_number < number:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.consensus.finalized.wait(min(left, 0.1))
        return True
