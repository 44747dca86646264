"""On-disk key-value store of a ledger node (LMDB), and py-evm views onto it.

Every finalised block is written in one LMDB write transaction: its state
trie nodes, header, body, receipts, canonical-chain pointers and seals
together, so after `kill -9` at any moment the store holds either the whole
block or none of it. Execution of a block that is not yet final happens in an
`Overlay`: reads fall through to a consistent LMDB snapshot, writes stay in
memory until `LedgerStore.commit` or are dropped with the overlay.

Admitted but not yet final transactions are kept too, in the `pool`
sub-database, so a restart (even after `kill -9`) still holds every
transaction whose hash a sender was given. `PoolJournal` writes them in group
commits: one synced LMDB transaction for whatever arrived meanwhile. A block's
commit deletes its transactions' pool entries in the same LMDB transaction.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import lmdb
from eth.db.backends.base import BaseDB

#: Named LMDB sub-databases: py-evm's own keys, and the node's metadata.
EVM_DB = b"evm"
META_DB = b"meta"
POOL_DB = b"pool"
_DELETED = object()


class LedgerStore:
    """An LMDB environment with the py-evm key space and the node's metadata."""

    def __init__(self, path: Path, map_size: int = 64 << 30) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.env = lmdb.open(
            str(self.path),
            map_size=map_size,
            max_dbs=4,
            max_readers=512,
            sync=True,
            metasync=True,
        )
        self.evm = self.env.open_db(EVM_DB)
        self.meta = self.env.open_db(META_DB)
        self.pool = self.env.open_db(POOL_DB)
        self._write_lock = threading.Lock()

    def close(self) -> None:
        self.env.close()

    def overlay(self) -> Overlay:
        """A fresh in-memory write layer over a snapshot of the store."""
        return Overlay(self)

    def get_meta(self, key: bytes) -> bytes | None:
        with self.env.begin(db=self.meta) as txn:
            return txn.get(key)

    def meta_items(self, prefix: bytes) -> Iterator[tuple[bytes, bytes]]:
        with self.env.begin(db=self.meta) as txn:
            cursor = txn.cursor()
            if not cursor.set_range(prefix):
                return
            for key, value in cursor:
                if not key.startswith(prefix):
                    break
                yield bytes(key), bytes(value)

    def put_meta(self, items: Mapping[bytes, bytes]) -> None:
        with self._write_lock, self.env.begin(write=True, db=self.meta) as txn:
            for key, value in items.items():
                txn.put(key, value)

    def commit(
        self, overlay: Overlay, meta: Mapping[bytes, bytes], forget: Iterable[bytes] = ()
    ) -> None:
        """Write an overlay's changes and `meta`, and delete the pool entries `forget`,
        atomically, and sync to disk."""
        with self._write_lock, self.env.begin(write=True) as txn:
            cursor = txn.cursor(db=self.evm)
            cursor.putmulti((k, v) for k, v in overlay.pending.items() if v is not _DELETED)
            for key, value in overlay.pending.items():
                if value is _DELETED:
                    txn.delete(key, db=self.evm)
            for key, value in meta.items():
                txn.put(key, value, db=self.meta)
            for key in forget:
                txn.delete(key, db=self.pool)
        overlay.release()

    # -- the transaction pool's journal -------------------------------------------
    def pool_items(self) -> list[tuple[bytes, bytes]]:
        """Pool entries (key, value) in the order they were written."""
        with self.env.begin(db=self.pool) as txn:
            items = [(bytes(k), bytes(v)) for k, v in txn.cursor()]
        return sorted(items, key=lambda item: item[1][:8])

    def pool_write(self, changes: Iterable[tuple[bytes, bytes | None]]) -> None:
        """Apply pool puts (key, value) and deletes (key, None) in order, in one transaction."""
        with self._write_lock, self.env.begin(write=True, db=self.pool) as txn:
            for key, value in changes:
                if value is None:
                    txn.delete(key)
                else:
                    txn.put(key, value)


class _Written(threading.Event):
    """Set once an entry's group commit is done; `error` says if it failed."""

    error: Exception | None = None


class PoolJournal:
    """Durable pool entries (transaction hash -> sequence number and raw bytes), group-committed.

    `add(..., durable=True)` returns once the entry is synced to disk;
    concurrent callers share one LMDB write transaction and one fsync.
    """

    def __init__(self, store: LedgerStore) -> None:
        self.store = store
        self._queue: list[tuple[bytes, bytes | None, _Written | None]] = []
        self._cond = threading.Condition()
        self._running = True
        self._thread = threading.Thread(target=self._run, name="wuye-pool-journal", daemon=True)
        self._thread.start()

    def entries(self) -> list[tuple[bytes, int, bytes]]:
        """Stored entries as (hash, sequence, raw transaction), oldest first."""
        return [(k, int.from_bytes(v[:8], "big"), v[8:]) for k, v in self.store.pool_items()]

    def add(self, tx_hash: bytes, seq: int, raw: bytes, durable: bool = True) -> None:
        written = _Written() if durable else None
        with self._cond:
            if not self._running:
                raise RuntimeError("the pool journal is closed")
            self._queue.append((tx_hash, seq.to_bytes(8, "big") + raw, written))
            self._cond.notify()
        if written is not None:
            written.wait()
            if written.error is not None:
                raise RuntimeError(f"could not persist the transaction: {written.error}")

    def forget(self, tx_hashes: Iterable[bytes]) -> None:
        """Delete entries, without waiting (a stale entry is discarded on the next start)."""
        with self._cond:
            self._queue.extend((h, None, None) for h in tx_hashes)
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and self._running:
                    self._cond.wait()
                batch, self._queue = self._queue, []
                if not batch and not self._running:
                    return
            error: Exception | None = None
            try:
                self.store.pool_write((key, value) for key, value, _ in batch)
            except Exception as exc:  # noqa: BLE001 - reported to the waiting submitters
                error = exc
            for _, _, written in batch:
                if written is not None:
                    written.error = error
                    written.set()

    def close(self) -> None:
        """Write what is queued, then stop."""
        with self._cond:
            self._running = False
            self._cond.notify()
        self._thread.join(timeout=10)


class Overlay(BaseDB):
    """A py-evm database: pending writes in memory over one LMDB read snapshot."""

    def __init__(self, store: LedgerStore) -> None:
        self.store = store
        self.pending: dict[bytes, object] = {}
        self._txn: lmdb.Transaction | None = store.env.begin(db=store.evm, buffers=False)
        self._lock = threading.Lock()

    def release(self) -> None:
        """End the read snapshot; the overlay's pending writes stay readable."""
        with self._lock:
            if self._txn is not None:
                self._txn.abort()
                self._txn = None

    def refresh(self) -> None:
        """Move the read snapshot to the store's latest committed state."""
        with self._lock:
            if self._txn is not None:
                self._txn.abort()
            self._txn = self.store.env.begin(db=self.store.evm, buffers=False)

    def _read(self, key: bytes) -> bytes | None:
        with self._lock:
            if self._txn is None:
                self._txn = self.store.env.begin(db=self.store.evm, buffers=False)
            return self._txn.get(key)

    def __getitem__(self, key: bytes) -> bytes:
        value = self.pending.get(key)
        if value is None:
            found = self._read(key)
            if found is None:
                raise KeyError(key)
            return found
        if value is _DELETED:
            raise KeyError(key)
        return value  # type: ignore[return-value]

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self.pending[key] = value

    def _exists(self, key: bytes) -> bool:
        value = self.pending.get(key)
        if value is None:
            return self._read(key) is not None
        return value is not _DELETED

    def __delitem__(self, key: bytes) -> None:
        if not self._exists(key):
            raise KeyError(key)
        self.pending[key] = _DELETED

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # interpreter shutdown: nothing to release
            self.release()
