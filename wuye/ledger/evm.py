"""The ledger's EVM: py-evm's Prague computation with a leaner interpreter loop.

Every validator executes every block, so the interpreter's own overhead is
paid four times over on a four-validator network. `LedgerComputation`
changes how py-evm runs opcodes, never what they do:

- static gas is charged inline in the loop, rather than through a method call
  per opcode with a reason string (the same checks, the same `OutOfGas`);
- the most-run opcodes (arithmetic, comparisons, stack, memory, calldata,
  SHA3, CODECOPY, SLOAD, SSTORE) are `wuye.ledger.ops`'s, working on the
  stack list directly; PUSH1..PUSH32, JUMP and JUMPI run in the loop itself,
  with the program counter in a local;
- jump destinations are analysed once per contract code and cached, rather
  than by looking back up to 32 bytes on every new jump target;
- memory accesses inside memory already paid for skip the gas arithmetic,
  since expanding to a size not larger than the current one costs nothing
  (Yellow Paper, appendix H.1, C_mem), and growth is charged without py-evm's
  argument checks and reason string;
- contract storage is read through a cache of decoded trie nodes and written
  in one batch per block (`wuye.ledger.storage`).

`LedgerTransactionExecutor` and `LedgerState` drop work py-evm does for its
debug log whether or not it is on. The results are those of stock py-evm,
byte for byte: `tests/ledger/test_evm.py` executes the same transactions on
both and compares state roots, receipts and gas, and runs random programs on
both. `wuye ledger verify --reexecute` and `bench/ledger.py`'s baseline use
`ReferenceLedgerVM`, which runs py-evm's own Prague state and computation, so
they stay independent of this module.
"""

from __future__ import annotations

import functools
from typing import Any

from eth._utils.address import generate_contract_address
from eth.abc import ComputationAPI, MessageAPI, StateAPI, TransactionContextAPI
from eth.constants import (
    CREATE_CONTRACT_ADDRESS,
    GAS_MEMORY,
    GAS_MEMORY_QUADRATIC_DENOMINATOR,
)
from eth.exceptions import (
    FullStack,
    Halt,
    InsufficientStack,
    InvalidInstruction,
    InvalidJumpDestination,
    OutOfGas,
)
from eth.vm.code_stream import CodeStream
from eth.vm.forks.cancun.constants import BLOB_TX_TYPE
from eth.vm.forks.prague.computation import PragueComputation
from eth.vm.forks.prague.state import PragueState, PragueTransactionExecutor
from eth.vm.logic import flow
from eth.vm.logic import stack as stack_logic
from eth.vm.logic.invalid import InvalidOpcode
from eth.vm.message import Message
from eth.vm.opcode import _FastOpcode
from eth.vm.opcode_values import JUMPDEST, PUSH1, PUSH32, STOP
from eth.vm.stack import Stack
from eth_utils import get_extended_debug_logger

from wuye.ledger.ops import fast_op_for
from wuye.ledger.storage import LedgerAccountDB

__all__ = [
    "LedgerCodeStream",
    "LedgerComputation",
    "LedgerStack",
    "LedgerState",
    "LedgerTransactionExecutor",
    "jump_destinations",
]

#: py-evm's PUSH1..PUSH32 logic functions, by the number of data bytes they push.
_PUSH_LOGIC = {getattr(stack_logic, f"push{n}"): n for n in range(1, 33)}


def _memory_fee(words: int) -> int:
    """Gas for memory of `words` 32-byte words: linear plus quadratic (py-evm's memory_gas_cost)."""
    return words * GAS_MEMORY + words * words // GAS_MEMORY_QUADRATIC_DENOMINATOR


#: The most items the EVM stack holds (Yellow Paper 9.1).
_STACK_LIMIT = 1024


@functools.lru_cache(maxsize=512)
def jump_destinations(code: bytes) -> frozenset[int]:
    """Positions in `code` that hold an instruction rather than PUSH data.

    The linear scan of the Yellow Paper (9.4.3, D(c)): an opcode PUSHn is
    followed by n bytes of data that are never instructions. py-evm's
    `CodeStream.is_valid_opcode` answers the same question by looking back
    from each position; this answers it once per code.
    """
    starts = []
    position, size = 0, len(code)
    while position < size:
        starts.append(position)
        opcode = code[position]
        position += opcode - PUSH1 + 2 if PUSH1 <= opcode <= PUSH32 else 1
    return frozenset(starts)


class LedgerCodeStream(CodeStream):
    """py-evm's code stream, with instruction positions from the cached analysis."""

    __slots__ = ["_starts"]

    def __init__(self, code_bytes: bytes) -> None:
        super().__init__(code_bytes)
        self._starts = jump_destinations(code_bytes)

    def is_valid_opcode(self, position: int) -> bool:
        return position in self._starts


class LedgerStack(Stack):
    """py-evm's stack, popping integers without a generator or a call per item.

    Items are ints or big-endian bytes (py-evm keeps whichever form was
    pushed); popping one as an int converts bytes exactly as `to_int` does.
    """

    def pop1_int(self) -> int:
        try:
            item = self._pop()
        except IndexError:
            raise InsufficientStack("Wanted 1 stack item, had none") from None
        return item if item.__class__ is int else int.from_bytes(item, "big")

    def pop_ints(self, num_items: int) -> tuple[int, ...]:
        values = self.values
        if num_items < 1:  # never asked by an opcode; py-evm's own answer
            return super().pop_ints(num_items)  # type: ignore[no-any-return]
        if num_items > len(values):
            raise InsufficientStack(f"Wanted {num_items} stack items, only had {len(values)}")
        items = values[: -num_items - 1 : -1]  # the top num_items, topmost first
        del values[-num_items:]
        return tuple(
            [item if item.__class__ is int else int.from_bytes(item, "big") for item in items]
        )


# How the loop runs an opcode of each kind (the fourth item of a table entry; the loop
# compares with the literal values, which saves a global lookup per instruction).
_PY, _FAST, _PUSH, _JUMP, _JUMPI = 0, 1, 2, 3, 4
_Entry = tuple[int, Any, str, int]
_TABLES: dict[int, tuple[Any, list[_Entry | None]]] = {}


def _dispatch_table(opcodes: Any) -> list[_Entry | None]:
    """opcode -> (static gas or -1, function, mnemonic, kind), for one fork's table.

    A list of 256 entries (None for an undefined opcode), indexed by the opcode.

    `_FastOpcode`s (a logic function and a constant gas cost) are split so the
    loop charges the gas itself. Their function is `wuye.ledger.ops`'s where it
    has one (`_FAST`: called with the stack list and the computation), else
    py-evm's (`_PY`); PUSHn carries n (`_PUSH`) and JUMP and JUMPI run in the
    loop itself. Anything else (opcodes with dynamic gas or static-call guards)
    is called as py-evm calls it, with gas -1. Built once per opcode table
    (kept alive beside it, so its id is never reused).
    """
    known = _TABLES.get(id(opcodes))
    if known is not None and known[0] is opcodes:
        return known[1]
    table = {}
    for value, opcode in opcodes.items():
        if type(opcode) is _FastOpcode and opcode.gas_cost >= 0:
            # PUSHn carries n in place of its logic function: the loop pushes inline
            logic, kind = opcode.logic_fn, _PY
            fast = fast_op_for(logic)
            if logic in _PUSH_LOGIC:
                logic, kind = _PUSH_LOGIC[logic], _PUSH
            elif logic is flow.jump:
                kind = _JUMP
            elif logic is flow.jumpi:
                kind = _JUMPI
            elif fast is not None:
                logic, kind = fast, _FAST
            table[value] = (opcode.gas_cost, logic, opcode.mnemonic, kind)
        else:
            table[value] = (-1, opcode, getattr(opcode, "mnemonic", hex(value)), _PY)
    by_opcode: list[_Entry | None] = [table.get(value) for value in range(256)]
    _TABLES[id(opcodes)] = (opcodes, by_opcode)
    return by_opcode


class LedgerComputation(PragueComputation):
    """Prague's computation with the interpreter loop of this module (see its docstring)."""

    def __init__(
        self,
        state: StateAPI,
        message: MessageAPI,
        transaction_context: TransactionContextAPI,
    ) -> None:
        super().__init__(state, message, transaction_context)
        self.code = LedgerCodeStream(message.code)
        stack = self._stack = LedgerStack()
        # py-evm binds these lazily with a `cached_property` each, whose first use
        # per computation costs more than the call it saves; bind them here.
        self.stack_pop_ints = stack.pop_ints
        self.stack_pop_bytes = stack.pop_bytes
        self.stack_pop_any = stack.pop_any
        self.stack_pop1_int = stack.pop1_int
        self.stack_pop1_bytes = stack.pop1_bytes
        self.stack_pop1_any = stack.pop1_any
        self.stack_push_int = stack.push_int
        self.stack_push_bytes = stack.push_bytes

    def extend_memory(self, start_position: int, size: int) -> None:
        # Stack values are uint256 by construction. Within the current memory (always
        # a multiple of 32 bytes) the new size is not larger, so the cost difference
        # is zero and nothing is extended: exactly py-evm's outcome, without the work.
        memory = self._memory
        before = len(memory)
        if size == 0 or start_position + size <= before:
            return
        if self.logger.show_debug2 or start_position < 0 or size < 0:
            super().extend_memory(start_position, size)  # py-evm's checks and its log line
            return
        # Growing: py-evm's fee (Yellow Paper H.1, C_mem) for its new size in words,
        # charged before memory grows. The size so far is always whole words.
        after = (start_position + size + 31) // 32 * 32
        fee = _memory_fee(after // 32) - _memory_fee(before // 32)
        if fee:
            meter = self._gas_meter
            if fee > meter.gas_remaining:
                raise OutOfGas(
                    f"Out of gas: Needed {fee} - Remaining {meter.gas_remaining} "
                    f"- Reason: Expanding memory {before} -> {after}"
                )
            meter.gas_remaining -= fee
        memory.extend(start_position, size)

    def memory_write(self, start_position: int, size: int, value: bytes) -> None:
        memory = self._memory
        end = start_position + size
        if size and len(value) == size and end <= len(memory) and value.__class__ is bytes:
            memory._bytes[start_position:end] = value  # type: ignore[attr-defined]
        else:  # anything unusual gets py-evm's checks and errors
            memory.write(start_position, size, value)

    @classmethod
    def apply_computation(
        cls,
        state: StateAPI,
        message: MessageAPI,
        transaction_context: TransactionContextAPI,
        parent_computation: ComputationAPI | None = None,
    ) -> ComputationAPI:
        """py-evm's `BaseComputation.apply_computation`, with static gas charged inline."""
        if cls.logger.show_debug2:  # opcode tracing: py-evm's own loop logs each step
            return super().apply_computation(
                state, message, transaction_context, parent_computation
            )
        with cls(state, message, transaction_context) as computation:
            if computation.is_origin_computation:
                computation.contracts_created = []
                if message.is_create:
                    cls.consume_initcode_gas_cost(computation)
            if parent_computation is not None:
                computation.contracts_created = parent_computation.contracts_created
            if message.is_create:
                computation.contracts_created.append(message.storage_address)

            precompile = computation.precompiles.get(message.code_address)
            if precompile is not None:
                if not message.is_delegation:
                    precompile(computation)
                return computation

            table = _dispatch_table(computation.opcodes)
            meter = computation._gas_meter
            code = computation.code
            raw = code._raw_code_bytes
            starts = code._starts
            size = len(raw)
            stack = computation._stack.values
            # The program counter lives in a local; the code stream's copy is brought up
            # to date for py-evm's own opcode functions (PC reads it, none other moves it).
            pc = code.program_counter
            try:
                while True:
                    if pc < size:
                        opcode = raw[pc]
                        pc += 1
                    else:  # past the end: py-evm's stream yields STOP
                        opcode = STOP
                    entry = table[opcode]
                    if entry is None:
                        code.program_counter = pc
                        InvalidOpcode(opcode)(computation=computation)
                        continue
                    gas, fn, mnemonic, kind = entry
                    if gas < 0:  # dynamic gas, static-call guards: py-evm's opcode object
                        code.program_counter = pc
                        fn(computation=computation)
                        pc = code.program_counter
                        continue
                    remaining = meter.gas_remaining
                    if gas > remaining:
                        raise OutOfGas(
                            f"Out of gas: Needed {gas} - Remaining {remaining} - Reason: {mnemonic}"
                        )
                    meter.gas_remaining = remaining - gas
                    if kind == 1:  # _FAST
                        try:
                            fn(stack, computation)
                        except IndexError:
                            raise InsufficientStack(
                                f"Insufficient stack items for {mnemonic}"
                            ) from None
                        continue
                    if kind == 2:  # _PUSH: n data bytes, zero-padded past the end
                        end = pc + fn
                        data = raw[pc:end]
                        pc = end
                        if len(stack) >= _STACK_LIMIT:
                            raise FullStack("Stack limit reached")
                        stack.append(data if len(data) == fn else data.ljust(fn, b"\0"))
                        continue
                    if kind == 4:  # _JUMPI
                        if len(stack) < 2:
                            raise InsufficientStack(f"Wanted 2 stack items, only had {len(stack)}")
                        destination = stack.pop()
                        condition = stack.pop()
                        if not (
                            condition
                            if condition.__class__ is int
                            else int.from_bytes(condition, "big")
                        ):
                            continue
                    elif kind == 3:  # _JUMP
                        if not stack:
                            raise InsufficientStack("Wanted 1 stack item, had none")
                        destination = stack.pop()
                    else:
                        code.program_counter = pc
                        fn(computation)
                        pc = code.program_counter
                        continue
                    # JUMP, or JUMPI taken: py-evm's checks, in its order
                    if destination.__class__ is not int:
                        destination = int.from_bytes(destination, "big")
                    if destination >= size or raw[destination] != JUMPDEST:
                        raise InvalidJumpDestination("Invalid Jump Destination")
                    if destination not in starts:
                        raise InvalidInstruction("Jump resulted in invalid instruction")
                    pc = destination
            except Halt:  # STOP, RETURN, REVERT, SELFDESTRUCT end the loop
                pass
            finally:
                code.program_counter = pc
        return computation


class LedgerTransactionExecutor(PragueTransactionExecutor):
    """Prague's transaction executor, without a debug line formatted for nobody.

    py-evm's `build_evm_message` formats a debug2 line on every transaction
    (the transaction's repr, the hash of its data, the whole contract code in
    hex) whether or not that level is logged: about a tenth of a simple call's
    overhead outside the interpreter. This is the same message, built the same
    way; with debug2 logging on, py-evm's own method runs, line and all.
    """

    def build_evm_message(self, transaction: Any) -> MessageAPI:
        state = self.vm_state
        if state.logger.show_debug2:
            return super().build_evm_message(transaction)
        # Buy gas (EIP-1559 price; EIP-4844 blob fee) and increment the nonce
        fee = transaction.gas * state.get_gas_price(transaction)
        if transaction.type_id == BLOB_TX_TYPE:
            fee += self.calc_data_fee(transaction)
        sender = transaction.sender
        state.delta_balance(sender, -1 * fee)
        state.increment_nonce(sender)
        refund = self.calc_message_refund(transaction)  # EIP-7702 authorisations
        if transaction.to == CREATE_CONTRACT_ADDRESS:
            create_address = generate_contract_address(sender, state.get_nonce(sender) - 1)
            data, code, is_delegation = b"", transaction.data, False
        else:
            create_address = None
            data = transaction.data
            code, delegation_address = self.get_code_at_address(transaction.to)
            is_delegation = delegation_address is not None
        return Message(
            gas=transaction.gas - transaction.intrinsic_gas,
            to=transaction.to,
            sender=sender,
            value=transaction.value,
            data=data,
            code=code,
            create_address=create_address,
            refund=refund,
            is_delegation=is_delegation,
        )


class LedgerState(PragueState):
    """Prague's state, running messages with `LedgerComputation`, storage on `LedgerAccountDB`."""

    computation_class = LedgerComputation
    account_db_class = LedgerAccountDB
    transaction_executor_class = LedgerTransactionExecutor
    #: py-evm's `BaseState.logger` looks this logger up by name on every use (a few
    #: times per transaction, each taking the logging module's lock); it never changes.
    logger = get_extended_debug_logger("eth.vm.state.LedgerState")
