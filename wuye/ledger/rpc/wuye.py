"""The `wuye_` JSON-RPC namespace: seals, validator sets, inclusion proofs, evidence."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import rlp
from eth.exceptions import HeaderNotFound, TransactionNotFound

from wuye import crypto
from wuye.ledger.proofs import build_proof
from wuye.ledger.rpc.eth import parse_data, parse_qty
from wuye.ledger.rpc.jsonrpc import Dispatcher, RPCError

if TYPE_CHECKING:
    from wuye.ledger.node import Node


class WuyeAPI:
    def __init__(self, node: Node) -> None:
        self.node = node
        self.ledger = node.ledger

    def register(self, dispatcher: Dispatcher) -> None:
        for name in dir(self):
            if name.startswith("wuye_"):
                dispatcher.register(name, getattr(self, name))

    def _number(self, value: Any) -> int:
        if value in ("latest", None):
            return self.ledger.head().block_number
        return parse_qty(value, "block number")

    def wuye_getSeals(self, number: Any) -> dict[str, Any] | None:
        """The header, its SM3 digest and the validators' SM2 seals of a final block."""
        n = self._number(number)
        try:
            header = self.ledger.header_by_number(n)
        except HeaderNotFound:
            return None
        header_rlp = rlp.encode(header)
        return {
            "number": hex(n),
            "hash": "0x" + header.hash.hex(),
            "headerRlp": "0x" + header_rlp.hex(),
            "digest": "0x" + crypto.sm3_hash(header_rlp).hex(),
            "seals": [s.to_json() for s in self.ledger.seals(n)],
        }

    def wuye_validators(self, number: Any = "latest") -> list[dict[str, str]]:
        """The validators that seal block `number` (for 'latest', the next block)."""
        if number in ("latest", None):
            validators = self.ledger.validators_after(self.ledger.head())
        else:
            n = self._number(number)
            if n <= 0:
                raise RPCError(-32602, "invalid params: genesis has no sealing validators")
            try:
                validators = self.ledger.validators_for(n)
            except HeaderNotFound:
                raise RPCError(-32001, f"block {n - 1} is not final yet") from None
        return [{"account": v.account, "sm2PublicKey": v.public_key} for v in validators]

    def wuye_getProof(self, tx_hash: str) -> dict[str, Any] | None:
        """Merkle proof of a transaction and its receipt under the sealed block digest."""
        raw = parse_data(tx_hash, "transaction hash", 32)
        chain = self.ledger.reader()
        try:
            number, index = chain.chaindb.get_transaction_index(raw)
        except TransactionNotFound:
            return None
        block = chain.get_canonical_block_by_number(number)
        receipts = block.get_receipts(chain.chaindb)
        return build_proof(block, receipts, index, self.ledger.seals(number))

    def wuye_getEvidence(self) -> list[dict[str, Any]]:
        """Misbehaviour this node has detected (double seals, conflicting proposals, ...)."""
        return self.ledger.evidence()

    def wuye_status(self) -> dict[str, Any]:
        return self.node.status()
