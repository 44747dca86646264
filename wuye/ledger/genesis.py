"""The genesis file of a wuye ledger, and the genesis state it determines.

`genesis.json` names the chain id, funded accounts, the initial validators
(governance account and SM2 public key each), and the accounts allowed to
transact. The genesis state is derived deterministically from it: balances,
plus the system contracts `Permissions` and `Validators` deployed at fixed
addresses by running their constructors. Anyone holding the file can rebuild
the genesis header and compare its hash.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth.abc import AtomicDatabaseAPI, BlockHeaderAPI
from eth.chains.base import Chain
from eth.db.chain import ChainDB
from eth.rlp.headers import BlockHeader
from eth.rlp.logs import Log
from eth.rlp.receipts import Receipt
from eth.vm.chain_context import ChainContext
from eth.vm.forks import PragueVM
from eth.vm.forks.byzantium.constants import (
    EIP658_TRANSACTION_STATUS_CODE_FAILURE as RECEIPT_FAILURE,
)
from eth.vm.forks.byzantium.constants import (
    EIP658_TRANSACTION_STATUS_CODE_SUCCESS as RECEIPT_SUCCESS,
)
from eth.vm.forks.prague.blocks import PragueBlock
from eth.vm.forks.prague.constants import DEPOSIT_CONTRACT_ADDRESS, DEPOSIT_REQUEST_TYPE
from eth.vm.forks.prague.state import PragueState
from eth.vm.message import Message
from eth_abi import encode as abi_encode
from eth_hash.auto import keccak
from eth_utils import to_canonical_address, to_checksum_address
from rlp.codec import encode_raw as rlp_encode_raw

from wuye.ledger import contracts
from wuye.ledger.evm import LedgerState


def use_fast_keccak() -> None:
    """Hash with pysha3's C Keccak when it is installed.

    eth-hash, which py-evm, trie and eth-utils all hash through, prefers
    pycryptodome whenever both are installed; pycryptodome's keccak costs about
    ten times as much per call, and a block's state and tries hash thousands
    of small nodes.
    """
    try:
        from eth_hash.backends import pysha3
    except ImportError:  # safe-pysha3 not installed: keep eth-hash's own choice
        return
    keccak.hasher = pysha3.keccak256
    keccak.preimage = pysha3.preimage


use_fast_keccak()


class LedgerBlock(PragueBlock):
    """Prague's block, copied without deep-copying its transactions.

    py-evm copies a block three times while sealing it (pack, finalise,
    requests hash), and rlp's `Serializable.copy` deep-copies every field not
    replaced: every transaction, each time. Blocks, headers and transactions
    are immutable, so a copy can share them.
    """

    def copy(self, *args: Any, **kwargs: Any) -> LedgerBlock:
        if args:
            return super().copy(*args, **kwargs)  # type: ignore[no-any-return]
        fields = {name: getattr(self, name) for name in self._meta.field_names}
        fields.update(kwargs)
        return type(self)(**fields)


class LedgerFork(PragueVM):
    """Prague, the latest fork py-evm supports, minus a scan for beacon-chain deposits.

    Prague reads back every receipt of a block to collect EIP-6110 deposit
    events of the mainnet deposit contract. This ledger has no such contract,
    so the scan can only find nothing; skipping it gives the same block and
    saves reading all receipts back from their trie.

    The rules every block follows; `LedgerVM` is how validators run them, and
    `ReferenceLedgerVM` how an independent check runs them.
    """

    block_class = LedgerBlock

    @classmethod
    def validate_header(cls, header: BlockHeaderAPI, parent_header: BlockHeaderAPI) -> None:
        """py-evm's header checks, except that a timestamp may equal its parent's.

        Timestamps are whole seconds of the proposer's clock, and this ledger
        finalises several blocks a second under load; requiring each to be a
        second later would run block time ahead of the clock (and past the
        validators' drift bound). Timestamps still never go backwards.
        """
        if parent_header is not None and header.timestamp == parent_header.timestamp:
            parent_header = parent_header.copy(timestamp=header.timestamp - 1)
        super().validate_header(header, parent_header)

    def process_deposit_request_data(self, block: Any) -> None:
        if self.state.get_code(DEPOSIT_CONTRACT_ADDRESS):
            super().process_deposit_request_data(block)
        else:
            block.block_requests.append(DEPOSIT_REQUEST_TYPE)


#: Transaction types whose receipt is `Receipt` (typed: wrapped as it is): legacy,
#: EIP-2930 and EIP-1559. Others take py-evm's own `make_receipt`.
_PLAIN_RECEIPT_TYPES = (None, 1, 2)


def logs_bloom(logs: list[Log]) -> int:
    """The receipt bloom of `logs` (Yellow Paper 4.4.1, M3:2048): what eth_bloom computes.

    For each log's address and each topic (as 32 bytes): the low 11 bits of
    each of the first three byte pairs of its Keccak hash set a bit.
    """
    bits = 0
    for log in logs:
        for item in (log.address, *(topic.to_bytes(32, "big") for topic in log.topics)):
            digest = keccak(item)
            bits |= (
                1 << ((digest[0] << 8 | digest[1]) & 2047)
                | 1 << ((digest[2] << 8 | digest[3]) & 2047)
                | 1 << ((digest[4] << 8 | digest[5]) & 2047)
            )
    return bits


def encode_receipt(receipt: Receipt) -> bytes:
    """rlp.encode(receipt): [status, gas used, bloom (256 bytes), [[address, [topic], data]]].

    Built from the fields directly rather than through each field's sedes
    (which checks and converts every log and topic once more).
    """
    gas_used = receipt.gas_used
    return rlp_encode_raw(
        [
            receipt.state_root,
            gas_used.to_bytes((gas_used.bit_length() + 7) // 8, "big"),
            receipt.bloom.to_bytes(256, "big"),
            [
                [log.address, [topic.to_bytes(32, "big") for topic in log.topics], log.data]
                for log in receipt.logs
            ],
        ]
    )


class LedgerVM(LedgerFork):
    """The ledger's fork as validators execute it: the same results, less overhead.

    Messages run on `wuye.ledger.evm.LedgerComputation`, py-evm's Prague
    computation with a leaner interpreter loop, over `LedgerState`.

    py-evm re-checks each receipt it has just made from a transaction's logs:
    that the receipt's bloom filter holds every log's address and topics. The
    bloom is computed from those very logs when the receipt is made, so on a
    receipt made here the check cannot fail; this VM skips it. Receipts of
    legacy, EIP-2930 and EIP-1559 transactions are built here with their bloom
    (`logs_bloom`) and their encoding (`encode_receipt`, set as rlp's cached
    one, which the receipt trie then uses); other types take py-evm's path.
    """

    _state_class = LedgerState

    @classmethod
    def validate_receipt(cls, receipt: Any) -> None:
        pass

    @classmethod
    def make_receipt(cls, base_header: Any, transaction: Any, computation: Any, state: Any) -> Any:
        """Byzantium's receipt, its bloom and its encoding computed directly (same bytes)."""
        type_id = transaction.type_id
        if type_id not in _PLAIN_RECEIPT_TYPES:
            return super().make_receipt(base_header, transaction, computation, state)
        gas_used = base_header.gas_used + cls.finalize_gas_used(transaction, computation)
        logs = [
            Log(address, topics, data) for address, topics, data in computation.get_log_entries()
        ]
        inner = Receipt(
            state_root=RECEIPT_FAILURE if computation.is_error else RECEIPT_SUCCESS,
            gas_used=gas_used,
            logs=logs,
            bloom=logs_bloom(logs),
        )
        inner._cached_rlp = encode_receipt(inner)
        if type_id is None:  # a legacy transaction's receipt is the plain one
            return inner
        return transaction.receipt_builder.typed_receipt_class(type_id, inner)


class ReferenceLedgerVM(LedgerFork):
    """The ledger's fork on py-evm's own Prague state and computation, checks and all.

    The reference for anything that must not depend on wuye's interpreter:
    independent re-execution (`wuye ledger verify --reexecute`) and the
    baseline of `bench/ledger.py`.
    """

    _state_class = PragueState


#: The fork every block executes under.
LEDGER_VM = LedgerVM
PERMISSIONS_ADDRESS = to_canonical_address("0x0000000000000000000000000000000000005701")
VALIDATORS_ADDRESS = to_canonical_address("0x0000000000000000000000000000000000005702")
SYSTEM_SENDER = to_canonical_address("0x0000000000000000000000000000000000005700")
DEFAULT_GAS_LIMIT = 60_000_000
ZERO_HASH = b"\0" * 32


class GenesisError(ValueError):
    """The genesis file is malformed or does not match its recorded hash."""


@dataclass(frozen=True)
class ValidatorSpec:
    """One validator: the account that votes on governance, the SM2 key that seals."""

    account: str
    sm2_public_key: str  # uncompressed, hex: 04 || x || y

    @property
    def xy(self) -> tuple[bytes, bytes]:
        raw = bytes.fromhex(self.sm2_public_key.removeprefix("0x"))
        if len(raw) != 65 or raw[0] != 4:
            raise GenesisError(f"validator {self.account}: SM2 key is not 04||x||y")
        return raw[1:33], raw[33:65]


@dataclass(frozen=True)
class Genesis:
    """The contents of genesis.json."""

    chain_id: int
    timestamp: int
    validators: tuple[ValidatorSpec, ...]
    alloc: dict[str, int] = field(default_factory=dict)
    admins: tuple[str, ...] = ()
    senders: tuple[str, ...] = ()
    gas_limit: int = DEFAULT_GAS_LIMIT
    genesis_hash: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "chainId": self.chain_id,
            "timestamp": self.timestamp,
            "gasLimit": self.gas_limit,
            "validators": [
                {"account": v.account, "sm2PublicKey": v.sm2_public_key} for v in self.validators
            ],
            "alloc": {addr: {"balance": hex(balance)} for addr, balance in self.alloc.items()},
            "admins": list(self.admins),
            "senders": list(self.senders),
            "genesisHash": self.genesis_hash,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Genesis:
        try:
            return cls(
                chain_id=int(data["chainId"]),
                timestamp=int(data["timestamp"]),
                gas_limit=int(data.get("gasLimit", DEFAULT_GAS_LIMIT)),
                validators=tuple(
                    ValidatorSpec(to_checksum_address(v["account"]), v["sm2PublicKey"])
                    for v in data["validators"]
                ),
                alloc={
                    to_checksum_address(a): int(v["balance"], 0)
                    if isinstance(v["balance"], str)
                    else int(v["balance"])
                    for a, v in data.get("alloc", {}).items()
                },
                admins=tuple(to_checksum_address(a) for a in data.get("admins", [])),
                senders=tuple(to_checksum_address(a) for a in data.get("senders", [])),
                genesis_hash=data.get("genesisHash"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise GenesisError(f"malformed genesis: {exc!r}") from exc

    def save(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> Genesis:
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            raise GenesisError(f"cannot read genesis file {path}: {exc}") from exc
        return cls.from_json(data)


def chain_class(chain_id: int, vm_class: type[LedgerFork] = LEDGER_VM) -> type[Chain]:
    """The py-evm chain class for a wuye ledger with this chain id (and VM class)."""
    cached = _CHAIN_CLASSES.get((chain_id, vm_class))
    if cached is None:
        cached = type(
            f"WuyeChain{chain_id}",
            (Chain,),
            {"vm_configuration": ((0, vm_class),), "chain_id": chain_id},
        )
        _CHAIN_CLASSES[(chain_id, vm_class)] = cached
    return cached


_CHAIN_CLASSES: dict[tuple[int, type[LedgerFork]], type[Chain]] = {}


def _deploy(state: Any, address: bytes, name: str, ctor_types: list[str], args: list) -> None:
    compiled = contracts.compiled(name)
    initcode = compiled.bytecode + abi_encode(ctor_types, args)
    message = Message(
        gas=50_000_000,
        to=b"",
        sender=SYSTEM_SENDER,
        value=0,
        data=b"",
        code=initcode,
        create_address=address,
    )
    context = state.get_transaction_context_class()(gas_price=0, origin=SYSTEM_SENDER)
    computation = state.computation_class.apply_create_message(state, message, context)
    if computation.is_error:
        raise GenesisError(f"deploying {name} at genesis failed: {computation.error!r}")


def build_genesis(db: AtomicDatabaseAPI, genesis: Genesis) -> BlockHeaderAPI:
    """Write the genesis state and header into `db` and return the header."""
    pre_genesis = BlockHeader(difficulty=0, block_number=-1, gas_limit=genesis.gas_limit)
    state = LEDGER_VM.build_state(db, pre_genesis, ChainContext(genesis.chain_id))
    for address, balance in genesis.alloc.items():
        state.set_balance(to_canonical_address(address), balance)
    _deploy(
        state,
        PERMISSIONS_ADDRESS,
        "Permissions",
        ["address[]", "address[]"],
        [list(genesis.admins), list(genesis.senders)],
    )
    validators = [(v.account, *v.xy) for v in genesis.validators]
    _deploy(state, VALIDATORS_ADDRESS, "Validators", ["(address,bytes32,bytes32)[]"], [validators])
    state.persist()
    header = LEDGER_VM.create_genesis_header(
        difficulty=0,
        gas_limit=genesis.gas_limit,
        timestamp=genesis.timestamp,
        extra_data=b"wuye",
        nonce=b"\0" * 8,
        mix_hash=ZERO_HASH,
        coinbase=b"\0" * 20,
        state_root=state.state_root,
        parent_beacon_block_root=ZERO_HASH,
    )
    if genesis.genesis_hash and header.hash.hex() != genesis.genesis_hash.removeprefix("0x"):
        raise GenesisError(
            f"genesis hash mismatch: file says {genesis.genesis_hash}, "
            f"state gives 0x{header.hash.hex()}"
        )
    ChainDB(db).persist_header(header)
    return header
