"""The voter's receipt (投票回执): proof that the ballot is on the ledger and was counted.

A receipt names the election, the ballot's tracker (SM3 of the encrypted ballot),
the transaction, its block, the Merkle proofs of the transaction and its receipt
under the sealed header, the validators' SM2 seals and the validator keys. It
says nothing about the vote: the tracker is a digest of a ciphertext.

* Offline, :func:`verify_offline` checks the seals against the validators the
  genesis file names (following the validator-set changes the receipt carries,
  each proven under a block sealed by the set before it), the Merkle proofs
  (:func:`wuye.ledger.proofs.verify_proof`), that the transaction went to the
  election's record contract and succeeded, and that its receipt logs the
  commitment of this tracker for this unit in Ballots.
* Online, :func:`verify_online` also checks against a node that the block is
  the chain's, and that the ballot is among those the verified tally counts: a
  ballot its unit replaced by voting again is reported as superseded.

Every failed check raises :class:`ReceiptError` saying which field failed.
"""

from __future__ import annotations

import io
import json
from typing import Any

import rlp
from eth_utils import keccak
from web3 import Web3
from web3.types import RPCEndpoint

from wuye.ledger.genesis import VALIDATORS_ADDRESS, Genesis
from wuye.ledger.proofs import ProofError, verify_proof

__all__ = [
    "ReceiptError",
    "build_receipt",
    "qr_svg",
    "validators_from_genesis",
    "verify_offline",
    "verify_online",
]

RECEIPT_VERSION = 1
#: Blocks per ``eth_getLogs`` call (the node refuses ranges over 10,000 blocks).
LOG_RANGE = 10_000
_VOTE_COMMITTED = keccak(b"VoteCommitted(uint256,bytes32,bytes32)")
_VALIDATOR_ADDED = keccak(b"ValidatorAdded(address,bytes32,bytes32,uint256)")
_VALIDATOR_REMOVED = keccak(b"ValidatorRemoved(address,uint256)")


class ReceiptError(ValueError):
    """A receipt does not check out; the message says what failed."""


def build_receipt(
    w3: Web3,
    *,
    election: str,
    ballots_address: str,
    unit_ref: bytes,
    tracker: bytes,
    tx_hash: bytes,
    title: str = "",
) -> dict[str, Any]:
    """Assemble a receipt from the node: the inclusion proof and the validator set."""
    tx_hex = "0x" + bytes(tx_hash).hex()
    proof = w3.provider.make_request(RPCEndpoint("wuye_getProof"), [tx_hex]).get("result")
    if proof is None:
        raise ReceiptError("the ledger has no proof for this transaction yet")
    number = int(proof["blockNumber"], 16)
    validators = (
        w3.provider.make_request(RPCEndpoint("wuye_validators"), [hex(number)]).get("result") or []
    )
    return {
        "version": RECEIPT_VERSION,
        "kind": "wuye-ballot-receipt",
        "election": election,
        "title": title,
        "ballots_contract": Web3.to_checksum_address(ballots_address),
        "unit": "0x" + unit_ref.hex(),
        "tracker": "0x" + tracker.hex(),
        "transaction": tx_hex,
        "block_number": number,
        "proof": proof,
        "validators": [v["sm2PublicKey"] for v in validators],
        "validator_changes": _validator_changes(w3, number),
    }


def _validator_changes(w3: Web3, before: int) -> list[dict[str, Any]]:
    """Inclusion proofs of every transaction that changed the validator set in blocks
    1..before-1: the chain of custody from the genesis validators to the set that
    sealed block ``before`` (a change in block b applies from block b + 1)."""
    if before <= 1:
        return []
    logs: list[Any] = []
    for first in range(1, before, LOG_RANGE):  # nodes answer at most LOG_RANGE blocks a call
        logs += w3.eth.get_logs(
            {
                "fromBlock": first,
                "toBlock": min(first + LOG_RANGE, before) - 1,
                "address": Web3.to_checksum_address(VALIDATORS_ADDRESS),
                "topics": [["0x" + _VALIDATOR_ADDED.hex(), "0x" + _VALIDATOR_REMOVED.hex()]],
            }
        )
    hashes = list(dict.fromkeys("0x" + bytes(log["transactionHash"]).hex() for log in logs))
    proofs = []
    for tx_hash in hashes:
        proof = w3.provider.make_request(RPCEndpoint("wuye_getProof"), [tx_hash]).get("result")
        if proof is None:
            raise ReceiptError(f"the ledger has no proof for validator change {tx_hash}")
        proofs.append(proof)
    return sorted(proofs, key=lambda p: (int(p["blockNumber"], 16), int(p["transactionIndex"], 16)))


def _key(value: str) -> str:
    return str(value).lower().removeprefix("0x")


def validators_from_genesis(
    genesis: Genesis, changes: list[dict[str, Any]], block_number: int
) -> tuple[list[str], list[str]]:
    """The validator keys that seal ``block_number``: the genesis file's, then each
    proven change in ``changes`` applied in order. Returns the keys and what was
    checked. Each change's block must be sealed by the set before it, and the
    changes must follow one another: the Validators contract numbers them (its
    epoch, 0 at genesis), so a change left out of the middle is noticed."""
    members = {v.account.lower(): _key(v.sm2_public_key) for v in genesis.validators}
    notes = []
    epoch = 0
    last = (0, -1)
    for change in changes:
        try:
            number = int(change["blockNumber"], 16)
            position = (number, int(change["transactionIndex"], 16))
        except (KeyError, TypeError, ValueError) as exc:
            raise ReceiptError(f"validator_changes: malformed entry: {exc}") from exc
        if position <= last:
            raise ReceiptError("validator_changes: not in chain order")
        last = position
        if number >= block_number:
            raise ReceiptError(
                f"validator_changes: block {number} is not before the ballot's block"
            )
        try:
            verify_proof(change, sorted(members.values()))
            sealed = _header_number(change)
        except (ProofError, KeyError, ValueError) as exc:
            raise ReceiptError(f"validator_changes: block {number}: {exc}") from exc
        if sealed != number:
            raise ReceiptError(
                f"validator_changes: block {number}: the sealed header's block number is {sealed}"
            )
        raw = _b(change["receipt"], "validator_changes.receipt")
        status, _, _, logs = rlp.decode(raw[1:]) if raw and raw[0] < 0x7F else rlp.decode(raw)
        if status != b"\x01":
            raise ReceiptError(f"validator_changes: block {number}: the transaction failed")
        applied = 0
        for address, topics, data in logs:
            if bytes(address) != VALIDATORS_ADDRESS or not topics:
                continue
            if bytes(topics[0]) not in (_VALIDATOR_ADDED, _VALIDATOR_REMOVED):
                continue
            account = "0x" + bytes(topics[1])[-20:].hex()
            added = bytes(topics[0]) == _VALIDATOR_ADDED
            # ValidatorAdded(account; x, y, epoch), ValidatorRemoved(account; epoch)
            changed = int.from_bytes(bytes(data)[64:96] if added else bytes(data)[:32], "big")
            if changed != epoch + 1:
                raise ReceiptError(
                    f"validator_changes: block {number}: change number {changed} follows "
                    f"number {epoch}; a validator-set change is missing"
                )
            epoch = changed
            if added:
                members[account] = "04" + bytes(data)[:64].hex()
                notes.append(f"#{number} + {account}")
            else:
                members.pop(account, None)
                notes.append(f"#{number} - {account}")
            applied += 1
        if not applied:
            raise ReceiptError(f"validator_changes: block {number}: no validator-set change")
    return sorted(members.values()), notes


def _header_number(proof: dict[str, Any]) -> int:
    """The block number in the proof's header (which verify_proof binds to the seals)."""
    header = rlp.decode(bytes.fromhex(str(proof["headerRlp"]).removeprefix("0x")))
    return int.from_bytes(header[8], "big")


def _b(value: Any, field: str) -> bytes:
    try:
        return bytes.fromhex(str(value).removeprefix("0x"))
    except ValueError as exc:
        raise ReceiptError(f"{field}: not hex") from exc


def verify_offline(
    receipt: dict[str, Any],
    *,
    genesis: Genesis | None = None,
    validators: list[str] | None = None,
) -> list[str]:
    """Check everything a receipt proves; return what was checked.

    The seals are checked against the validators ``genesis`` names, followed
    through the receipt's proven validator-set changes, or against ``validators``
    (keys a node reported for the block). With neither, the receipt's own list is
    taken on trust - it proves only that the receipt is self-consistent, since
    anyone can seal a forged block with keys of their own.
    """
    checked = []
    try:
        if receipt.get("kind") != "wuye-ballot-receipt" or receipt.get("version") != 1:
            raise ReceiptError("kind/version: not a wuye ballot receipt of version 1")
        proof = receipt["proof"]
        election, unit = str(receipt["election"]), _b(receipt["unit"], "unit")
        tracker = _b(receipt["tracker"], "tracker")
        record_address, ballot_id = election.rsplit("/", 1)
        claimed = [_key(v) for v in receipt["validators"]]
        changes = list(receipt.get("validator_changes") or [])
        number = int(receipt["block_number"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ReceiptError(f"receipt is incomplete or malformed: {exc}") from exc
    source = "the receipt's own validator list (not checked against a genesis file)"
    if genesis is not None:
        validators, notes = validators_from_genesis(genesis, changes, number)
        source = "the genesis file's validators" + (
            f", after {len(notes)} proven change(s): {'; '.join(notes)}" if notes else ""
        )
        foreign = sorted(set(claimed) - set(validators))
        if foreign:
            raise ReceiptError(
                f"validators: the receipt names key(s) {', '.join(k[:18] + '…' for k in foreign)} "
                "that are not among the genesis/on-chain validators"
            )
    elif validators is not None:
        validators = [_key(v) for v in validators]
        source = "the validators the node reports for this block"
    else:
        validators = claimed
    if _b(proof.get("transactionHash"), "proof.transactionHash") != _b(
        receipt["transaction"], "transaction"
    ):
        raise ReceiptError("transaction: does not match the proof's transaction hash")
    if int(proof.get("blockNumber", "0x0"), 16) != receipt.get("block_number"):
        raise ReceiptError("block_number: does not match the proof's block")
    try:
        verify_proof(proof, validators)
    except (ProofError, KeyError, ValueError) as exc:
        reason = str(exc)
        if "not a validator" in reason and validators is not claimed:
            raise ReceiptError(
                f"seals: block {number} is sealed by a key that is not among the "
                f"genesis/on-chain validators ({reason})"
            ) from exc
        raise ReceiptError(f"proof: {exc}") from exc
    if _header_number(proof) != number:
        raise ReceiptError(
            f"block_number: the sealed header is block {_header_number(proof)}, not {number}"
        )
    checked.append(
        f"block {number} sealed by a quorum of {len(validators)} validators "
        f"({source}); transaction and receipt proven under its header"
    )
    tx = _b(proof["transaction"], "proof.transaction")
    fields = rlp.decode(tx[1:]) if tx and tx[0] < 0x7F else rlp.decode(tx)
    to = fields[5] if tx and tx[0] == 2 else fields[3]
    if "0x" + bytes(to).hex() != record_address.lower():
        raise ReceiptError("election: the transaction was not sent to the election's contract")
    raw = _b(proof["receipt"], "proof.receipt")
    status, _, _, logs = rlp.decode(raw[1:]) if raw and raw[0] < 0x7F else rlp.decode(raw)
    if status != b"\x01":
        raise ReceiptError("transaction: it failed on the ledger (status 0)")
    ballots = _b(receipt["ballots_contract"], "ballots_contract")
    wanted = [_VOTE_COMMITTED, int(ballot_id).to_bytes(32, "big"), unit]
    found = [
        log for log in logs if bytes(log[0]) == ballots and [bytes(t) for t in log[1]] == wanted
    ]
    if not found:
        raise ReceiptError("unit/election: no vote of this unit in this election in the block")
    if bytes(found[0][2]) != tracker:
        raise ReceiptError("tracker: the ledger committed a different ballot for this unit")
    checked.append("the ledger committed this ballot tracker for this unit in this election")
    return checked


def verify_online(
    receipt: dict[str, Any], w3: Web3, *, genesis: Genesis | None = None
) -> list[str]:
    """Offline checks, then: the block is the node's, and the ballot is counted in the tally.

    Without ``genesis`` the seals are checked against the validators the node reports
    for the receipt's block (never the receipt's own list)."""
    from wuye.ledger.votes.chain import ElectionRef
    from wuye.ledger.votes.tally import last_ballots
    from wuye.ledger.votes.verify import verify_on_chain

    if genesis is not None:
        checked = verify_offline(receipt, genesis=genesis)
    else:
        number = receipt.get("block_number")
        answer = w3.provider.make_request(
            RPCEndpoint("wuye_validators"), [hex(number) if isinstance(number, int) else "0x0"]
        )
        if not answer.get("result"):
            raise ReceiptError("block_number: the node knows no validators for this block")
        node_keys = [v["sm2PublicKey"] for v in answer["result"]]
        checked = verify_offline(receipt, validators=node_keys)
    block = w3.eth.get_block(receipt["block_number"])
    if "0x" + bytes(block["hash"]).hex() != str(receipt["proof"]["blockHash"]).lower():
        raise ReceiptError("block: the node's block at this height has a different hash")
    checked.append("the node's chain holds this block")
    record, report = verify_on_chain(w3, ElectionRef.parse(receipt["election"]), workers=1)
    tracker = _b(receipt["tracker"], "tracker")
    if tracker not in record.trackers:
        raise ReceiptError("tracker: the election's record does not list this ballot")
    counted = {record.casts[i].tracker for i in last_ballots(record.casts)}
    if tracker not in counted:
        raise ReceiptError(
            "tracker: this ballot was superseded by a later ballot of the same unit "
            "(a revote); only the unit's last ballot counts"
        )
    if not report.ok:
        failed = [text for ok, text in report.lines if not ok]
        raise ReceiptError(f"tally: the election does not verify: {failed[0]}")
    if record.result is None:
        checked.append("ballot is in the record; the tally is not published yet")
    else:
        checked.append("ballot is among those counted in the verified tally")
    return checked


def qr_svg(receipt: dict[str, Any]) -> str:
    """A QR code (SVG) of the receipt's election, tracker and transaction."""
    import segno

    text = json.dumps(
        {k: receipt[k] for k in ("election", "tracker", "transaction", "block_number")},
        separators=(",", ":"),
    )
    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="svg", scale=4)
    return out.getvalue().decode()
