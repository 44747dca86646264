"""The most-run opcodes, working on the stack list directly.

py-evm's opcode functions reach the stack through several method calls per
item (`computation.stack_pop_ints` -> `Stack.pop_ints` -> a generator of
conversions; `stack_push_int` -> a range check), and charge dynamic gas through
`consume_gas` with a reason string formatted on every call. The functions
here do the same work on `Stack.values` itself: each takes the stack list and
the computation, with the opcode's static gas already charged by the
interpreter loop (`wuye.ledger.evm`).

They keep py-evm's results exactly:

- stack items stay ints or big-endian bytes, as py-evm keeps them, and are
  converted the way `eth.vm.stack.to_int` converts them;
- an item missing from the stack raises `IndexError`, which the loop turns into
  py-evm's `InsufficientStack` (what is left on the stack after an exceptional
  halt is never observed: the computation's gas is gone and its state reverted);
- a push onto a full stack raises py-evm's `FullStack`;
- gas, refunds, warm slots and storage follow py-evm's Prague functions
  (EIP-2929 access costs, EIP-2200 / EIP-3529 net-metered SSTORE).

`FAST_OPS` maps py-evm's own function objects to these, so an opcode table
that does not hold py-evm's Prague function keeps that function.
`tests/ledger/test_evm.py` runs random programs and whole blocks on both.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from eth.exceptions import (
    FullStack,
    OutOfGas,
    WriteProtection,
)
from eth.vm.forks.berlin import constants as berlin
from eth.vm.forks.berlin.logic import sload_eip2929, sstore_eip2929_generic
from eth.vm.logic import (
    arithmetic,
    comparison,
    context,
    duplication,
    flow,
    memory,
    sha3,
    stack,
    swap,
)
from eth_hash.auto import keccak

__all__ = ["FAST_OPS", "fast_op_for"]

_MASK = (1 << 256) - 1
_SIGN = 1 << 255
_LIMIT = 1024  # stack items (Yellow Paper 9.1)


def _int(item: Any) -> int:
    return item if item.__class__ is int else int.from_bytes(item, "big")


# -- arithmetic, comparison, bitwise --------------------------------------------------


def op_add(s: list, c: Any) -> None:
    a = s.pop()
    b = s[-1]
    s[-1] = (
        (a if a.__class__ is int else int.from_bytes(a, "big"))
        + (b if b.__class__ is int else int.from_bytes(b, "big"))
    ) & _MASK


def op_sub(s: list, c: Any) -> None:
    a = s.pop()
    b = s[-1]
    s[-1] = (
        (a if a.__class__ is int else int.from_bytes(a, "big"))
        - (b if b.__class__ is int else int.from_bytes(b, "big"))
    ) & _MASK


def op_mul(s: list, c: Any) -> None:
    a = s.pop()
    b = s[-1]
    s[-1] = (_int(a) * _int(b)) & _MASK


def op_div(s: list, c: Any) -> None:
    a = _int(s.pop())
    b = _int(s[-1])
    s[-1] = 0 if b == 0 else a // b


def op_mod(s: list, c: Any) -> None:
    a = _int(s.pop())
    b = _int(s[-1])
    s[-1] = 0 if b == 0 else a % b


def op_lt(s: list, c: Any) -> None:
    a = s.pop()
    b = s[-1]
    s[-1] = (
        1
        if (a if a.__class__ is int else int.from_bytes(a, "big"))
        < (b if b.__class__ is int else int.from_bytes(b, "big"))
        else 0
    )


def op_gt(s: list, c: Any) -> None:
    a = s.pop()
    b = s[-1]
    s[-1] = (
        1
        if (a if a.__class__ is int else int.from_bytes(a, "big"))
        > (b if b.__class__ is int else int.from_bytes(b, "big"))
        else 0
    )


def op_slt(s: list, c: Any) -> None:
    a = _int(s.pop())
    b = _int(s[-1])
    s[-1] = 1 if (a ^ _SIGN) < (b ^ _SIGN) else 0  # two's complement order


def op_sgt(s: list, c: Any) -> None:
    a = _int(s.pop())
    b = _int(s[-1])
    s[-1] = 1 if (a ^ _SIGN) > (b ^ _SIGN) else 0


def op_eq(s: list, c: Any) -> None:
    a = s.pop()
    b = s[-1]
    s[-1] = (
        1
        if (a if a.__class__ is int else int.from_bytes(a, "big"))
        == (b if b.__class__ is int else int.from_bytes(b, "big"))
        else 0
    )


def op_iszero(s: list, c: Any) -> None:
    a = s[-1]
    s[-1] = 0 if (a if a.__class__ is int else int.from_bytes(a, "big")) else 1


def op_and(s: list, c: Any) -> None:
    a = s.pop()
    b = s[-1]
    s[-1] = (a if a.__class__ is int else int.from_bytes(a, "big")) & (
        b if b.__class__ is int else int.from_bytes(b, "big")
    )


def op_or(s: list, c: Any) -> None:
    a = s.pop()
    b = s[-1]
    s[-1] = (a if a.__class__ is int else int.from_bytes(a, "big")) | (
        b if b.__class__ is int else int.from_bytes(b, "big")
    )


def op_xor(s: list, c: Any) -> None:
    a = s.pop()
    b = s[-1]
    s[-1] = (a if a.__class__ is int else int.from_bytes(a, "big")) ^ (
        b if b.__class__ is int else int.from_bytes(b, "big")
    )


def op_not(s: list, c: Any) -> None:
    s[-1] = _MASK - _int(s[-1])


def op_shl(s: list, c: Any) -> None:
    shift = _int(s.pop())
    value = s[-1]
    s[-1] = 0 if shift >= 256 else (_int(value) << shift) & _MASK


def op_shr(s: list, c: Any) -> None:
    shift = _int(s.pop())
    value = s[-1]
    s[-1] = 0 if shift >= 256 else _int(value) >> shift


# -- stack ----------------------------------------------------------------------------


def op_pop(s: list, c: Any) -> None:
    s.pop()


def op_push0(s: list, c: Any) -> None:
    if len(s) >= _LIMIT:
        raise FullStack("Stack limit reached")
    s.append(0)


def _dup(n: int) -> Any:
    def op_dup(s: list, c: Any) -> None:
        if len(s) >= _LIMIT:
            raise FullStack("Stack limit reached")
        s.append(s[-n])

    op_dup.__name__ = f"op_dup{n}"
    return op_dup


def _swap(n: int) -> Any:
    below = -n - 1

    def op_swap(s: list, c: Any) -> None:
        s[-1], s[below] = s[below], s[-1]

    op_swap.__name__ = f"op_swap{n}"
    return op_swap


# -- flow (JUMP and JUMPI run in the interpreter loop itself) ------------------------


def op_jumpdest(s: list, c: Any) -> None:
    pass


# -- message context --------------------------------------------------------------------


def op_caller(s: list, c: Any) -> None:
    if len(s) >= _LIMIT:
        raise FullStack("Stack limit reached")
    s.append(c.msg.sender)


def op_callvalue(s: list, c: Any) -> None:
    if len(s) >= _LIMIT:
        raise FullStack("Stack limit reached")
    s.append(c.msg.value)


def op_calldatasize(s: list, c: Any) -> None:
    if len(s) >= _LIMIT:
        raise FullStack("Stack limit reached")
    s.append(len(c.msg.data))


def op_returndatasize(s: list, c: Any) -> None:
    if len(s) >= _LIMIT:
        raise FullStack("Stack limit reached")
    s.append(len(c.return_data))


def op_calldataload(s: list, c: Any) -> None:
    start = _int(s[-1])
    data = c.msg.data_as_bytes
    s[-1] = int.from_bytes(data[start : start + 32].ljust(32, b"\0"), "big")


# -- memory and hashing ---------------------------------------------------------------


def op_mload(s: list, c: Any) -> None:
    start = _int(s[-1])
    if start + 32 > len(c._memory._bytes):
        c.extend_memory(start, 32)  # py-evm's gas for the expansion (may run out)
    s[-1] = bytes(c._memory._bytes[start : start + 32])


def op_mstore(s: list, c: Any) -> None:
    start = _int(s.pop())
    value = s.pop()
    if start + 32 > len(c._memory._bytes):
        c.extend_memory(start, 32)
    c._memory._bytes[start : start + 32] = (
        value.to_bytes(32, "big") if value.__class__ is int else value.rjust(32, b"\0")[-32:]
    )


def op_codecopy(s: list, c: Any) -> None:
    destination = _int(s.pop())
    start = _int(s.pop())
    size = _int(s.pop())
    if size and destination + size > len(c._memory._bytes):
        c.extend_memory(destination, size)
    _charge(c, 3 * ((size + 31) // 32), "CODECOPY: word gas cost")  # GAS_COPY per word
    if size:  # code past its end reads as zeros
        code = c.code._raw_code_bytes[start : start + size]
        c._memory._bytes[destination : destination + size] = code.ljust(size, b"\0")


def op_sha3(s: list, c: Any) -> None:
    start = _int(s.pop())
    size = _int(s[-1])
    if size and start + size > len(c._memory._bytes):
        c.extend_memory(start, size)
    data = bytes(c._memory._bytes[start : start + size]) if size else b""
    _charge(c, 6 * ((size + 31) // 32), "SHA3: word gas cost")  # GAS_SHA3WORD per word
    s[-1] = keccak(data)


# -- storage (EIP-2929 access lists, EIP-2200 / EIP-3529 net metering) ------------------


def _charge(c: Any, cost: int, reason: str) -> None:
    meter = c._gas_meter
    if cost > meter.gas_remaining:
        raise OutOfGas(
            f"Out of gas: Needed {cost} - Remaining {meter.gas_remaining} - Reason: {reason}"
        )
    meter.gas_remaining -= cost


def op_sload(s: list, c: Any) -> None:
    slot = _int(s[-1])
    address = c.msg.storage_address
    db = c.state._account_db
    cold = db.warm_storage(address, slot)
    _charge(c, berlin.COLD_SLOAD_COST if cold else berlin.WARM_STORAGE_READ_COST, "SLOAD")
    s[-1] = db.storage_value(address, slot)


def _sstore_op(schedule: Any) -> Any:
    sload_gas = schedule.sload_gas
    set_gas = schedule.sstore_set_gas
    reset_gas = schedule.sstore_reset_gas
    clears = schedule.sstore_clears_schedule

    def op_sstore(s: list, c: Any) -> None:
        if c.msg.is_static:
            raise WriteProtection("Cannot modify state while inside of a STATICCALL context")
        meter = c._gas_meter
        if meter.gas_remaining <= 2300:
            raise OutOfGas(
                "Net-metered SSTORE always fails below 2300 gas, per EIP-2200",
                meter.gas_remaining,
            )
        if len(s) < 2:
            raise IndexError("SSTORE")
        slot = _int(s.pop())
        value = _int(s.pop())
        address = c.msg.storage_address
        db = c.state._account_db
        current = db.storage_value(address, slot)
        original = db.storage_value(address, slot, from_journal=False)
        refund = 0
        if current == value:
            cost = sload_gas
        elif original == current:
            if original == 0:
                cost = set_gas
            else:
                cost = reset_gas
                if value == 0:
                    refund += clears
        else:
            cost = sload_gas
            if original != 0:
                if current == 0:
                    refund -= clears
                if value == 0:
                    refund += clears
            if original == value:
                refund += (set_gas if original == 0 else reset_gas) - sload_gas
        _charge(c, cost, "SSTORE")
        if refund:
            meter.refund_gas(refund)
        db.set_storage_value(address, slot, value)
        if db.warm_storage(address, slot):
            _charge(c, berlin.COLD_SLOAD_COST, "Implicit SLOAD during SSTORE")

    return op_sstore


#: py-evm's Prague logic functions -> the functions of this module.
FAST_OPS: dict[Any, Any] = {
    arithmetic.add: op_add,
    arithmetic.sub: op_sub,
    arithmetic.mul: op_mul,
    arithmetic.div: op_div,
    arithmetic.mod: op_mod,
    arithmetic.shl: op_shl,
    arithmetic.shr: op_shr,
    comparison.lt: op_lt,
    comparison.gt: op_gt,
    comparison.slt: op_slt,
    comparison.sgt: op_sgt,
    comparison.eq: op_eq,
    comparison.iszero: op_iszero,
    comparison.and_op: op_and,
    comparison.or_op: op_or,
    comparison.xor: op_xor,
    comparison.not_op: op_not,
    stack.pop: op_pop,
    stack.push0: op_push0,
    flow.jumpdest: op_jumpdest,
    context.caller: op_caller,
    context.callvalue: op_callvalue,
    context.calldatasize: op_calldatasize,
    context.returndatasize: op_returndatasize,
    context.calldataload: op_calldataload,
    context.codecopy: op_codecopy,
    memory.mload: op_mload,
    memory.mstore: op_mstore,
    sha3.sha3: op_sha3,
    sload_eip2929: op_sload,
    **{getattr(duplication, f"dup{n}"): _dup(n) for n in range(1, 17)},
    **{getattr(swap, f"swap{n}"): _swap(n) for n in range(1, 17)},
}


def fast_op_for(logic: Any) -> Any:
    """This module's function for py-evm's opcode function `logic`, or None.

    SSTORE is py-evm's `ensure_no_static(partial(sstore_eip2929_generic, schedule))`;
    it is recognised by what it wraps, and gets a function for that gas schedule.
    """
    fast = FAST_OPS.get(logic)
    if fast is not None:
        return fast
    wrapped = getattr(logic, "__wrapped__", None)
    if isinstance(wrapped, partial) and wrapped.func is sstore_eip2929_generic:
        if len(wrapped.args) == 1 and not wrapped.keywords:
            return _sstore_op(wrapped.args[0])
    return None
