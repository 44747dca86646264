"""The ledger's interpreter gives exactly stock py-evm's results.

Blocks of real contract calls (successful, reverted, out of gas) are built on
two ledgers from one genesis, one on `LedgerVM` and one on py-evm's own Prague
computation (`ReferenceLedgerVM`), and must hash the same; random bytecode
runs on both computations with the same outcome to the last unit of gas.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest
import rlp
from eth.rlp.accounts import Account as StateAccount
from eth.rlp.logs import Log
from eth.rlp.receipts import Receipt
from eth.vm.code_stream import CodeStream
from eth_bloom import BloomFilter
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web3 import Web3

from wuye.ledger import contracts
from wuye.ledger.evm import jump_destinations
from wuye.ledger.execution import Ledger
from wuye.ledger.genesis import (
    PERMISSIONS_ADDRESS,
    Genesis,
    LedgerVM,
    ReferenceLedgerVM,
    encode_receipt,
    logs_bloom,
)
from wuye.ledger.storage import decode_account, decode_storage_value, encode_account

ROLE_SENDER, ROLE_RATER = 1, 4


def _sign(genesis: Genesis, account: Any, nonce: int, fn: Any, gas: int) -> bytes:
    """Sign a contract call or deployment built by web3.py, with no node to ask."""
    tx = fn.build_transaction(
        {
            "from": account.address,
            "nonce": nonce,
            "gas": gas,
            "chainId": genesis.chain_id,
            "maxFeePerGas": 10**10,
            "maxPriorityFeePerGas": 1,
        }
    )
    return bytes(account.sign_transaction(tx).raw_transaction)


def _workload(genesis: Genesis, accounts: list[Any]) -> list[list[bytes]]:
    """Blocks: deploy and grant, then rate() calls that succeed, revert or run out of gas."""
    admin, rater, outsider = accounts[0], accounts[1], accounts[2]
    w3 = Web3()
    abi, bytecode = contracts.load("CreditRegistry")
    deploy = w3.eth.contract(abi=abi, bytecode=bytecode).constructor(
        Web3.to_checksum_address(PERMISSIONS_ADDRESS)
    )
    registry_address = Web3.to_checksum_address(
        Web3.keccak(b"\xd6\x94" + bytes.fromhex(admin.address[2:]) + b"\x80")[-20:]
    )
    registry = w3.eth.contract(address=registry_address, abi=abi)
    permissions = w3.eth.contract(
        address=Web3.to_checksum_address(PERMISSIONS_ADDRESS), abi=contracts.load("Permissions")[0]
    )
    grant = permissions.functions.grant(rater.address, ROLE_SENDER | ROLE_RATER)
    setup = [_sign(genesis, admin, 0, deploy, 3_000_000), _sign(genesis, admin, 1, grant, 200_000)]

    def rate(account: Any, nonce: int, subject: int, delta: int, gas: int = 200_000) -> bytes:
        fn = registry.functions.rate(subject.to_bytes(32, "big"), 1, delta, b"\1" * 32)
        return _sign(genesis, account, nonce, fn, gas)

    calls = [rate(rater, n, subject=n % 7, delta=(n % 5) - 2) for n in range(40)]
    calls.append(rate(outsider, 0, subject=1, delta=1))  # reverts: not a rater
    calls.append(rate(rater, 40, subject=1, delta=10**6))  # reverts: delta out of range
    calls.append(rate(rater, 41, subject=99, delta=1, gas=60_000))  # runs out of gas
    calls.append(rate(rater, 42, subject=2, delta=-1))
    return [setup, calls]


def _build_all(tmp: Path, genesis: Genesis, blocks: list[list[bytes]], vm: type) -> list[Any]:
    ledger = Ledger(tmp, genesis, vm_class=vm)
    builder = ledger.block_class.get_transaction_builder()
    built = []
    try:
        for number, raws in enumerate(blocks):
            candidate = ledger.build(
                [builder.decode(r) for r in raws], timestamp=1_900_000_000 + number
            )
            ledger.commit(candidate, [])
            built.append(candidate.block)
    finally:
        ledger.close()
    return built


def test_blocks_of_contract_calls_hash_the_same_as_on_stock_py_evm(
    network: tuple[Genesis, list[Any]], tmp_path: Path
) -> None:
    genesis, accounts = network
    blocks = _workload(genesis, accounts)
    ours = _build_all(tmp_path / "ours", genesis, blocks, LedgerVM)
    reference = _build_all(tmp_path / "reference", genesis, blocks, ReferenceLedgerVM)
    assert [len(b.transactions) for b in ours] == [2, len(blocks[1])]
    for mine, theirs in zip(ours, reference, strict=True):
        assert mine.header.state_root == theirs.header.state_root
        assert mine.header.receipt_root == theirs.header.receipt_root
        assert mine.header.gas_used == theirs.header.gas_used
        assert mine.hash == theirs.hash


# A contract that stores calldata's (slot, value) word pairs: SSTORE(slot, value) for each.
_STORE_PAIRS = bytes.fromhex("5f5b3681101560175780602001358135556040016001565b00")
_DEPLOY_STORE_PAIRS = bytes.fromhex("6019600a5f3960195ff3") + _STORE_PAIRS


def test_storage_writes_updates_and_deletes_give_stock_py_evm_roots(
    network: tuple[Genesis, list[Any]], tmp_path: Path
) -> None:
    """Many slots set, overwritten and cleared across blocks: the batched trie writes and
    cached reads of wuye.ledger.storage must give py-evm's storage roots."""
    genesis, accounts = network
    owner = accounts[0]
    contract = Web3.keccak(b"\xd6\x94" + bytes.fromhex(owner.address[2:]) + b"\x80")[-20:]
    rng = random.Random(7)
    slots = [rng.randrange(2**256) for _ in range(60)] + list(range(40))

    def tx(nonce: int, data: bytes, to: bytes | None = None) -> bytes:
        fields = {
            "nonce": nonce,
            "gas": 3_000_000,
            "chainId": genesis.chain_id,
            "maxFeePerGas": 10**10,
            "maxPriorityFeePerGas": 1,
            "data": data,
            **({"to": Web3.to_checksum_address(to)} if to else {}),
        }
        return bytes(owner.sign_transaction(fields).raw_transaction)

    blocks, nonce = [[tx(0, _DEPLOY_STORE_PAIRS)]], 1
    for _ in range(5):
        block = []
        for _ in range(8):
            pairs = [
                (rng.choice(slots), rng.choice([0, 0, 1, 2**255, rng.randrange(2**64)]))
                for _ in range(rng.randrange(1, 25))
            ]
            data = b"".join(s.to_bytes(32, "big") + v.to_bytes(32, "big") for s, v in pairs)
            block.append(tx(nonce, data, contract))
            nonce += 1
        blocks.append(block)
    ours = _build_all(tmp_path / "ours", genesis, blocks, LedgerVM)
    reference = _build_all(tmp_path / "reference", genesis, blocks, ReferenceLedgerVM)
    assert [len(b.transactions) for b in ours] == [1] + [8] * 5
    assert [b.hash for b in ours] == [b.hash for b in reference]
    ledger = Ledger(tmp_path / "ours", genesis)
    state = ledger.state_at(ledger.head())
    assert state.get_code(contract) == _STORE_PAIRS
    assert any(state.get_storage(contract, s) for s in slots)
    ledger.close()


@pytest.mark.filterwarnings("ignore:SELFDESTRUCT opcode present:DeprecationWarning")
def test_storage_of_a_contract_destroyed_in_its_creating_transaction_is_wiped_as_on_py_evm(
    network: tuple[Genesis, list[Any]], tmp_path: Path
) -> None:
    """EIP-6780: SELFDESTRUCT in the creating transaction deletes the account and its storage
    (py-evm swaps in an empty storage trie), beside a contract that keeps its storage."""
    genesis, accounts = network
    owner = accounts[0]
    # SSTORE slots 0 and 1, then SELFDESTRUCT to address 0
    stores_then_destroys = bytes.fromhex("600160005560026001555fff")
    stores_and_stays = bytes.fromhex("600760005500")

    def create(nonce: int, initcode: bytes) -> bytes:
        fields = {
            "nonce": nonce,
            "gas": 500_000,
            "chainId": genesis.chain_id,
            "maxFeePerGas": 10**10,
            "maxPriorityFeePerGas": 1,
            "data": initcode,
        }
        return bytes(owner.sign_transaction(fields).raw_transaction)

    blocks = [[create(0, stores_then_destroys), create(1, stores_and_stays)]]
    blocks.append([create(2, stores_then_destroys), create(3, stores_and_stays)])
    ours = _build_all(tmp_path / "ours", genesis, blocks, LedgerVM)
    reference = _build_all(tmp_path / "reference", genesis, blocks, ReferenceLedgerVM)
    assert [b.hash for b in ours] == [b.hash for b in reference]
    ledger = Ledger(tmp_path / "ours", genesis)
    state = ledger.state_at(ledger.head())
    sender = bytes.fromhex(owner.address[2:])
    destroyed, kept = (
        Web3.keccak(b"\xd6\x94" + sender + bytes([0x80 if n == 0 else n]))[-20:] for n in (0, 1)
    )
    assert state.get_storage(destroyed, 0) == 0 and not state.account_exists(destroyed)
    assert state.get_storage(kept, 0) == 7
    ledger.close()


def test_workload_includes_successes_reverts_and_out_of_gas(
    network: tuple[Genesis, list[Any]], tmp_path: Path
) -> None:
    """The comparison above is only as good as its workload: it must exercise all three."""
    genesis, accounts = network
    blocks = _workload(genesis, accounts)
    ledger = Ledger(tmp_path, genesis)
    builder = ledger.block_class.get_transaction_builder()
    ledger.commit(ledger.build([builder.decode(r) for r in blocks[0]]), [])
    vm = ledger.reader().get_vm()
    txs = [builder.decode(r) for r in blocks[1]]
    _, receipts, computations = vm.apply_all_transactions(txs, vm.get_header())
    ledger.close()
    statuses = [r.state_root for r in receipts]
    assert statuses.count(b"\x01") == 41 and statuses.count(b"") == 3
    errors = {type(c.error).__name__ for c in computations if c.is_error}
    assert errors == {"Revert", "OutOfGas"}


# -- random bytecode ----------------------------------------------------------------

# Opcodes that make interesting programs: arithmetic, memory, stack, halting. Jumps and
# invalid opcodes end most random programs in an error that burns all gas (hiding any
# difference in gas), so they are rare here; the contract workload and the jump
# analysis test above cover them.
_COMMON = [
    0x01, 0x02, 0x03, 0x04, 0x06, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
    0x19, 0x1B, 0x1C, 0x20, 0x33, 0x34, 0x35, 0x36, 0x37, 0x39, 0x3D, 0x50, 0x51, 0x52, 0x53,
    0x54, 0x55, 0x58, 0x59, 0x5A, 0x5B, 0x5F, 0x80, 0x81, 0x82, 0x8F, 0x90, 0x91, 0x9F,
]  # fmt: skip
_RARE = [0x00, 0x56, 0x57, 0xF3, 0xFD, 0xFE, 0x0C, 0xEF]
_instruction = st.one_of(
    st.sampled_from(_COMMON * 10 + _RARE).map(lambda op: bytes([op])),
    st.integers(1, 32).flatmap(
        lambda n: st.binary(min_size=n, max_size=n).map(lambda data: bytes([0x5F + n]) + data)
    ),
    st.integers(0, 255).map(lambda value: bytes([0x60, value])),
)
# A prelude of small PUSH1 values gives the program a stack to work on (so it does not
# simply fail with an empty stack, which burns all gas and hides differences).
_prelude = st.lists(st.integers(0, 255), min_size=12, max_size=12).map(
    lambda values: b"".join(bytes([0x60, v]) for v in values)
)
# Sometimes a PUSH whose data runs past the end of the code (read as zeros).
_truncated_push = st.one_of(
    st.just(b""),
    st.integers(1, 32).flatmap(
        lambda n: st.binary(max_size=n - 1).map(lambda data: bytes([0x5F + n]) + data)
    ),
)
_code = st.tuples(_prelude, st.lists(_instruction, max_size=60), _truncated_push).map(
    lambda parts: parts[0] + b"".join(parts[1]) + parts[2]
)


@settings(max_examples=300, deadline=None)
@given(code=st.binary(max_size=300))
def test_jump_analysis_matches_py_evm_code_stream(code: bytes) -> None:
    stream = CodeStream(code)
    starts = jump_destinations(code)
    assert [p in starts for p in range(len(code) + 2)] == [
        stream.is_valid_opcode(p) for p in range(len(code) + 2)
    ]


def _run(vm: Any, code: bytes, gas: int, data: bytes) -> tuple[Any, ...]:
    """What a computation leaves: its error, gas, output, and memory and stack if it succeeded.

    Stack items are compared as integers: py-evm keeps each as an int or as
    bytes, whichever was pushed, and every opcode reads both the same way.
    After an exceptional halt memory and stack are never observed again (all
    gas is gone, the state reverts), so only the error and gas count there.
    """
    computation = vm.execute_bytecode(
        origin=b"\1" * 20,
        gas_price=1,
        gas=gas,
        to=b"\2" * 20,
        sender=b"\3" * 20,
        value=0,
        data=data,
        code=code,
    )
    error = type(computation.error).__name__ if computation.is_error else None
    if computation.is_error and computation.should_burn_gas:
        return (error, computation.get_gas_remaining())
    return (
        error,
        computation.get_gas_remaining(),
        computation.output,
        bytes(computation._memory._bytes),
        [v if isinstance(v, int) else int.from_bytes(v, "big") for v in computation._stack.values],
    )


# Programs for what random ones rarely reach: full stacks, and jumps to a JUMPDEST, past
# the end, to a non-JUMPDEST, and into PUSH data that holds the JUMPDEST byte.
_EDGE_PROGRAMS = {
    "push0 overflow": b"\x5f" * 1025,
    "dup overflow": b"\x5f" + b"\x80" * 1024,
    "caller overflow": b"\x33" * 1025,
    "swap16 underflow": b"\x5f" * 16 + b"\x9f",
    "jump to jumpdest": b"\x60\x04\x56\x00\x5b\x60\x07\x60\x00\x52\x60\x20\x60\x00\xf3",
    "jumpi taken": b"\x60\x01\x60\x06\x57\x00\x5b\x60\x01\x5f\x55\x00",
    "jumpi not taken": b"\x5f\x60\x06\x57\x00\x5b\x00",
    "jump past the end": b"\x61\x10\x00\x56",
    "jump to a non-jumpdest": b"\x60\x00\x56",
    "jump into push data": b"\x60\x04\x56\x60\x5b\x00",
    "sstore set, reset, clear": b"\x60\x05\x5f\x55\x60\x06\x5f\x55\x5f\x5f\x55\x5f\x54\x00",
    "sha3 of fresh memory": b"\x60\x40\x60\x10\x20\x5f\x52\x59\x5f\xf3",
    "codecopy past the end": b"\x60\x40\x60\x02\x5f\x39\x59\x5f\xf3",
    "mstore far away": b"\x60\x01\x63\xff\xff\xff\xff\x52",
}


@pytest.mark.parametrize("name", sorted(_EDGE_PROGRAMS))
def test_edge_programs_run_as_on_stock_py_evm(ledgers: list[Ledger], name: str) -> None:
    ours, reference = (ledger.reader().get_vm() for ledger in ledgers)
    code = _EDGE_PROGRAMS[name]
    assert _run(ours, code, 1_000_000, b"") == _run(reference, code, 1_000_000, b"")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(code=_code, gas=st.integers(0, 60_000), data=st.binary(max_size=64))
def test_random_bytecode_runs_as_on_stock_py_evm(
    ledgers: list[Ledger], code: bytes, gas: int, data: bytes
) -> None:
    ours, reference = (ledger.reader().get_vm() for ledger in ledgers)
    assert _run(ours, code, gas, data) == _run(reference, code, gas, data)


@settings(max_examples=300, deadline=None)
@given(
    nonce=st.integers(0, 2**64 - 1),
    balance=st.integers(0, 2**256 - 1),
    storage_root=st.binary(min_size=32, max_size=32),
    code_hash=st.binary(min_size=32, max_size=32),
)
def test_account_codec_is_rlp_of_the_account_sedes(
    nonce: int, balance: int, storage_root: bytes, code_hash: bytes
) -> None:
    account = StateAccount(nonce, balance, storage_root, code_hash)
    encoded = rlp.encode(account, sedes=StateAccount)
    assert encode_account(account) == encoded
    assert decode_account(encoded) == account


@settings(max_examples=300, deadline=None)
@given(value=st.one_of(st.integers(0, 300), st.integers(0, 2**256 - 1)))
def test_storage_values_decode_as_rlp_decodes_them(value: int) -> None:
    assert decode_storage_value(rlp.encode(value)) == value


@pytest.mark.parametrize("encoded", [b"\x00", b"\x81\x05", b"\x82\x00\x01", b"\x80", b"\x83\x01"])
def test_storage_values_that_rlp_refuses_are_refused(encoded: bytes) -> None:
    try:
        expected: Any = rlp.decode(encoded, sedes=rlp.sedes.big_endian_int)
    except rlp.exceptions.RLPException as exc:
        expected = type(exc)
    try:
        got: Any = decode_storage_value(encoded)
    except rlp.exceptions.RLPException as exc:
        got = type(exc)
    assert got == expected


_log = st.builds(
    Log,
    address=st.binary(min_size=20, max_size=20),
    topics=st.lists(st.integers(0, 2**256 - 1), max_size=4).map(tuple),
    data=st.binary(max_size=200),
)


@settings(max_examples=200, deadline=None)
@given(
    status=st.sampled_from([b"", b"\x01"]),
    gas_used=st.integers(0, 2**63),
    logs=st.lists(_log, max_size=4),
)
def test_receipt_encoding_is_rlp_of_the_receipt_sedes(
    status: bytes, gas_used: int, logs: list[Log]
) -> None:
    receipt = Receipt(state_root=status, gas_used=gas_used, logs=logs)
    assert encode_receipt(receipt) == rlp.encode(receipt, cache=False)


@settings(max_examples=200, deadline=None)
@given(logs=st.lists(_log, max_size=4))
def test_logs_bloom_is_eth_blooms(logs: list[Log]) -> None:
    expected = BloomFilter.from_iterable(b for log in logs for b in log.bloomables)
    assert logs_bloom(logs) == int(expected)
