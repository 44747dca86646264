"""Accounts and contract storage for the ledger's state: py-evm's, batched and cached.

py-evm writes a block's storage changes into each contract's storage trie one
slot at a time (every write re-hashing the path from the root), and reads a
slot by decoding every trie node on its path from the database, every time.
`LedgerStorageLookup` keeps py-evm's layering (journal, cache, lookup) and
changes only the bottom layer:

- writes wait in a batch until a root is needed, then go in with one
  `wuye.ledger.trie.update_trie` pass that touches each node once;
- reads walk the trie through a process-wide cache of decoded nodes. Trie
  nodes are addressed by their Keccak hash, so a cached node can never be stale.

`LedgerAccountDB` also encodes and decodes accounts with the trie's small RLP
codec and builds changed accounts directly, rather than through rlp's generic
`Serializable.copy` and sedes (about 20 microseconds each; a transaction
changes a handful of accounts).

The roots and every value read are those of stock py-evm:
`tests/ledger/test_evm.py` compares whole blocks with `ReferenceLedgerVM`.
"""

from __future__ import annotations

from typing import Any

from eth._utils.padding import pad32
from eth.constants import BLANK_ROOT_HASH, EMPTY_SHA3
from eth.db.account import IS_PRESENT_VALUE, AccountDB
from eth.db.cache import CacheDB
from eth.db.journal import JournalDB
from eth.db.storage import AccountStorageDB, StorageLookup
from eth.rlp.accounts import Account
from eth.validation import validate_canonical_address, validate_uint64, validate_uint256
from eth.vm.interrupt import MissingBytecode
from eth_hash.auto import keccak
from eth_utils import int_to_big_endian
from rlp import decode as rlp_decode
from rlp.sedes import big_endian_int
from trie import HexaryTrie

from wuye.ledger.trie import decode_node, encode_node, update_trie

__all__ = ["LedgerAccountDB", "LedgerStorageLookup", "decode_storage_value", "trie_get"]

#: Decoded trie nodes by hash, shared by every trie in the process (content-addressed).
_NODES: dict[bytes, Any] = {}
#: Nodes kept before the cache starts afresh (a few tens of MB at most).
_MAX_NODES = 200_000


def _node(db: Any, ref: Any) -> Any:
    """The decoded node a child reference points at (inline nodes are already decoded)."""
    if ref.__class__ is list:
        return ref
    if len(ref) != 32:  # b"": an empty slot of a branch
        return b""
    node = _NODES.get(ref)
    if node is None:
        node = decode_node(db[ref])
        if len(_NODES) >= _MAX_NODES:
            _NODES.clear()
        _NODES[ref] = node
    return node


def trie_get(db: Any, root_hash: bytes, key: bytes) -> bytes:
    """The value under `key` in the trie at `root_hash`, b"" if there is none.

    What `HexaryTrie(db, root_hash)[key]` returns (Yellow Paper, appendix D),
    through the decoded-node cache. Raises KeyError if `db` lacks a node.
    """
    if root_hash == BLANK_ROOT_HASH:
        return b""
    path = key.hex()
    depth, size = 0, len(path)
    node = _node(db, root_hash)
    while True:
        if node == b"":
            return b""
        if len(node) == 17:  # branch
            if depth == size:
                return node[16]  # type: ignore[no-any-return]
            node = _node(db, node[int(path[depth], 16)])
            depth += 1
            continue
        encoded_path, child = node  # leaf or extension: a hex-prefixed path first
        flag = encoded_path[0] >> 4
        part = encoded_path.hex()[2 - (flag & 1) :]
        if flag & 2:  # leaf
            return child if path[depth:] == part else b""  # type: ignore[no-any-return]
        if not path.startswith(part, depth):
            return b""
        depth += len(part)
        node = _node(db, child)


class LedgerStorageLookup(StorageLookup):
    """py-evm's storage lookup, with batched writes and cached reads (see the module)."""

    _pending: dict[bytes, bytes]

    def _initialize_to_root_hash(self, root_hash: bytes) -> None:
        super()._initialize_to_root_hash(root_hash)  # type: ignore[arg-type]
        self._pending = {}

    def __getitem__(self, key: bytes) -> bytes:
        hashed_slot = keccak(pad32(key))
        pending = self._pending.get(hashed_slot)
        if pending is not None:
            return pending  # b"" for a deleted slot, as the trie answers
        if self._write_trie is None:
            db, root = self._db, self._starting_root_hash
        else:
            db, root = self._trie_nodes_batch, self._write_trie.root_hash
        try:
            return trie_get(db, root, hashed_slot)
        except KeyError:  # a missing node: py-evm's own path raises its own error
            self._flush()
            return super().__getitem__(key)

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._pending[keccak(pad32(key))] = value

    def __delitem__(self, key: bytes) -> None:
        self._pending[keccak(pad32(key))] = b""

    def _exists(self, key: bytes) -> bool:
        return self[key] != b""

    @property
    def has_changed_root(self) -> bool:
        return self._write_trie is not None or bool(self._pending)

    def get_changed_root(self) -> Any:
        self._flush()
        return super().get_changed_root()

    def commit_to(self, db: Any) -> None:
        self._flush()
        super().commit_to(db)

    def new_trie(self) -> int:
        self._flush()
        return super().new_trie()

    def rollback_trie(self, trie_index: int) -> None:
        self._pending = {}  # written to the trie being abandoned
        super().rollback_trie(trie_index)

    def _flush(self) -> None:
        """Apply the pending writes to the write trie, in one pass."""
        if not self._pending:
            return
        write_trie = self._get_write_trie()
        batch = self._trie_nodes_batch
        root, nodes = update_trie(batch, write_trie.root_hash, self._pending)
        for node_hash, encoded in nodes.items():
            batch[node_hash] = encoded
        self._write_trie = HexaryTrie(batch, root_hash=root, prune=True)
        self._pending = {}


def decode_storage_value(encoded: bytes) -> int:
    """rlp.decode(encoded, sedes=big_endian_int), with the common cases inline."""
    size = len(encoded)
    first = encoded[0]
    if size == 1 and 0 < first < 0x80:  # a single byte is its own encoding (0 is b"\x80")
        return first
    # a short string holding a minimal big-endian integer, as rlp requires of one
    minimal = size > 1 and (encoded[1] >= 0x80 if size == 2 else encoded[1] != 0)
    if minimal and first == 0x80 + size - 1:
        return int.from_bytes(encoded[1:], "big")
    return rlp_decode(encoded, sedes=big_endian_int)  # type: ignore[no-any-return]


class LedgerStorageDB(AccountStorageDB):
    """py-evm's account storage over a `LedgerStorageLookup`."""

    def __init__(self, db: Any, storage_root: Any, address: Any) -> None:
        super().__init__(db, storage_root, address)
        self._storage_lookup = LedgerStorageLookup(db, storage_root, address)
        self._storage_cache = CacheDB(self._storage_lookup)
        self._locked_changes = JournalDB(self._storage_cache)
        self._journal_storage = JournalDB(self._locked_changes)

    def get(self, slot: int, from_journal: bool = True) -> int:
        """py-evm's `AccountStorageDB.get`, decoding the common RLP integers inline."""
        self._accessed_slots.add(slot)
        key = int_to_big_endian(slot)
        try:
            encoded = (self._journal_storage if from_journal else self._locked_changes)[key]
        except KeyError:
            return 0
        return decode_storage_value(encoded) if encoded else 0


def encode_account(account: Account) -> bytes:
    """rlp.encode(account, sedes=Account): [nonce, balance, storageRoot, codeHash]."""
    nonce, balance = account.nonce, account.balance
    return encode_node(
        [
            nonce.to_bytes((nonce.bit_length() + 7) // 8, "big"),
            balance.to_bytes((balance.bit_length() + 7) // 8, "big"),
            account.storage_root,
            account.code_hash,
        ]
    )


def decode_account(encoded: bytes) -> Account:
    """rlp.decode(encoded, sedes=Account), for accounts from the ledger's own store."""
    nonce, balance, storage_root, code_hash = decode_node(encoded)
    return Account(
        int.from_bytes(nonce, "big"), int.from_bytes(balance, "big"), storage_root, code_hash
    )


class LedgerAccountDB(AccountDB):
    """py-evm's account database with `LedgerStorageDB` storage and a faster account codec."""

    def _get_account(self, address: Any, from_journal: bool = True) -> Account:
        if from_journal:
            cached = self._account_cache.get(address)
            if cached is not None:
                return cached  # type: ignore[no-any-return]
        encoded = self._get_encoded_account(address, from_journal)
        account = decode_account(encoded) if encoded else Account()
        if from_journal:
            self._account_cache[address] = account
        return account

    def _set_account(self, address: Any, account: Account) -> None:
        self._account_cache[address] = account
        self._journaltrie[address] = encode_account(account)

    def set_balance(self, address: Any, balance: int) -> None:
        validate_canonical_address(address, title="Storage Address")
        validate_uint256(balance, title="Account Balance")
        old = self._get_account(address)
        self._set_account(address, Account(old.nonce, balance, old.storage_root, old.code_hash))

    def set_nonce(self, address: Any, nonce: int) -> None:
        validate_canonical_address(address, title="Storage Address")
        validate_uint64(nonce, title="Nonce")
        old = self._get_account(address)
        self._set_account(address, Account(nonce, old.balance, old.storage_root, old.code_hash))

    # -- for the interpreter's SLOAD and SSTORE (wuye.ledger.ops): the arguments come
    # from the EVM (a canonical address, a uint256 slot and value), so py-evm's
    # argument checks are skipped; everything else is py-evm's own path.
    def storage_value(self, address: bytes, slot: int, from_journal: bool = True) -> int:
        return self._get_address_store(address).get(slot, from_journal)  # type: ignore[no-any-return]

    def set_storage_value(self, address: bytes, slot: int, value: int) -> None:
        self._dirty_accounts.add(address)
        self._get_address_store(address).set(slot, value)

    def warm_storage(self, address: bytes, slot: int) -> bool:
        """Mark a slot accessed in this transaction (EIP-2929); True if it was cold."""
        key = address + int_to_big_endian(slot)
        accessed = self._journal_accessed_state
        if key in accessed:
            return False
        accessed[key] = IS_PRESENT_VALUE
        return True

    def get_code(self, address: Any) -> bytes:
        """py-evm's `get_code`, checking the read-key log without copying it.

        py-evm asks whether the code's hash was read (for block witnesses) by
        copying the whole log of keys read into a frozenset on every call: a
        cost that grows with every key the block has read so far.
        """
        validate_canonical_address(address, title="Storage Address")
        code_hash = self.get_code_hash(address)
        if code_hash == EMPTY_SHA3:
            return b""
        try:
            return self._journaldb[code_hash]  # type: ignore[no-any-return]
        except KeyError:
            raise MissingBytecode(code_hash) from KeyError
        finally:
            keys_read = getattr(self._raw_store_db, "_keys_read", None)
            if keys_read is None:
                keys_read = self._get_accessed_node_hashes()
            if code_hash in keys_read:
                self._accessed_bytecodes.add(address)

    def _get_address_store(self, address: Any) -> Any:
        store = self._account_stores.get(address)
        if store is None:
            storage_root = self._get_storage_root(address)
            store = LedgerStorageDB(self._raw_store_db, storage_root, address)
            self._account_stores[address] = store
        return store
