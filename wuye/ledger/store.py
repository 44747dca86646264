"""On-disk key-value store of a ledger node (LMDB), and py-evm views onto it.

Every finalised block is written in one LMDB write transaction: its state
trie nodes, header, body, receipts, canonical-chain pointers and seals
together, so after `kill -9` at any moment the store holds either the whole
block or none of it. Execution of a block that is not yet final happens in an
`Overlay`: reads fall through to a consistent LMDB snapshot, writes stay in
memory until `LedgerStore.commit` or are dropped with the overlay.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

import lmdb
from eth.db.backends.base import BaseDB

#: Named LMDB sub-databases: py-evm's own keys, and the node's metadata.
EVM_DB = b"evm"
META_DB = b"meta"
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

    def commit(self, overlay: Overlay, meta: Mapping[bytes, bytes]) -> None:
        """Write an overlay's changes and `meta` atomically, and sync to disk."""
        with self._write_lock, self.env.begin(write=True) as txn:
            for key, value in overlay.pending.items():
                if value is _DELETED:
                    txn.delete(key, db=self.evm)
                else:
                    txn.put(key, value, db=self.evm)
            for key, value in meta.items():
                txn.put(key, value, db=self.meta)
        overlay.release()


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
