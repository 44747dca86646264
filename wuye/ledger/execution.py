"""Block execution over the on-disk store: building, re-executing and committing blocks.

`Ledger` owns one node's `LedgerStore`. Reads (RPC, admission) see only
finalised blocks. A proposer builds a `Candidate` from pending transactions;
every validator re-executes a proposed block into a `Candidate` of its own,
which py-evm checks against the proposer's roots. A candidate lives in an
overlay until it is final, then `commit` writes it with its seals in one
LMDB transaction.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rlp
from eth._utils.headers import compute_gas_limit_bounds
from eth._utils.rlp import validate_imported_block_unchanged
from eth.abc import BlockAPI, BlockHeaderAPI, SignedTransactionAPI
from eth.constants import BLANK_ROOT_HASH
from eth.db import trie as eth_trie
from eth.db.atomic import AtomicDB
from eth.vm.forks.cancun.state import get_total_blob_gas
from eth_abi import decode as abi_decode
from eth_hash.auto import keccak
from eth_utils import ValidationError, to_checksum_address
from eth_utils import encode_hex as _hex
from trie.utils.nibbles import bytes_to_nibbles

from wuye.ledger.genesis import (
    LEDGER_VM,
    PERMISSIONS_ADDRESS,
    VALIDATORS_ADDRESS,
    ZERO_HASH,
    Genesis,
    GenesisError,
    LedgerFork,
    build_genesis,
    chain_class,
)
from wuye.ledger.seals import Seal
from wuye.ledger.store import LedgerStore, Overlay
from wuye.ledger.trie import encode_node
from wuye.ledger.txpool import AccountView

ROLE_SENDER = 1
_GET_VALIDATORS = keccak(b"get_validators()")[:4]
META_GENESIS = b"genesis"
META_SEALS = b"seals:"
META_EVIDENCE = b"evidence:"


def _num(n: int) -> bytes:
    return n.to_bytes(8, "big")


def roles_slot(account: bytes) -> int:
    """Storage slot of `Permissions.roles[account]` (Vyper: keccak(slot ‖ key))."""
    return int.from_bytes(keccak(b"\0" * 32 + b"\0" * 12 + account), "big")


@dataclass(frozen=True)
class ValidatorInfo:
    account: str
    public_key: str  # SM2, uncompressed hex (04 || x || y), lower case


@dataclass
class Candidate:
    """An executed block, not yet final, with the overlay holding its writes."""

    block: BlockAPI
    overlay: Overlay
    dropped: list[bytes] = field(default_factory=list)

    @property
    def header(self) -> BlockHeaderAPI:
        return self.block.header


def _hex_prefix(nibbles: tuple[int, ...], leaf: bool) -> bytes:
    """The Merkle Patricia trie's hex-prefix encoding of a path (Yellow Paper, appendix C)."""
    flag = 2 if leaf else 0
    if len(nibbles) % 2:
        nibbles = (flag + 1, *nibbles)
    else:
        nibbles = (flag, 0, *nibbles)
    return bytes(16 * nibbles[i] + nibbles[i + 1] for i in range(0, len(nibbles), 2))


def ordered_trie_root_and_nodes(items: tuple[bytes, ...]) -> tuple[bytes, dict[bytes, bytes]]:
    """Root and hashed nodes of the trie mapping rlp(i) -> items[i], built in one pass.

    The same root and nodes as py-evm's `make_trie_root_and_nodes` (a block's
    transaction and receipt tries), without inserting the items one by one
    into a `HexaryTrie`, which took a fifth of block execution.
    """
    if not items:
        return BLANK_ROOT_HASH, {}
    nodes: dict[bytes, bytes] = {}
    pairs = sorted((bytes_to_nibbles(rlp.encode(index)), item) for index, item in enumerate(items))

    def ref(node: list[Any]) -> Any:
        encoded = encode_node(node)
        if len(encoded) < 32:
            return node
        digest = keccak(encoded)
        nodes[digest] = encoded
        return digest

    def build(pairs: list[tuple[tuple[int, ...], bytes]], depth: int) -> list[Any]:
        if len(pairs) == 1:
            key, value = pairs[0]
            return [_hex_prefix(key[depth:], leaf=True), value]
        first, last = pairs[0][0], pairs[-1][0]  # sorted: their common prefix is everyone's
        common = depth
        while common < min(len(first), len(last)) and first[common] == last[common]:
            common += 1
        if common > depth:
            return [_hex_prefix(first[depth:common], leaf=False), ref(build(pairs, common))]
        branch: list[Any] = [b""] * 17
        groups: dict[int, list[tuple[tuple[int, ...], bytes]]] = {}
        for key, value in pairs:
            if len(key) == depth:
                branch[16] = value
            else:
                groups.setdefault(key[depth], []).append((key, value))
        for nibble, group in groups.items():
            branch[nibble] = ref(build(group, depth + 1))
        return branch

    encoded_root = encode_node(build(pairs, 0))
    root = keccak(encoded_root)
    nodes[root] = encoded_root
    return root, nodes


# py-evm computes each block's transaction and receipt tries through this one cached
# function (eth.db.trie); the one-pass builder gives identical results, faster.
eth_trie._make_trie_root_and_nodes = functools.lru_cache(128)(ordered_trie_root_and_nodes)


class _RunningHeader:
    """A block's header while its transactions are applied: gas used and bloom so far.

    What py-evm's `add_receipt_to_header` keeps, without copying the whole
    header after every transaction (a twentieth of block execution); the
    other fields are the template's. The real header is made once, at the end.
    """

    def __init__(self, header: BlockHeaderAPI) -> None:
        self._header = header
        self.gas_used = header.gas_used
        self.bloom = header.bloom

    def __getattr__(self, name: str) -> Any:
        return getattr(self._header, name)

    def add(self, receipt: Any) -> None:
        self.gas_used = receipt.gas_used  # receipts carry the cumulative figure
        self.bloom |= receipt.bloom


def _import(chain: Any, block: BlockAPI, validate: bool) -> BlockAPI:
    """py-evm's Chain.import_block, without reading the stored block back afterwards."""
    parent = chain.get_block_header_by_hash(block.header.parent_hash)
    base = chain.create_header_from_parent(parent).copy(gas_used=block.header.gas_used)
    imported = chain.get_vm(base).import_block(block).block
    if validate:
        validate_imported_block_unchanged(imported, block)
        chain.validate_block(imported)
    chain.chaindb.persist_block(imported)
    return imported


class Ledger:
    """One node's chain: genesis, finalised blocks and their seals, on disk."""

    def __init__(
        self, data_dir: Path, genesis: Genesis, vm_class: type[LedgerFork] = LEDGER_VM
    ) -> None:
        self.data_dir = Path(data_dir)
        self.store = LedgerStore(self.data_dir / "chain")
        self.genesis = genesis
        self.chain_id = genesis.chain_id
        self.chain_class = chain_class(genesis.chain_id, vm_class)
        self.block_class = vm_class.get_block_class()
        self._validator_cache: dict[bytes, list[ValidatorInfo]] = {}
        self._commit_lock = threading.Lock()
        self._head: BlockHeaderAPI | None = None
        self._head_state: tuple[bytes, Any] | None = None
        self._head_state_lock = threading.Lock()
        stored = self.store.get_meta(META_GENESIS)
        if stored is None:
            overlay = self.store.overlay()
            header = build_genesis(AtomicDB(overlay), genesis)
            record = dict(genesis.to_json(), genesisHash=_hex(header.hash))
            self.store.commit(overlay, {META_GENESIS: json.dumps(record).encode()})
        else:
            recorded = json.loads(stored)
            ours = dict(genesis.to_json(), genesisHash=recorded["genesisHash"])
            if genesis.genesis_hash and genesis.genesis_hash != recorded["genesisHash"]:
                raise GenesisError(
                    f"{self.data_dir} holds chain {recorded['genesisHash']}, "
                    f"not {genesis.genesis_hash}"
                )
            if ours != recorded:
                raise GenesisError(f"{self.data_dir} holds a chain of a different genesis")
        self.genesis_hash = self.header_by_number(0).hash

    def close(self) -> None:
        self.store.close()

    # -- reading finalised state --------------------------------------------
    def reader(self) -> Any:
        """A py-evm chain over a fresh snapshot of finalised state."""
        return self.chain_class(AtomicDB(self.store.overlay()))

    def head(self) -> BlockHeaderAPI:
        """The newest final header (kept in memory: this ledger is its store's only writer)."""
        head = self._head
        if head is None:
            head = self._head = self.reader().get_canonical_head()
        return head

    def header_by_number(self, number: int) -> BlockHeaderAPI:
        return self.reader().get_canonical_block_header_by_number(number)

    def seals(self, number: int) -> list[Seal]:
        raw = self.store.get_meta(META_SEALS + _num(number))
        if raw is None:
            return []
        return [Seal.from_json(s) for s in json.loads(raw)]

    def state_at(self, header: BlockHeaderAPI, chain: Any = None) -> Any:
        """The state after `header` (a py-evm StateAPI over a throwaway overlay)."""
        chain = chain or self.reader()
        vm = chain.get_vm(chain.create_header_from_parent(header))
        return vm.state

    def account_view(self, address: bytes) -> AccountView:
        """Nonce, balance and allowlist entry of `address` at the head.

        One py-evm state per head serves every look-up (building it costs far
        more than the reads), under a lock since RPC threads share it.
        """
        with self._head_state_lock:
            head = self.head()
            if self._head_state is None or self._head_state[0] != head.hash:
                self._head_state = (head.hash, self.state_at(head))
            state = self._head_state[1]
            roles = state.get_storage(PERMISSIONS_ADDRESS, roles_slot(address))
            return AccountView(
                nonce=state.get_nonce(address),
                balance=state.get_balance(address),
                allowed=bool(roles & ROLE_SENDER),
            )

    def validators_after(self, header: BlockHeaderAPI, chain: Any = None) -> list[ValidatorInfo]:
        """The validator set for the block after `header`, from the Validators contract."""
        cached = self._validator_cache.get(header.state_root)
        if cached is not None:
            return cached
        chain = chain or self.reader()
        vm = chain.get_vm(chain.create_header_from_parent(header))
        computation = vm.execute_bytecode(
            origin=None,
            gas_price=0,
            gas=10_000_000,
            to=VALIDATORS_ADDRESS,
            sender=b"\0" * 20,
            value=0,
            data=_GET_VALIDATORS,
            code=vm.state.get_code(VALIDATORS_ADDRESS),
        )
        computation.raise_if_error()
        (rows,) = abi_decode(["(address,bytes32,bytes32)[]"], computation.output)
        result = [ValidatorInfo(to_checksum_address(a), "04" + (x + y).hex()) for a, x, y in rows]
        result.sort(key=lambda v: v.account.lower())
        if len(self._validator_cache) > 256:
            self._validator_cache.clear()
        self._validator_cache[header.state_root] = result
        return result

    def validators_for(self, number: int) -> list[ValidatorInfo]:
        """The validators that seal block `number`."""
        return self.validators_after(self.header_by_number(number - 1))

    # -- building and executing ---------------------------------------------
    def gas_limit_after(self, parent: BlockHeaderAPI) -> int:
        """The next block's gas limit: genesis's, reached within the 1/1024 step rule.

        py-evm's own default lets an idle chain's limit decay 1/1024 per block
        towards 5,000 gas; a permissioned ledger keeps the limit genesis names.
        """
        low, high = compute_gas_limit_bounds(parent.gas_limit)
        return min(max(self.genesis.gas_limit, low), high)

    def _template(self, chain: Any, parent: BlockHeaderAPI, timestamp: int, extra: bytes) -> Any:
        return chain.create_header_from_parent(
            parent,
            gas_limit=self.gas_limit_after(parent),
            timestamp=max(timestamp, parent.timestamp),
            coinbase=b"\0" * 20,
            extra_data=extra,
            parent_beacon_block_root=ZERO_HASH,
        )

    def build(
        self, txs: list[SignedTransactionAPI], timestamp: int | None = None, extra: bytes = b""
    ) -> Candidate:
        """Execute `txs` in order on the head, once, and return the block of those that fit.

        A transaction whose gas limit exceeds the gas left in the block is left
        out together with its sender's later nonces: it is not wrong, it waits
        for the next block. One that is invalid on the state it meets (nonce,
        funds) is left out likewise and listed in `dropped`. The rule is
        deterministic, so every validator executing a batch builds the same block.
        """
        parent = self.head()
        timestamp = int(time.time()) if timestamp is None else timestamp
        overlay = self.store.overlay()
        chain = self.chain_class(AtomicDB(overlay))
        vm = chain.get_vm(self._template(chain, parent, timestamp, extra))
        vm.block_preprocessing(vm.get_block())
        header = vm.get_header()
        running = _RunningHeader(header)
        included: list[SignedTransactionAPI] = []
        receipts = []
        dropped: list[bytes] = []
        skipped: set[bytes] = set()  # senders with a deferred or dropped transaction
        for tx in txs:
            sender = tx.sender
            if sender in skipped:
                continue
            if tx.gas > running.gas_limit - running.gas_used:
                skipped.add(sender)  # does not fit: stays pending for a later block
                continue
            if get_total_blob_gas(tx):  # no blob data here; admission refuses them too
                skipped.add(sender)
                dropped.append(tx.hash)
                continue
            snapshot = vm.state.snapshot()
            try:
                receipt, _ = vm.apply_transaction(running, tx)  # type: ignore[arg-type]
            except ValidationError:
                vm.state.revert(snapshot)
                skipped.add(sender)
                dropped.append(tx.hash)
                continue
            running.add(receipt)
            included.append(tx)
            receipts.append(receipt)
        header = header.copy(gas_used=running.gas_used, bloom=running.bloom)
        filled = vm.set_block_transactions_and_withdrawals(
            vm.get_block(), header, included, receipts, withdrawals=[]
        )
        block = vm.mine_block(vm.block_postprocessing(filled)).block
        chain.chaindb.persist_block(block)
        return Candidate(block, overlay, dropped)

    def execute(self, block: BlockAPI) -> Candidate:
        """Re-execute a proposed block on our head; raises ValidationError if it differs."""
        overlay = self.store.overlay()
        chain = self.chain_class(AtomicDB(overlay))
        parent = chain.get_canonical_head()
        if block.header.parent_hash != parent.hash:
            raise ValidationError(
                f"block #{block.number} does not extend our head #{parent.block_number}"
            )
        return Candidate(_import(chain, block, validate=True), overlay)

    def commit(self, candidate: Candidate, seals: list[Seal]) -> None:
        """Write a final block, its state and its seals in one transaction.

        The same transaction deletes the block's transactions from the pool journal.
        """
        number = candidate.block.number
        with self._commit_lock:
            head = self.head()
            if candidate.header.parent_hash != head.hash:
                raise ValidationError(f"block #{number} no longer extends the head")
            meta = {META_SEALS + _num(number): json.dumps([s.to_json() for s in seals]).encode()}
            included = [tx.hash for tx in candidate.block.transactions]
            self.store.commit(candidate.overlay, meta, forget=included)
            self._head = candidate.header

    def encode_block(self, block: BlockAPI) -> bytes:
        return rlp.encode(block)

    def decode_block(self, raw: bytes) -> BlockAPI:
        return rlp.decode(raw, sedes=self.block_class)

    # -- evidence -------------------------------------------------------------
    def record_evidence(self, evidence: dict[str, Any]) -> None:
        key = (
            META_EVIDENCE
            + _num(int(evidence.get("height", 0)))
            + keccak(json.dumps(evidence, sort_keys=True).encode())[:8]
        )
        if self.store.get_meta(key) is None:
            self.store.put_meta({key: json.dumps(evidence, sort_keys=True).encode()})

    def evidence(self) -> list[dict[str, Any]]:
        return [json.loads(v) for _, v in self.store.meta_items(META_EVIDENCE)]
