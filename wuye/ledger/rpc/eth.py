"""The Ethereum JSON-RPC methods web3.py uses, served from a node's finalised chain.

Only finalised blocks are visible: `latest` is the newest sealed block, and a
receipt appears once its block is final. `pending` differs from `latest` only
for `eth_getTransactionCount`, which counts the node's pending transactions
so that web3.py can sign several transactions in a row.
"""

from __future__ import annotations

import itertools
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from eth._utils.address import generate_contract_address
from eth.abc import BlockAPI, BlockHeaderAPI, SignedTransactionAPI
from eth.exceptions import BlockNotFound, HeaderNotFound, TransactionNotFound, VMError
from eth.vm.message import Message
from eth.vm.spoof import SpoofTransaction
from eth_bloom import BloomFilter
from eth_keys import keys
from eth_utils import ValidationError, to_checksum_address

from wuye.ledger.rpc.jsonrpc import Dispatcher, RPCError, invalid_params
from wuye.ledger.txpool import TxRejected

if TYPE_CHECKING:
    from wuye.ledger.node import Node

ZERO_ADDRESS = b"\0" * 20
#: Signs the throwaway transaction gas estimation runs; its sender is then spoofed.
_ESTIMATE_KEY = keys.PrivateKey(b"\x11" * 32)
CALL_GAS = 50_000_000
BLOCK_CACHE_SIZE = 32


def qty(value: int) -> str:
    return hex(value)


def data(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def parse_qty(value: Any, name: str = "quantity") -> int:
    if isinstance(value, int):
        return value
    if not isinstance(value, str) or not value.startswith("0x"):
        raise invalid_params(f"{name} must be a 0x-prefixed hex quantity, got {value!r}")
    try:
        return int(value, 16)
    except ValueError:
        raise invalid_params(f"{name} is not hex: {value!r}") from None


def parse_data(value: Any, name: str = "data", length: int | None = None) -> bytes:
    if value is None:
        return b""
    if not isinstance(value, str) or not value.startswith("0x"):
        raise invalid_params(f"{name} must be 0x-prefixed hex, got {value!r}")
    try:
        raw = bytes.fromhex(value[2:])
    except ValueError:
        raise invalid_params(f"{name} is not hex: {value!r}") from None
    if length is not None and len(raw) != length:
        raise invalid_params(f"{name} must be {length} bytes, got {len(raw)}")
    return raw


def parse_address(value: Any, name: str = "address") -> bytes:
    return parse_data(value, name, 20)


def revert_error(output: bytes) -> RPCError:
    reason = ""
    if output[:4] == bytes.fromhex("08c379a0") and len(output) >= 68:
        size = int.from_bytes(output[36:68], "big")
        reason = output[68 : 68 + size].decode("utf-8", "replace")
    message = f"execution reverted: {reason}" if reason else "execution reverted"
    return RPCError(3, message, data(output))


class EthAPI:
    """The `eth_`, `net_` and `web3_` methods of one node."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.ledger = node.ledger
        self._filters: dict[str, dict[str, Any]] = {}
        self._filter_ids = itertools.count(1)
        self._filter_lock = threading.Lock()
        self._blocks: OrderedDict[bytes, tuple[BlockAPI, tuple]] = OrderedDict()
        self._cache_lock = threading.Lock()

    def register(self, dispatcher: Dispatcher) -> None:
        for name in dir(self):
            if name.startswith(("eth_", "net_", "web3_")):
                dispatcher.register(name, getattr(self, name))

    # -- blocks -------------------------------------------------------------
    def _header(self, chain: Any, tag: Any) -> BlockHeaderAPI:
        if tag in (None, "latest", "pending", "safe", "finalized"):
            return chain.get_canonical_head()
        if tag == "earliest":
            return chain.get_canonical_block_header_by_number(0)
        if isinstance(tag, dict):
            if "blockHash" in tag:
                return chain.get_block_header_by_hash(parse_data(tag["blockHash"], "blockHash", 32))
            tag = tag.get("blockNumber")
        number = parse_qty(tag, "block number")
        try:
            return chain.get_canonical_block_header_by_number(number)
        except HeaderNotFound:
            raise RPCError(-32001, f"header not found: block {number} is not final yet") from None

    def _state(self, chain: Any, tag: Any) -> Any:
        return self.ledger.state_at(self._header(chain, tag), chain)

    def _format_block(self, chain: Any, block: BlockAPI, full: bool) -> dict[str, Any]:
        h = block.header
        txs = [
            self._format_tx(tx, block, i) if full else data(tx.hash)
            for i, tx in enumerate(block.transactions)
        ]
        return {
            "number": qty(h.block_number),
            "hash": data(h.hash),
            "parentHash": data(h.parent_hash),
            "nonce": data(h.nonce),
            "mixHash": data(h.mix_hash),
            "sha3Uncles": data(h.uncles_hash),
            "logsBloom": data(h.bloom.to_bytes(256, "big")),
            "transactionsRoot": data(h.transaction_root),
            "stateRoot": data(h.state_root),
            "receiptsRoot": data(h.receipt_root),
            "miner": to_checksum_address(h.coinbase),
            "difficulty": qty(h.difficulty),
            "totalDifficulty": qty(0),
            "extraData": data(h.extra_data),
            "size": qty(len(self.ledger.encode_block(block))),
            "gasLimit": qty(h.gas_limit),
            "gasUsed": qty(h.gas_used),
            "timestamp": qty(h.timestamp),
            "baseFeePerGas": qty(h.base_fee_per_gas),
            "withdrawalsRoot": data(h.withdrawals_root),
            "withdrawals": [],
            "blobGasUsed": qty(h.blob_gas_used),
            "excessBlobGas": qty(h.excess_blob_gas),
            "parentBeaconBlockRoot": data(h.parent_beacon_block_root),
            "transactions": txs,
            "uncles": [],
        }

    def eth_chainId(self) -> str:
        return qty(self.ledger.chain_id)

    def net_version(self) -> str:
        return str(self.ledger.chain_id)

    def net_listening(self) -> bool:
        return True

    def net_peerCount(self) -> str:
        return qty(len(self.node.peers))

    def web3_clientVersion(self) -> str:
        from wuye import __version__ as version

        return f"wuye-ledger/{version}/py-evm"

    def eth_syncing(self) -> bool:
        return False

    def eth_accounts(self) -> list[str]:
        return []

    def eth_blockNumber(self) -> str:
        return qty(self.ledger.head().block_number)

    def eth_getBlockByNumber(self, tag: Any, full: bool = False) -> dict[str, Any] | None:
        chain = self.ledger.reader()
        try:
            header = self._header(chain, tag)
        except RPCError as exc:
            if exc.code == -32001:
                return None
            raise
        return self._format_block(chain, chain.get_block_by_header(header), bool(full))

    def eth_getBlockByHash(self, block_hash: str, full: bool = False) -> dict[str, Any] | None:
        chain = self.ledger.reader()
        try:
            block = chain.get_block_by_hash(parse_data(block_hash, "block hash", 32))
        except (BlockNotFound, HeaderNotFound):
            return None
        return self._format_block(chain, block, bool(full))

    def eth_getBlockTransactionCountByNumber(self, tag: Any) -> str:
        chain = self.ledger.reader()
        return qty(len(chain.get_block_by_header(self._header(chain, tag)).transactions))

    # -- transactions ---------------------------------------------------------
    def _format_tx(
        self, tx: SignedTransactionAPI, block: BlockAPI | None, index: int | None
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "hash": data(tx.hash),
            "nonce": qty(tx.nonce),
            "blockHash": data(block.hash) if block else None,
            "blockNumber": qty(block.number) if block else None,
            "transactionIndex": qty(index) if index is not None else None,
            "from": to_checksum_address(tx.sender),
            "to": to_checksum_address(tx.to) if tx.to else None,
            "value": qty(tx.value),
            "gas": qty(tx.gas),
            "input": data(tx.data),
            "r": qty(tx.r),
            "s": qty(tx.s),
        }
        type_id = getattr(tx, "type_id", None)
        if type_id is None:
            out.update(type="0x0", gasPrice=qty(tx.gas_price), v=qty(tx.v))
            if tx.chain_id is not None:
                out["chainId"] = qty(tx.chain_id)
        else:
            out.update(
                type=qty(type_id),
                chainId=qty(tx.chain_id),
                v=qty(tx.y_parity),
                yParity=qty(tx.y_parity),
                accessList=[
                    {
                        "address": to_checksum_address(a),
                        "storageKeys": ["0x" + k.to_bytes(32, "big").hex() for k in keys],
                    }
                    for a, keys in tx.access_list
                ],
            )
            if hasattr(tx, "max_fee_per_gas"):
                out.update(
                    maxFeePerGas=qty(tx.max_fee_per_gas),
                    maxPriorityFeePerGas=qty(tx.max_priority_fee_per_gas),
                    gasPrice=qty(self._effective_price(tx, block)),
                )
            else:
                out["gasPrice"] = qty(tx.gas_price)
        return out

    def _effective_price(self, tx: SignedTransactionAPI, block: BlockAPI | None) -> int:
        if not hasattr(tx, "max_fee_per_gas"):
            return tx.gas_price
        if block is None:
            return tx.max_fee_per_gas
        base = block.header.base_fee_per_gas
        return min(tx.max_fee_per_gas, base + tx.max_priority_fee_per_gas)

    def _final_block(self, chain: Any, header: BlockHeaderAPI) -> tuple[BlockAPI, tuple]:
        """A final block and its receipts, cached: final blocks never change."""
        with self._cache_lock:
            cached = self._blocks.get(header.hash)
            if cached is not None:
                self._blocks.move_to_end(header.hash)
                return cached
        block = chain.get_block_by_header(header)
        entry = (block, tuple(block.get_receipts(chain.chaindb)))
        with self._cache_lock:
            self._blocks[header.hash] = entry
            while len(self._blocks) > BLOCK_CACHE_SIZE:
                self._blocks.popitem(last=False)
        return entry

    def _locate(self, chain: Any, tx_hash: bytes) -> tuple[BlockAPI, int] | None:
        try:
            number, index = chain.chaindb.get_transaction_index(tx_hash)
        except TransactionNotFound:
            return None
        header = chain.get_canonical_block_header_by_number(number)
        return self._final_block(chain, header)[0], index

    def eth_getTransactionByHash(self, tx_hash: str) -> dict[str, Any] | None:
        raw = parse_data(tx_hash, "transaction hash", 32)
        chain = self.ledger.reader()
        found = self._locate(chain, raw)
        if found is None:
            pending = self.node.pool.get(raw)
            return self._format_tx(pending, None, None) if pending is not None else None
        block, index = found
        return self._format_tx(block.transactions[index], block, index)

    def eth_getRawTransactionByHash(self, tx_hash: str) -> str | None:
        raw = parse_data(tx_hash, "transaction hash", 32)
        chain = self.ledger.reader()
        found = self._locate(chain, raw)
        if found is None:
            pending = self.node.pool.get(raw)
            return data(pending.encode()) if pending is not None else None
        block, index = found
        return data(block.transactions[index].encode())

    def eth_getTransactionReceipt(self, tx_hash: str) -> dict[str, Any] | None:
        raw = parse_data(tx_hash, "transaction hash", 32)
        chain = self.ledger.reader()
        found = self._locate(chain, raw)
        if found is None:
            return None
        block, index = found
        _, receipts = self._final_block(chain, block.header)
        return self._format_receipt(block, receipts, index)

    def _format_receipt(self, block: BlockAPI, receipts: Any, index: int) -> dict[str, Any]:
        tx = block.transactions[index]
        receipt = receipts[index]
        previous = receipts[index - 1].gas_used if index else 0
        log_base = sum(len(r.logs) for r in receipts[:index])
        contract = None
        if not tx.to:
            contract = to_checksum_address(generate_contract_address(tx.sender, tx.nonce))
        return {
            "transactionHash": data(tx.hash),
            "transactionIndex": qty(index),
            "blockHash": data(block.hash),
            "blockNumber": qty(block.number),
            "from": to_checksum_address(tx.sender),
            "to": to_checksum_address(tx.to) if tx.to else None,
            "cumulativeGasUsed": qty(receipt.gas_used),
            "gasUsed": qty(receipt.gas_used - previous),
            "effectiveGasPrice": qty(self._effective_price(tx, block)),
            "contractAddress": contract,
            "logs": [
                self._format_log(entry, block, tx, index, log_base + i)
                for i, entry in enumerate(receipt.logs)
            ],
            "logsBloom": data(receipt.bloom.to_bytes(256, "big")),
            "status": qty(1 if receipt.state_root == b"\x01" else 0),
            "type": qty(getattr(tx, "type_id", None) or 0),
        }

    def _format_log(
        self, entry: Any, block: BlockAPI, tx: SignedTransactionAPI, tx_index: int, log_index: int
    ) -> dict[str, Any]:
        return {
            "address": to_checksum_address(entry.address),
            "topics": ["0x" + t.to_bytes(32, "big").hex() for t in entry.topics],
            "data": data(entry.data),
            "blockNumber": qty(block.number),
            "blockHash": data(block.hash),
            "transactionHash": data(tx.hash),
            "transactionIndex": qty(tx_index),
            "logIndex": qty(log_index),
            "removed": False,
        }

    def eth_sendRawTransaction(self, raw_tx: str) -> str:
        raw = parse_data(raw_tx, "raw transaction")
        try:
            tx_hash = self.node.submit(raw)
        except TxRejected as exc:
            raise RPCError(exc.code, str(exc)) from None
        return data(tx_hash)

    # -- state ------------------------------------------------------------------
    def eth_getBalance(self, address: str, tag: Any = "latest") -> str:
        chain = self.ledger.reader()
        return qty(self._state(chain, tag).get_balance(parse_address(address)))

    def eth_getCode(self, address: str, tag: Any = "latest") -> str:
        chain = self.ledger.reader()
        return data(self._state(chain, tag).get_code(parse_address(address)))

    def eth_getStorageAt(self, address: str, slot: str, tag: Any = "latest") -> str:
        chain = self.ledger.reader()
        value = self._state(chain, tag).get_storage(parse_address(address), parse_qty(slot))
        return data(value.to_bytes(32, "big"))

    def eth_getTransactionCount(self, address: str, tag: Any = "latest") -> str:
        account = parse_address(address)
        if tag == "pending":
            return qty(self.node.next_nonce(account))
        chain = self.ledger.reader()
        return qty(self._state(chain, tag).get_nonce(account))

    def eth_gasPrice(self) -> str:
        head = self.ledger.head()
        return qty(head.base_fee_per_gas * 2 + 1)

    def eth_maxPriorityFeePerGas(self) -> str:
        return qty(1)

    def eth_feeHistory(self, count: Any, newest: Any, percentiles: Any = None) -> dict[str, Any]:
        chain = self.ledger.reader()
        newest_header = self._header(chain, newest)
        blocks = max(1, min(parse_qty(count, "block count"), 1024))
        first = max(0, newest_header.block_number - blocks + 1)
        headers = [
            chain.get_canonical_block_header_by_number(n)
            for n in range(first, newest_header.block_number + 1)
        ]
        return {
            "oldestBlock": qty(first),
            "baseFeePerGas": [qty(h.base_fee_per_gas) for h in headers]
            + [qty(headers[-1].base_fee_per_gas)],
            "gasUsedRatio": [h.gas_used / h.gas_limit for h in headers],
            "reward": [[qty(1) for _ in (percentiles or [])] for _ in headers],
        }

    def _message_args(self, call: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(call, dict):
            raise invalid_params("call object expected")
        payload = call.get("data", call.get("input"))
        return {
            "sender": parse_address(call["from"], "from") if call.get("from") else ZERO_ADDRESS,
            "to": parse_address(call["to"], "to") if call.get("to") else b"",
            "gas": parse_qty(call["gas"], "gas") if call.get("gas") else CALL_GAS,
            "value": parse_qty(call.get("value", 0), "value"),
            "data": parse_data(payload, "data"),
        }

    def eth_call(self, call: dict[str, Any], tag: Any = "latest", *_: Any) -> str:
        args = self._message_args(call)
        chain = self.ledger.reader()
        header = self._header(chain, tag)
        vm = chain.get_vm(chain.create_header_from_parent(header))
        state = vm.state
        context = state.get_transaction_context_class()(gas_price=0, origin=args["sender"])
        if args["to"]:
            message = Message(
                gas=args["gas"],
                to=args["to"],
                sender=args["sender"],
                value=args["value"],
                data=args["data"],
                code=state.get_code(args["to"]),
                code_address=args["to"],
                should_transfer_value=args["value"] > 0,
            )
            computation = state.computation_class.apply_message(state, message, context)
        else:
            message = Message(
                gas=args["gas"],
                to=b"",
                sender=args["sender"],
                value=args["value"],
                data=b"",
                code=args["data"],
                create_address=generate_contract_address(
                    args["sender"], state.get_nonce(args["sender"])
                ),
            )
            computation = state.computation_class.apply_create_message(state, message, context)
        if computation.is_error:
            raise revert_error(bytes(computation.output))
        return data(computation.output)

    def eth_estimateGas(self, call: dict[str, Any], tag: Any = "latest") -> str:
        args = self._message_args(call)
        chain = self.ledger.reader()
        header = self._header(chain, tag)
        vm = chain.get_vm(chain.create_header_from_parent(header))
        nonce = vm.state.get_nonce(args["sender"])
        unsigned = vm.create_unsigned_transaction(
            nonce=nonce,
            gas_price=0,
            gas=header.gas_limit,
            to=args["to"],
            value=args["value"],
            data=args["data"],
        )
        signed = unsigned.as_signed_transaction(_ESTIMATE_KEY, chain_id=self.ledger.chain_id)
        spoof = SpoofTransaction(signed, sender=args["sender"])
        try:
            with vm.in_costless_state() as state:
                estimate = chain.gas_estimator(state, spoof)
        except ValidationError as exc:
            raise RPCError(-32000, str(exc)) from None
        except VMError as exc:  # Revert carries the revert data as its first argument
            output = getattr(exc, "args", [b""])
            raw = output[0] if output and isinstance(output[0], bytes) else b""
            if raw:
                raise revert_error(raw) from None
            raise RPCError(3, f"execution reverted: {exc}", "0x") from None
        return qty(estimate)

    # -- logs and filters -----------------------------------------------------------
    def _parse_filter(self, spec: dict[str, Any]) -> dict[str, Any]:
        if not isinstance(spec, dict):
            raise invalid_params("filter object expected")
        addresses = spec.get("address")
        if isinstance(addresses, str):
            addresses = [addresses]
        topics = []
        for topic in spec.get("topics") or []:
            if topic is None:
                topics.append(None)
            elif isinstance(topic, list):
                topics.append({int(parse_data(t, "topic", 32).hex(), 16) for t in topic})
            else:
                topics.append({int(parse_data(topic, "topic", 32).hex(), 16)})
        return {
            "addresses": {parse_address(a) for a in addresses} if addresses else None,
            "topics": topics,
            "from": spec.get("fromBlock", "latest"),
            "to": spec.get("toBlock", "latest"),
            "blockHash": spec.get("blockHash"),
        }

    def _matches(self, entry: Any, flt: dict[str, Any]) -> bool:
        if flt["addresses"] is not None and entry.address not in flt["addresses"]:
            return False
        for i, wanted in enumerate(flt["topics"]):
            if wanted is None:
                continue
            if i >= len(entry.topics) or entry.topics[i] not in wanted:
                return False
        return True

    def _may_match(self, bloom: BloomFilter, flt: dict[str, Any]) -> bool:
        """False when the header's logs bloom rules the block out (no false negatives)."""
        if flt["addresses"] is not None and not any(a in bloom for a in flt["addresses"]):
            return False
        for wanted in flt["topics"]:
            if wanted is not None and not any(t.to_bytes(32, "big") in bloom for t in wanted):
                return False
        return True

    def _logs(self, chain: Any, flt: dict[str, Any], first: int, last: int) -> list[dict]:
        out = []
        for number in range(first, last + 1):
            header = chain.get_canonical_block_header_by_number(number)
            if header.gas_used == 0 or not self._may_match(BloomFilter(header.bloom), flt):
                continue
            block, receipts = self._final_block(chain, header)
            log_index = 0
            for tx_index, receipt in enumerate(receipts):
                for entry in receipt.logs:
                    if self._matches(entry, flt):
                        tx = block.transactions[tx_index]
                        out.append(self._format_log(entry, block, tx, tx_index, log_index))
                    log_index += 1
        return out

    def eth_getLogs(self, spec: dict[str, Any]) -> list[dict[str, Any]]:
        flt = self._parse_filter(spec)
        chain = self.ledger.reader()
        if flt["blockHash"]:
            header = chain.get_block_header_by_hash(parse_data(flt["blockHash"], "blockHash", 32))
            first = last = header.block_number
        else:
            first = self._header(chain, flt["from"]).block_number
            last = self._header(chain, flt["to"]).block_number
        if last - first > 10_000:
            raise RPCError(-32005, "query returned more than 10000 blocks; narrow the range")
        return self._logs(chain, flt, first, last)

    def eth_newFilter(self, spec: dict[str, Any]) -> str:
        flt = self._parse_filter(spec)
        chain = self.ledger.reader()
        flt["kind"] = "logs"
        flt["next"] = self._header(chain, flt["from"]).block_number
        return self._install(flt)

    def eth_newBlockFilter(self) -> str:
        return self._install({"kind": "blocks", "next": self.ledger.head().block_number + 1})

    def _install(self, flt: dict[str, Any]) -> str:
        with self._filter_lock:
            ident = qty(next(self._filter_ids))
            self._filters[ident] = flt
        return ident

    def _filter(self, ident: str) -> dict[str, Any]:
        flt = self._filters.get(ident)
        if flt is None:
            raise RPCError(-32000, "filter not found")
        return flt

    def eth_getFilterChanges(self, ident: str) -> list[Any]:
        flt = self._filter(ident)
        chain = self.ledger.reader()
        head = chain.get_canonical_head().block_number
        first, flt["next"] = flt["next"], head + 1
        if flt["kind"] == "blocks":
            return [data(chain.get_canonical_block_hash(n)) for n in range(first, head + 1)]
        last = head
        if flt["to"] not in (None, "latest", "pending"):
            last = min(head, self._header(chain, flt["to"]).block_number)
        return self._logs(chain, flt, first, last)

    def eth_getFilterLogs(self, ident: str) -> list[dict[str, Any]]:
        flt = self._filter(ident)
        if flt["kind"] != "logs":
            raise RPCError(-32000, "not a log filter")
        chain = self.ledger.reader()
        first = self._header(chain, flt["from"]).block_number
        last = self._header(chain, flt["to"]).block_number
        return self._logs(chain, flt, first, last)

    def eth_uninstallFilter(self, ident: str) -> bool:
        with self._filter_lock:
            return self._filters.pop(ident, None) is not None
