"""Edge cases of the ledger interpreter's fast paths give exactly stock py-evm's results.

Hand-written programs run on `LedgerVM` and on py-evm's own Prague computation
(`ReferenceLedgerVM`) and must end the same way: the same error class, gas to the
last unit, output, memory and stack (`tests.ledger.test_evm._run`), and where
storage is involved also the same refunds, storage, warm slots and errors of
child calls. The programs aim at the boundaries of `wuye.ledger.ops` and of the
interpreter loop in `wuye.ledger.evm`:

- SSTORE inside a static context (directly, through STATICCALL, and nested one
  call deeper), SSTORE at 2300 / 2301 gas remaining (EIP-2200) and at the last
  unit of gas for its implicit cold SLOAD, the value-transfer stipend;
- EIP-2200 / EIP-3529 refund sequences: several writes of one slot in one call,
  from a zero and a non-zero original value, and a refund that goes negative in
  one frame after a clear in a DELEGATECALL frame;
- SLOAD cold and warm, with the slot given as an int or as bytes;
- CALLDATALOAD, CODECOPY, SHA3, MLOAD, MSTORE and the other memory users at
  offsets near 2**256 - 1, past the end of the data, with zero sizes at huge
  offsets, and with exactly enough gas for memory growth or one unit less;
- stack underflow of every fast opcode, overflow at 1024 items, bytes items;
- JUMP and JUMPI to the end of the code, far past it, into PUSH data (also a
  truncated PUSH at the end), to a JUMPDEST given as bytes.

A block of transactions over the same cases must also hash the same on both,
which covers refunds as receipts and headers count them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from eth.vm.message import Message
from web3 import Web3

from tests.ledger.test_evm import _DEPLOY_STORE_PAIRS, _build_all, _run
from wuye.ledger.execution import Ledger
from wuye.ledger.genesis import Genesis, LedgerVM, ReferenceLedgerVM

#: The account the programs run as (`_run`'s `to`), its caller and the origin.
CONTRACT, SENDER, ORIGIN = b"\2" * 20, b"\3" * 20, b"\1" * 20
#: Contracts placed in the state for programs to call.
WRITER = bytes(18) + b"\xc0\xde"  # SSTORE(0, 1)
READER = bytes(18) + b"\xbe\xef"  # returns SLOAD(0) as a 32-byte word
RELAY = bytes(18) + b"\xca\x11"  # CALLs WRITER with all its gas, then stops
CLEARER = bytes(18) + b"\xc1\xea"  # SSTORE(0, 0)
_CONTRACTS = {
    WRITER: bytes.fromhex("60015f5500"),
    READER: bytes.fromhex("5f545f5260205ff3"),
    RELAY: bytes.fromhex("5f5f5f5f5f61c0de5af100"),
    CLEARER: bytes.fromhex("5f5f5500"),
}
#: Slots whose value and warmth are compared after a run.
_SLOTS = (0, 1, 2, 2**256 - 1)

MAX = "7f" + "ff" * 32  # PUSH32 2**256 - 1


def push32(value: int) -> str:
    """PUSH32 of `value`: the stack item is bytes, as PUSH leaves it."""
    return "7f" + value.to_bytes(32, "big").hex()


def _vms(ledgers: list[Ledger]) -> tuple[Any, Any]:
    """Fresh VMs over the genesis state: the ledger's and py-evm's own."""
    ours, reference = (ledger.reader().get_vm() for ledger in ledgers)
    return ours, reference


def _errors(computation: Any) -> tuple[Any, ...]:
    """The error class of a computation and, nested, of every child call."""
    error = type(computation.error).__name__ if computation.is_error else None
    return (error, tuple(_errors(child) for child in computation.children))


def _outcome(
    vm: Any,
    code: str,
    gas: int,
    *,
    data: bytes = b"",
    static: bool = False,
    storage: dict[int, int] | None = None,
) -> tuple[Any, ...]:
    """Run `code` as CONTRACT beside `_CONTRACTS` and report everything observable.

    `storage` is CONTRACT's storage before the transaction: it is locked in, so
    those are the original values of EIP-2200 and every slot starts cold.
    """
    state = vm.state
    for address, runtime in _CONTRACTS.items():
        state.set_code(address, runtime)
    state.set_balance(CONTRACT, 10**18)
    for slot, value in (storage or {}).items():
        state.set_storage(CONTRACT, slot, value)
    state.lock_changes()
    message = Message(
        gas=gas,
        to=CONTRACT,
        sender=SENDER,
        value=0,
        data=data,
        code=bytes.fromhex(code),
        is_static=static,
    )
    context = state.get_transaction_context_class()(gas_price=1, origin=ORIGIN)
    computation = state.computation_class.apply_computation(state, message, context)
    stores = [
        (state.get_storage(a, s), state.is_storage_warm(a, s))
        for a in (CONTRACT, *_CONTRACTS)
        for s in _SLOTS
    ]
    if computation.is_error and computation.should_burn_gas:
        ended: tuple[Any, ...] = (computation.get_gas_remaining(),)
    else:
        ended = (
            computation.get_gas_remaining(),
            computation.output,
            bytes(computation._memory._bytes),
            [
                v if isinstance(v, int) else int.from_bytes(v, "big")
                for v in computation._stack.values
            ],
        )
    return (
        _errors(computation),
        *ended,
        computation.get_gas_refund(),
        computation._gas_meter.gas_refunded,
        stores,
    )


def _both(ledgers: list[Ledger], code: str, gas: int, **kwargs: Any) -> tuple[Any, ...]:
    """`_outcome` on both VMs; they must agree. Returns the (common) outcome."""
    ours, reference = _vms(ledgers)
    mine = _outcome(ours, code, gas, **kwargs)
    assert mine == _outcome(reference, code, gas, **kwargs)
    return mine


# -- programs compared with test_evm's _run -------------------------------------------

_DATA = bytes(range(1, 41))  # 40 bytes of call data

_PROGRAMS: dict[str, tuple[str, int]] = {
    # CALLDATALOAD: far past the data, straddling its end, an offset given as bytes
    "calldataload at 2**256-1": (MAX + "3500", 100_000),
    "calldataload at 2**256-32": (push32(2**256 - 32) + "3500", 100_000),
    "calldataload straddling the end": ("60273500", 100_000),
    "calldataload just past the end": ("60283500", 100_000),
    "calldataload at a bytes offset": (push32(7) + "3500", 100_000),
    "calldataload then mstore": ("601035" + "5f52" + "59" + "5ff3", 100_000),
    # CODECOPY: source far past the code or straddling it, zero size at a huge destination
    "codecopy from 2**256-1": ("6020" + MAX + "5f39595ff3", 100_000),
    "codecopy straddling the end of code": ("6040600a5f39595ff3", 100_000),
    "codecopy of zero bytes to 2**256-1": ("5f5f" + MAX + "395900", 100_000),
    "codecopy of zero bytes from and to 2**256-1": ("5f" + MAX + MAX + "395900", 100_000),
    "codecopy of one byte to 2**256-1": ("60015f" + MAX + "39", 100_000),
    "codecopy of 2**256-1 bytes": (MAX + "5f5f39", 100_000),
    "codecopy to 2**256-32": ("60205f" + push32(2**256 - 32) + "39", 100_000),
    # SHA3: zero bytes at a huge offset hash b"", anything else there runs out of gas
    "sha3 of zero bytes at 2**256-1": ("5f" + MAX + "205900", 100_000),
    "sha3 of 2**256-1 bytes": (MAX + "5f20", 100_000),
    "sha3 of one byte at 2**256-1": ("6001" + MAX + "20", 100_000),
    "sha3 inside memory already paid for": ("60405f52" + "60205f20" + "5900", 100_000),
    "sha3 at a bytes offset and size": (push32(32) + push32(1) + "205900", 100_000),
    # MLOAD / MSTORE at the top of the address space, and at bytes offsets
    "mload at 2**256-1": (MAX + "51", 100_000),
    "mload at 2**256-32": (push32(2**256 - 32) + "51", 100_000),
    "mstore at 2**256-1": ("6001" + MAX + "52", 100_000),
    "mstore at 2**256-32": ("6001" + push32(2**256 - 32) + "52", 100_000),
    "mstore at a bytes offset": ("6001" + push32(0x21) + "525900", 100_000),
    "mstore of a bytes value": (push32(2**255 + 3) + "5f52" + "5f5100", 100_000),
    "mload inside memory already paid for": ("60ff60405260205100", 100_000),
    # other memory users (py-evm's functions over the ledger's extend_memory)
    "return of zero bytes at 2**256-1": ("5f" + MAX + "f3", 100_000),
    "revert of zero bytes at 2**256-1": ("5f" + MAX + "fd", 100_000),
    "return of one byte at 2**256-1": ("6001" + MAX + "f3", 100_000),
    "calldatacopy of zero bytes to 2**256-1": ("5f" + MAX + MAX + "375900", 100_000),
    "calldatacopy past the data": ("6040" + MAX + "5f37595ff3", 100_000),
    "mcopy of zero bytes at 2**256-1": ("5f" + MAX + MAX + "5e5900", 100_000),
    "mcopy of one byte from 2**256-1": ("6001" + MAX + "5f5e", 100_000),
    "log0 of zero bytes at 2**256-1": ("5f" + MAX + "a05900", 100_000),
    "mstore8 at 2**256-1": ("6001" + MAX + "53", 100_000),
    "staticcall with zero-size buffers at 2**256-1": (
        "5f" + MAX + "5f" + MAX + "60045afa5900",
        100_000,
    ),
    # exactly enough gas for memory growth and per-word costs, and one unit less
    "mstore with exact gas": ("60015f5200", 11),
    "mstore one gas short": ("60015f5200", 10),
    "mstore at 0xffe0 with exact gas": ("600161ffe05200", 14_345),
    "mstore at 0xffe0 one gas short": ("600161ffe05200", 14_344),
    "codecopy with exact gas": ("60215f5f3900", 22),
    "codecopy one gas short (per-word cost)": ("60215f5f3900", 21),
    "codecopy one gas short (memory)": ("60215f5f3900", 15),
    "sha3 with exact gas": ("60215f2000", 53),
    "sha3 one gas short (per-word cost)": ("60215f2000", 52),
    "mload with exact gas": ("5f5100", 8),
    "mload one gas short": ("5f5100", 7),
    "push1 one gas short": ("600100", 2),
    # stack underflow of each fast opcode
    "add with one item": ("5f01", 100_000),
    "sub empty": ("03", 100_000),
    "shl with one item": ("5f1b", 100_000),
    "iszero empty": ("15", 100_000),
    "not empty": ("19", 100_000),
    "sha3 with one item": ("5f20", 100_000),
    "codecopy with two items": ("5f5f39", 100_000),
    "mstore with one item": ("5f52", 100_000),
    "mload empty": ("51", 100_000),
    "calldataload empty": ("35", 100_000),
    "sload empty": ("54", 100_000),
    "sstore empty": ("55", 100_000),
    "sstore with one item": ("5f55", 100_000),
    "jump empty": ("56", 100_000),
    "jumpi with one item": ("5f57", 100_000),
    "swap1 with one item": ("5f90", 100_000),
    "swap16 with sixteen items": ("5f" * 16 + "9f", 100_000),
    "dup2 with one item": ("5f81", 100_000),
    "pop empty": ("50", 100_000),
    # a full stack: pushes overflow, opcodes that pop as many as they push do not
    "1024 items": ("5f" * 1024 + "00", 100_000),
    "callvalue overflow": ("5f" * 1024 + "34", 100_000),
    "calldatasize overflow": ("5f" * 1024 + "36", 100_000),
    "returndatasize overflow": ("5f" * 1024 + "3d", 100_000),
    "push1 overflow": ("5f" * 1024 + "6001", 100_000),
    "push32 overflow": ("5f" * 1024 + MAX, 100_000),
    "dup16 overflow": ("5f" * 1024 + "8f", 100_000),
    "push0 overflow after push32s": (MAX * 1024 + "5f", 100_000),
    "mload on a full stack": ("5f" * 1024 + "5100", 100_000),
    "calldataload on a full stack": ("5f" * 1024 + "3500", 100_000),
    "sload on a full stack": ("5f" * 1024 + "5400", 100_000),
    "sha3 on a full stack": ("5f" * 1024 + "2000", 100_000),
    "swap16 on a full stack": ("5f" * 1024 + "9f00", 100_000),
    # jumps
    "jump to the code size": ("600356", 100_000),
    "jump to 2**256-1": (MAX + "56", 100_000),
    "jump to 2**64": (push32(2**64) + "56", 100_000),
    "jump to a jumpdest given as bytes": (push32(34) + "565b00", 100_000),
    "jump to a jumpdest that is the last byte": ("6003565b", 100_000),
    "jump into push32 data": ("600456" + "7f" + "5b" * 32 + "00", 100_000),
    "jump into truncated push data at the end": ("600456615b", 100_000),
    "jump to the jumpdest after push32 data": ("602456" + push32(0x5B5B) + "5b00", 100_000),
    "jump to a non-jumpdest": ("6003565f00", 100_000),
    "jumpi with a zero condition given as bytes": (push32(0) + "600057" + "00", 100_000),
    "jumpi with a nonzero condition given as bytes": (push32(1) + "60255700" + "5b00", 100_000),
    "jumpi taken past the end": ("6001" + "61100057", 100_000),
    "jumpi taken into push data": ("6001" + "600757" + "00" + "605b00", 100_000),
    "jumpi not taken to 2**256-1": ("5f" + MAX + "5700", 100_000),
    "jump with exact gas": ("6003565b00", 12),
    "jump one gas short": ("6003565b00", 11),
}


def test_program_table_hits_its_cases(ledgers: list[Ledger]) -> None:
    """The table's boundaries are real: the exact-gas programs succeed, one unit less fails."""
    ours, _ = _vms(ledgers)
    for name, (code, gas) in _PROGRAMS.items():
        error = _run(ours, bytes.fromhex(code), gas, _DATA)[0]
        if "exact gas" in name:
            assert error is None, name
        if "short" in name:
            assert error == "OutOfGas", name
        if "overflow" in name:
            assert error == "FullStack", name
        if name.endswith(("empty", "with one item", "with two items", "with sixteen items")):
            assert error == "InsufficientStack", name


@pytest.mark.parametrize("name", sorted(_PROGRAMS))
def test_edge_program_runs_as_on_stock_py_evm(ledgers: list[Ledger], name: str) -> None:
    code, gas = _PROGRAMS[name]
    ours, reference = _vms(ledgers)
    program = bytes.fromhex(code)
    assert _run(ours, program, gas, _DATA) == _run(reference, program, gas, _DATA)


@pytest.mark.parametrize("name", sorted(_PROGRAMS))
def test_edge_program_leaves_state_as_on_stock_py_evm(ledgers: list[Ledger], name: str) -> None:
    """The same programs, also comparing refunds, storage and warm slots afterwards."""
    code, gas = _PROGRAMS[name]
    _both(ledgers, code, gas, data=_DATA, storage={0: 5, 1: 9})


# -- SSTORE: static contexts, the EIP-2200 stipend check, the implicit cold SLOAD ----

_SSTORE_1_AT_0 = "60015f5500"


@pytest.mark.parametrize("gas", [1_000_000, 2301, 2300, 100, 0])
def test_sstore_in_a_static_context_is_write_protection(ledgers: list[Ledger], gas: int) -> None:
    """WriteProtection comes first, even with no gas left for the EIP-2200 check."""
    outcome = _both(ledgers, _SSTORE_1_AT_0, gas + 5, static=True)
    assert outcome[0] == ("WriteProtection", ())


def test_sstore_with_an_empty_stack_in_a_static_context(ledgers: list[Ledger]) -> None:
    outcome = _both(ledgers, "55", 100_000, static=True)
    assert outcome[0] == ("WriteProtection", ())


def test_sload_in_a_static_context(ledgers: list[Ledger]) -> None:
    outcome = _both(ledgers, "5f54600154" + "5f5400", 100_000, static=True, storage={0: 5})
    assert outcome[0] == (None, ())


# STATICCALL(gas, address, 0, 0, 0, 0) with 50_000 gas unless `gas` pushes another amount,
# ISZERO of its status stored at slot 1, and the returned data copied to memory and returned.
def _staticcall(address: bytes, gas: str = "61c350") -> str:
    return "5f5f5f5f61" + address[-2:].hex() + gas + "fa" + "15600155" + "3d5f5f3e" + "3d5ff3"


_CALLS: dict[str, tuple[str, dict[str, Any]]] = {
    "staticcall into a writer": (_staticcall(WRITER), {}),
    # the writer's SSTORE starts at 2300 / 2301 gas: WriteProtection either way
    "staticcall into a writer with 2305 gas": (_staticcall(WRITER, "610901"), {}),
    "staticcall into a writer with 2306 gas": (_staticcall(WRITER, "610902"), {}),
    "staticcall into a reader": (_staticcall(READER), {"storage": {0: 0xAB}}),
    "staticcall into a relay that calls a writer": (_staticcall(RELAY), {}),
    "staticcall from a static context": (_staticcall(READER), {"static": True}),
    # CALL(gas, WRITER, value, 0, 0, 0, 0): the callee's storage changes
    "call into a writer": ("5f5f5f5f5f61c0de5af100", {}),
    # with value and no gas the callee has only the 2300 stipend: SSTORE fails (EIP-2200)
    "call with value into a clearer on the stipend": ("5f5f5f5f600161c1ea5ff100", {}),
    "call with value into a clearer with 5 gas over the stipend": (
        "5f5f5f5f600161c1ea6005f100",
        {},
    ),
    # DELEGATECALL(gas, WRITER, 0, 0, 0, 0): the caller's storage changes
    "delegatecall into a writer": ("5f5f5f5f61c0de5af400", {}),
    # the clearer's SSTORE starts at 2300 (fails) / 2301 gas (succeeds)
    "delegatecall into a clearer with 2304 gas": ("5f5f5f5f61c1ea610900f400", {}),
    "delegatecall into a clearer with 2305 gas": ("5f5f5f5f61c1ea610901f400", {}),
    # a clear in a DELEGATECALL frame (+refund there), a reset in the caller (-refund)
    "delegatecall into a clearer, then a write": (
        "5f5f5f5f61c1ea5af450" + "60065f5500",
        {"storage": {0: 5}},
    ),
    "delegatecall into a clearer, then a restore": (
        "5f5f5f5f61c1ea5af450" + "60055f5500",
        {"storage": {0: 5}},
    ),
}


@pytest.mark.parametrize("name", sorted(_CALLS))
def test_calls_that_store_run_as_on_stock_py_evm(ledgers: list[Ledger], name: str) -> None:
    code, kwargs = _CALLS[name]
    _both(ledgers, code, 200_000, **kwargs)


def test_staticcall_into_a_writer_fails_with_write_protection(ledgers: list[Ledger]) -> None:
    """The STATICCALL cases above do reach WriteProtection in the callee (and one deeper)."""
    for code, errors, failed in [
        (_staticcall(WRITER), ("WriteProtection", ()), 1),
        (_staticcall(WRITER, "610901"), ("WriteProtection", ()), 1),
        (_staticcall(WRITER, "610902"), ("WriteProtection", ()), 1),
        # the relay's own CALL fails; the relay then stops normally
        (_staticcall(RELAY), (None, (("WriteProtection", ()),)), 0),
    ]:
        outcome = _both(ledgers, code, 200_000)
        assert outcome[0] == (None, (errors,))
        assert outcome[-1][1] == (failed, True)  # slot 1: ISZERO(status) of the STATICCALL


def test_calls_that_store_reach_the_eip2200_check(ledgers: list[Ledger]) -> None:
    """With value and 0 gas the callee's SSTORE starts at 2296 gas (the stipend) and
    fails; with 5 gas more it starts at 2301 and succeeds. So for DELEGATECALL at 2300
    and 2301."""
    code, _ = _CALLS["call with value into a clearer on the stipend"]
    assert _both(ledgers, code, 200_000)[0] == (None, (("OutOfGas", ()),))
    code, _ = _CALLS["call with value into a clearer with 5 gas over the stipend"]
    assert _both(ledgers, code, 200_000)[0] == (None, ((None, ()),))
    code, _ = _CALLS["delegatecall into a clearer with 2304 gas"]
    assert _both(ledgers, code, 200_000)[0] == (None, (("OutOfGas", ()),))
    code, _ = _CALLS["delegatecall into a clearer with 2305 gas"]
    assert _both(ledgers, code, 200_000)[0] == (None, ((None, ()),))


@pytest.mark.parametrize(
    ("name", "code", "before", "storage"),
    [
        # PUSH0 SLOAD POP warms slot 0; then SSTORE(0, 0), costing 100, at `left` gas
        ("warm, no change", "5f54505f5f5500", 2108, {}),
        # SSTORE(0, 0) on a cold slot: 100, then 2100 for the implicit cold SLOAD
        ("cold, no change", "5f5f5500", 4, {}),
        # SSTORE(0, 6) over an original 5, cold: 2900, then 2100
        ("cold reset", "60065f5500", 5, {0: 5}),
    ],
)
@pytest.mark.parametrize("left", [2299, 2300, 2301, 2302, 4999, 5000, 5001])
def test_sstore_at_the_eip2200_stipend_boundary(
    ledgers: list[Ledger],
    name: str,
    code: str,
    before: int,
    storage: dict[int, int],
    left: int,
) -> None:
    """`left` is the gas remaining when SSTORE starts."""
    outcome = _both(ledgers, code, before + left, storage=storage)
    if left <= 2300:
        assert outcome[0] == ("OutOfGas", ())
    elif name != "cold reset" or left >= 5000:
        assert outcome[0] == (None, ())


# -- SSTORE refund sequences (EIP-2200 with EIP-3529's amounts) ----------------------


def _stores(*writes: tuple[int, int]) -> str:
    """SSTORE(slot, value) for each (slot, value), slot and value pushed as bytes."""
    return "".join(push32(value) + push32(slot) + "55" for slot, value in writes) + "00"


_SEQUENCES: dict[str, tuple[int, list[int]]] = {
    # (original value of slot 0, the values written to it in turn)
    "set": (0, [1]),
    "set, reset": (0, [1, 2]),
    "set, clear": (0, [1, 0]),
    "set, reset, clear": (0, [1, 2, 0]),
    "set, clear, set": (0, [1, 0, 1]),
    "set, clear, clear": (0, [1, 0, 0]),
    "zero to zero": (0, [0]),
    "set, same": (0, [1, 1]),
    "same": (5, [5]),
    "reset": (5, [6]),
    "clear": (5, [0]),
    "reset, restore": (5, [6, 5]),
    "clear, restore": (5, [0, 5]),
    "clear, reset": (5, [0, 6]),
    "reset, clear": (5, [6, 0]),
    "reset, clear, restore": (5, [6, 0, 5]),
    "clear, clear": (5, [0, 0]),
    "reset, reset, restore": (5, [6, 7, 5]),
    "clear, reset, clear": (5, [0, 6, 0]),
    "clear, reset, clear, restore": (5, [0, 6, 0, 5]),
    "top value, clear, top value": (2**256 - 1, [0, 2**256 - 1]),
}


@pytest.mark.parametrize("name", sorted(_SEQUENCES))
def test_sstore_refund_sequences_run_as_on_stock_py_evm(ledgers: list[Ledger], name: str) -> None:
    original, values = _SEQUENCES[name]
    code = _stores(*((0, value) for value in values))
    _both(ledgers, code, 200_000, storage={0: original} if original else {})


def test_sstore_refunds_across_several_slots(ledgers: list[Ledger]) -> None:
    """Clears, restores and sets of several slots (one the largest slot) in one call."""
    top = 2**256 - 1
    code = _stores((0, 0), (1, 3), (top, 8), (0, 5), (1, 0), (top, 0), (2, 4), (2, 0))
    outcome = _both(ledgers, code, 200_000, storage={0: 5, 1: 9, top: 7})
    assert outcome[-3] > 0  # the sequence does earn a refund


def test_sstore_refund_sequence_that_runs_out_of_gas(ledgers: list[Ledger]) -> None:
    code = _stores((0, 0), (1, 0), (2, 1))
    outcome = _both(ledgers, code, 26_000, storage={0: 5, 1: 9})
    assert outcome[0] == ("OutOfGas", ())


# -- SLOAD: cold and warm, the slot as an int or as bytes ------------------------------


@pytest.mark.parametrize(
    ("name", "code", "gas"),
    [
        ("cold then warm", "5f545f5400", 100_000),
        ("the same slot as int and as bytes", "5f54" + push32(0) + "54" + "6000545400", 100_000),
        ("warm after sstore", "60075f555f5400", 100_000),
        ("sstore after sload costs no cold access", "5f5460075f5500", 100_000),
        ("the largest slot", MAX + "54" + MAX + "5400", 100_000),
        ("exact gas for a cold sload", "5f5400", 2102),
        ("one gas short of a cold sload", "5f5400", 2101),
        ("exact gas for a warm sload", "5f54505f5400", 2206),
        ("one gas short of a warm sload", "5f54505f5400", 2205),
    ],
)
def test_sload_gas_runs_as_on_stock_py_evm(
    ledgers: list[Ledger], name: str, code: str, gas: int
) -> None:
    outcome = _both(ledgers, code, gas, storage={0: 5, 2**256 - 1: 3})
    if "exact gas" in name:
        assert outcome[0] == (None, ()) and outcome[1] == 0
    if "short" in name:
        assert outcome[0] == ("OutOfGas", ())


# -- the same cases as transactions: receipts and state roots --------------------------


def test_blocks_of_storage_edge_cases_hash_the_same_as_on_stock_py_evm(
    network: tuple[Genesis, list[Any]], tmp_path: Path
) -> None:
    """Refund sequences (and the refund cap), a STATICCALL into a writer, and a call
    that runs out of gas, as signed transactions in blocks built on both VMs."""
    genesis, accounts = network
    owner = accounts[0]
    sender = bytes.fromhex(owner.address[2:])

    def created(nonce: int) -> bytes:
        return Web3.keccak(b"\xd6\x94" + sender + bytes([nonce or 0x80]))[-20:]

    def tx(nonce: int, data: bytes, to: bytes | None = None, gas: int = 1_000_000) -> bytes:
        fields = {
            "nonce": nonce,
            "gas": gas,
            "chainId": genesis.chain_id,
            "maxFeePerGas": 10**10,
            "maxPriorityFeePerGas": 1,
            "data": data,
            **({"to": Web3.to_checksum_address(to)} if to else {}),
        }
        return bytes(owner.sign_transaction(fields).raw_transaction)

    def words(*values: int | bytes) -> bytes:
        return b"".join(
            v.rjust(32, b"\0") if isinstance(v, bytes) else v.to_bytes(32, "big") for v in values
        )

    def deploy(runtime: bytes) -> bytes:
        size = f"{len(runtime):02x}"
        return bytes.fromhex(f"60{size}600a5f3960{size}5ff3") + runtime

    store_pairs, writer, caller = created(0), created(1), created(2)
    # STATICCALL (50_000 gas) into the address in call data word 0; ISZERO(status) at the
    # slot in word 1. The address is a CALLDATALOAD result: an int on the ledger's
    # stack, bytes on py-evm's.
    static_caller = bytes.fromhex("5f5f5f5f5f3561c350fa1560203555" + "00")
    setup = [
        tx(0, _DEPLOY_STORE_PAIRS),
        tx(1, deploy(_CONTRACTS[WRITER])),
        tx(2, deploy(static_caller)),
        tx(3, words(*(v for slot in range(4) for v in (slot, 5))), store_pairs),
        tx(4, words(*(v for slot in range(20, 40) for v in (slot, slot))), store_pairs),
    ]
    sequences = [
        words(0, 6, 0, 5),  # reset, restore
        words(1, 0, 1, 5),  # clear, restore
        words(2, 0, 2, 7),  # clear, set another value
        words(3, 6, 3, 0),  # reset, clear
        words(10, 1, 10, 2, 10, 0),  # set, reset, clear
        words(11, 1, 11, 0, 11, 1),  # set, clear, set
        words(*(v for slot in range(20, 40) for v in (slot, 0))),  # many clears: the cap
    ]
    calls = [tx(5 + n, data, store_pairs) for n, data in enumerate(sequences)]
    nonce = 5 + len(sequences)
    calls.append(tx(nonce, words(writer, 1), caller))  # the writer's SSTORE fails
    calls.append(tx(nonce + 1, words(store_pairs, 2), caller))  # nothing to store: succeeds
    # three new slots with 29_000 gas left after the intrinsic cost: out of gas
    calls.append(tx(nonce + 2, words(12, 1, 13, 1, 14, 1), store_pairs, gas=50_000))
    blocks = [setup, calls]
    ours = _build_all(tmp_path / "ours", genesis, blocks, LedgerVM)
    reference = _build_all(tmp_path / "reference", genesis, blocks, ReferenceLedgerVM)
    assert [len(b.transactions) for b in ours] == [len(setup), len(calls)]
    for mine, theirs in zip(ours, reference, strict=True):
        assert mine.header.state_root == theirs.header.state_root
        assert mine.header.receipt_root == theirs.header.receipt_root
        assert mine.header.gas_used == theirs.header.gas_used
        assert mine.hash == theirs.hash
    ledger = Ledger(tmp_path / "ours", genesis)
    try:
        state = ledger.state_at(ledger.head())
        assert [state.get_storage(caller, s) for s in (1, 2)] == [1, 0]
        slots = (0, 1, 2, 3, 10, 11, 12, 20, 39)
        assert [state.get_storage(store_pairs, s) for s in slots] == [5, 5, 7, 0, 0, 1, 0, 0, 0]
    finally:
        ledger.close()
