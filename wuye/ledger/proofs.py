"""Merkle proofs that a transaction and its receipt are in a sealed block.

A proof is the RLP-encoded header (whose SM3 digest the validators sealed),
and two Merkle-Patricia proofs (Ethereum's hexary trie, keyed by
rlp(transaction index)) from the header's `transactionsRoot` and
`receiptsRoot` down to the encoded transaction and receipt. `verify_proof`
checks all of it offline, given the seals and the validator keys.
"""

from __future__ import annotations

from typing import Any

import rlp
from eth.abc import BlockAPI
from eth.db.atomic import AtomicDB
from eth.db.trie import make_trie_root_and_nodes
from eth_utils import keccak
from trie import HexaryTrie

from wuye import crypto
from wuye.ledger import seals as sealing


class ProofError(ValueError):
    """A proof does not hold."""


def _trie_proof(items: Any, index: int) -> tuple[bytes, list[bytes], bytes]:
    root, nodes = make_trie_root_and_nodes(items)
    db = AtomicDB()
    for key, value in nodes.items():
        db[key] = value
    trie = HexaryTrie(db, root)
    key = rlp.encode(index)
    proof = trie.get_proof(key)
    return root, [rlp.encode(node) for node in proof], trie[key]


def build_proof(block: BlockAPI, receipts: Any, index: int, seals: list[sealing.Seal]) -> dict:
    """The inclusion proof of transaction `index` of `block` and its receipt."""
    tx_root, tx_nodes, tx_value = _trie_proof(block.transactions, index)
    receipt_root, receipt_nodes, receipt_value = _trie_proof(receipts, index)
    if tx_root != block.header.transaction_root or receipt_root != block.header.receipt_root:
        raise ProofError("recomputed tries do not match the header")
    header_rlp = rlp.encode(block.header)
    return {
        "blockNumber": hex(block.number),
        "blockHash": "0x" + block.hash.hex(),
        "transactionIndex": hex(index),
        "transactionHash": "0x" + block.transactions[index].hash.hex(),
        "headerRlp": "0x" + header_rlp.hex(),
        "digest": "0x" + crypto.sm3_hash(header_rlp).hex(),
        "transaction": "0x" + tx_value.hex(),
        "transactionProof": ["0x" + n.hex() for n in tx_nodes],
        "receipt": "0x" + receipt_value.hex(),
        "receiptProof": ["0x" + n.hex() for n in receipt_nodes],
        "seals": [s.to_json() for s in seals],
    }


def _b(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))


def verify_proof(proof: dict, validators: list[str]) -> None:
    """Raise ProofError unless the proof holds under a quorum of `validators`' seals."""
    header_rlp = _b(proof["headerRlp"])
    header = rlp.decode(header_rlp)
    if keccak(header_rlp) != _b(proof["blockHash"]):
        raise ProofError("header does not hash to the block hash")
    digest = crypto.sm3_hash(header_rlp)
    if digest != _b(proof["digest"]):
        raise ProofError("digest is not the SM3 of the header")
    tx_root, receipt_root = header[4], header[5]
    key = rlp.encode(int(proof["transactionIndex"], 16))
    for root, nodes, value, what in (
        (tx_root, proof["transactionProof"], proof["transaction"], "transaction"),
        (receipt_root, proof["receiptProof"], proof["receipt"], "receipt"),
    ):
        try:
            found = HexaryTrie.get_from_proof(root, key, [rlp.decode(_b(n)) for n in nodes])
        except Exception as exc:  # noqa: BLE001 - any trie failure means a bad proof
            raise ProofError(f"{what} proof is invalid: {exc}") from exc
        if found != _b(value):
            raise ProofError(f"{what} is not under the header's {what}s root")
    seals = [sealing.Seal.from_json(s) for s in proof["seals"]]
    problems = sealing.check_quorum(seals, digest, validators)
    if problems:
        raise ProofError(problems[0])
    # The trie holds a transaction's canonical encoding, whose keccak is its hash.
    if keccak(_b(proof["transaction"])) != _b(proof["transactionHash"]):
        raise ProofError("transaction does not hash to the transaction hash")
