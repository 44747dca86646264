"""A ledger node: chain, transaction pool, consensus, peers and the HTTP server, together.

`NodeConfig` is what `wuye ledger node --config FILE` reads. A node with a
validator key takes part in consensus; every node serves JSON-RPC and the
peer endpoints under `/p2p/` on one HTTP port.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
from eth.abc import BlockAPI

from wuye import crypto
from wuye.ledger.consensus import Consensus
from wuye.ledger.execution import Ledger
from wuye.ledger.genesis import Genesis
from wuye.ledger.seals import Seal
from wuye.ledger.txpool import AccountView, TxPool, TxRejected

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
    block_interval: float = 1.0
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
    """Another node, reached over HTTP; outgoing messages go through a queue and one thread."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
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
                return
            batches: dict[str, list[Any]] = {item[0]: [item[1]]}
            while len(batches.get(item[0], ())) < 500:
                try:
                    more = self.outbox.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    return
                batches.setdefault(more[0], []).append(more[1])
            for path, payloads in batches.items():
                try:
                    self.client.post(self.url + path, json=payloads)
                except httpx.HTTPError:
                    pass  # the peer is down; consensus recovers by round change and sync

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
        self.peers = [Peer(url) for url in config.peers]
        self.tx_builder = self.ledger.block_class.get_transaction_builder()
        self._views: dict[bytes, AccountView] = {}
        self._views_generation = 0
        self._views_lock = threading.Lock()
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

    def submit(self, raw: bytes, gossip: bool = True) -> bytes:
        """Admit a signed transaction to the pool and pass it on to peers."""
        try:
            tx = self.tx_builder.decode(raw)
        except Exception as exc:  # noqa: BLE001 - any decoding failure is the sender's
            raise TxRejected(f"invalid raw transaction: {exc}") from exc
        added = self.pool.add(tx, self.account_view, self.ledger.chain_id)
        if added and gossip:
            for peer in self.peers:
                peer.send("/p2p/txs", "0x" + raw.hex())
        return tx.hash

    def next_nonce(self, address: bytes) -> int:
        return max(self.account_view(address).nonce, self.pool.next_nonce(address))

    def on_finalized(self, tx_hashes: list[bytes]) -> None:
        with self._views_lock:
            self._views.clear()
            self._views_generation += 1
        self.pool.remove_included(tx_hashes, lambda a: self.account_view(a).nonce)

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
