"""Block execution over the on-disk store: building, re-executing and committing blocks.

`Ledger` owns one node's `LedgerStore`. Reads (RPC, admission) see only
finalised blocks. A proposer builds a `Candidate` from pending transactions;
every validator re-executes a proposed block into a `Candidate` of its own,
which py-evm checks against the proposer's roots. A candidate lives in an
overlay until it is final, then `commit` writes it with its seals in one
LMDB transaction.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rlp
from eth._utils.rlp import validate_imported_block_unchanged
from eth.abc import BlockAPI, BlockHeaderAPI, SignedTransactionAPI
from eth.db.atomic import AtomicDB
from eth_abi import decode as abi_decode
from eth_utils import ValidationError, keccak, to_checksum_address
from eth_utils import encode_hex as _hex

from wuye.ledger.genesis import (
    LEDGER_VM,
    PERMISSIONS_ADDRESS,
    VALIDATORS_ADDRESS,
    ZERO_HASH,
    Genesis,
    GenesisError,
    build_genesis,
    chain_class,
)
from wuye.ledger.seals import Seal
from wuye.ledger.store import LedgerStore, Overlay
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

    def __init__(self, data_dir: Path, genesis: Genesis) -> None:
        self.data_dir = Path(data_dir)
        self.store = LedgerStore(self.data_dir / "chain")
        self.genesis = genesis
        self.chain_id = genesis.chain_id
        self.chain_class = chain_class(genesis.chain_id)
        self.block_class = LEDGER_VM.get_block_class()
        self._validator_cache: dict[bytes, list[ValidatorInfo]] = {}
        self._commit_lock = threading.Lock()
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
        return self.reader().get_canonical_head()

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
        state = self.state_at(self.head())
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
    def _template(self, chain: Any, parent: BlockHeaderAPI, timestamp: int, extra: bytes) -> Any:
        return chain.create_header_from_parent(
            parent,
            timestamp=max(timestamp, parent.timestamp + 1),
            coinbase=b"\0" * 20,
            extra_data=extra,
            parent_beacon_block_root=ZERO_HASH,
        )

    def build(
        self, txs: list[SignedTransactionAPI], timestamp: int | None = None, extra: bytes = b""
    ) -> Candidate:
        """Execute `txs` on the head and return the resulting block, dropping invalid ones."""
        parent = self.head()
        timestamp = int(time.time()) if timestamp is None else timestamp
        dropped: list[bytes] = []
        txs = list(txs)
        while True:
            overlay = self.store.overlay()
            chain = self.chain_class(AtomicDB(overlay))
            header = self._template(chain, parent, timestamp, extra)
            block = self.block_class(header, transactions=txs, uncles=[], withdrawals=[])
            try:
                imported = _import(chain, block, validate=False)
            except ValidationError:
                bad = self._first_invalid(parent, txs, timestamp, extra)
                dropped.append(txs[bad].hash)
                txs = txs[:bad]
                continue
            return Candidate(imported, overlay, dropped)

    def _first_invalid(
        self, parent: BlockHeaderAPI, txs: list[SignedTransactionAPI], timestamp: int, extra: bytes
    ) -> int:
        chain = self.chain_class(AtomicDB(self.store.overlay()))
        vm = chain.get_vm(self._template(chain, parent, timestamp, extra))
        header = vm.get_header()
        for index, tx in enumerate(txs):
            try:
                receipt, _ = vm.apply_transaction(header, tx)
            except ValidationError:
                return index
            header = vm.add_receipt_to_header(header, receipt)
        raise RuntimeError("block failed to build, but every transaction applies alone")

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
        """Write a final block, its state and its seals in one transaction."""
        number = candidate.block.number
        with self._commit_lock:
            head = self.head()
            if candidate.header.parent_hash != head.hash:
                raise ValidationError(f"block #{number} no longer extends the head")
            meta = {META_SEALS + _num(number): json.dumps([s.to_json() for s in seals]).encode()}
            self.store.commit(candidate.overlay, meta)

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
