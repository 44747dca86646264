"""The votes on the ledger, through web3.py only: the Ballots contract and ElectionRecord.

The platform's ballot officer registers an election in ``Ballots`` (its unit roll
with areas, and the manifest's fingerprint, which covers the credential list),
publishes the manifest, roll and voting credentials to ``ElectionRecord`` (which
accepts them only until the vote opens), casts each encrypted ballot through
``ElectionRecord.cast`` (which commits the SM3 tracker in ``Ballots`` and logs the
ciphertext and the owner's credential signature in one transaction; a revote
replaces the unit's commitment), closes the election and records the decrypted
result. :func:`fetch_record` reads it all back from any
node, which is what ``wuye votes verify --rpc`` does.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_typing import ChecksumAddress
from eth_utils import keccak
from web3 import HTTPProvider, Web3
from web3.types import RPCEndpoint

from wuye.crypto import sm3_hash
from wuye.ledger import contracts as ledger_contracts
from wuye.ledger.genesis import PERMISSIONS_ADDRESS
from wuye.ledger.votes import contracts
from wuye.ledger.votes.ballot import OPTIONS
from wuye.ledger.votes.civil_code import Decision
from wuye.ledger.votes.credentials import decode_credentials, encode_credentials
from wuye.ledger.votes.tally import Cast, Manifest, Result, decode_units, encode_units

__all__ = ["ElectionRef", "Officer", "deploy", "fetch_record"]

KIND_HEADER = 1
KIND_UNITS = 2
KIND_RESULT = 3
KIND_CREDENTIALS = 4
ROLE_SENDER = 1
ROLE_BALLOT_OFFICER = 16
#: Units per ``Ballots.add_units`` call (the contract's MAX_UNITS_PER_CALL).
UNITS_PER_CALL = 256
UNITS_PER_RECORD = 500
CREDENTIALS_PER_RECORD = 200
#: Fee cap per gas: the chain's base fee stays far below it; a cap keeps a long queue of
#: pending casts affordable for the officer's balance.
MAX_FEE_PER_GAS = 10**9
#: Most gas the officer keeps in flight: the ledger drops (rather than defers) a
#: transaction that does not fit in the block being built, so the pending
#: transactions' gas limits must fit in one block (60M by default).
IN_FLIGHT_GAS = 40_000_000


@dataclass(frozen=True)
class ElectionRef:
    """An election on the ledger: the ElectionRecord contract and the Ballots ballot id.

    Written ``0x<record address>/<ballot id>``; this is the ``--election`` argument.
    """

    record: str
    ballot_id: int

    def __str__(self) -> str:
        return f"{self.record}/{self.ballot_id}"

    @classmethod
    def parse(cls, text: str) -> ElectionRef:
        try:
            address, number = text.strip().rsplit("/", 1)
            return cls(Web3.to_checksum_address(address), int(number))
        except ValueError as exc:
            raise ValueError(f"election must look like 0x<address>/<number>, not {text!r}") from exc


def _checksum(address: str) -> ChecksumAddress:
    return Web3.to_checksum_address(address)


def connect(rpc_url: str) -> Web3:
    return Web3(HTTPProvider(rpc_url, request_kwargs={"timeout": 60}))


class Officer:
    """Sends the ballot officer's transactions, keeping its own nonce.

    One officer serves a whole process, whose routes run in a thread pool: a lock
    hands out nonces in the order transactions reach the node, and is not held while
    a thread waits for its receipt.
    """

    def __init__(self, w3: Web3, private_key: str) -> None:
        self.w3 = w3
        self.account = Account.from_key(private_key)
        self.chain_id = w3.eth.chain_id
        self._nonce: int | None = None
        self._in_flight: list[tuple[Any, int]] = []
        self._lock = threading.RLock()

    @property
    def address(self) -> str:
        return self.account.address

    def _make_room(self, gas: int) -> None:
        while self._in_flight and sum(g for _, g in self._in_flight) + gas > IN_FLIGHT_GAS:
            self.wait(self._in_flight[0][0])

    def _send(self, tx: dict[str, Any], gas: int) -> Any:
        """Give ``tx`` the next nonce, sign and send it; returns its hash."""
        with self._lock:
            self._make_room(gas)
            if self._nonce is None:
                self._nonce = self.w3.eth.get_transaction_count(_checksum(self.address), "pending")
            signed = self.account.sign_transaction(tx | {"nonce": self._nonce})
            try:
                tx_hash = self.w3.eth.send_raw_transaction(signed.raw_transaction)
            except Exception:
                self._nonce = None  # read it again from the node next time
                raise
            self._nonce += 1
            self._in_flight.append((tx_hash, gas))
            return tx_hash

    def send(self, fn: Any, *, gas: int | None = None, wait: bool = True) -> Any:
        """Sign and send a contract call; ``gas`` defaults to an estimate plus a margin."""
        if gas is None:
            gas = int(fn.estimate_gas({"from": self.address}) * 1.25) + 10_000
        tx = fn.build_transaction(
            {
                "from": self.address,
                "nonce": 0,
                "chainId": self.chain_id,
                "gas": gas,
                "maxFeePerGas": MAX_FEE_PER_GAS,
                "maxPriorityFeePerGas": 1,
            }
        )
        tx_hash = self._send(tx, gas)
        if not wait:
            return tx_hash
        return self.wait(tx_hash)

    def transfer(self, to: str, value: int) -> Any:
        tx = {
            "to": to,
            "value": value,
            "gas": 21000,
            "chainId": self.chain_id,
            "maxFeePerGas": MAX_FEE_PER_GAS,
            "maxPriorityFeePerGas": 1,
        }
        return self.wait(self._send(tx, 21000))

    def wait(self, tx_hash: Any) -> Any:
        receipt = self.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120, poll_latency=0.02)
        with self._lock:
            self._in_flight = [(h, g) for h, g in self._in_flight if h != tx_hash]
        if receipt["status"] != 1:
            raise RuntimeError(f"transaction {tx_hash.hex()} reverted")
        return receipt

    def ballots(self, address: str) -> Any:
        abi, _ = ledger_contracts.load("Ballots")
        return self.w3.eth.contract(address=_checksum(address), abi=abi)

    def record(self, address: str) -> Any:
        abi, _ = contracts.load("ElectionRecord")
        return self.w3.eth.contract(address=_checksum(address), abi=abi)

    # --- the election's life on the ledger --------------------------------

    def register(
        self,
        record_address: str,
        manifest: Manifest,
        estate_ref: bytes,
        *,
        spend_limit_fen: int = 0,
    ) -> ElectionRef:
        """Register the roll in Ballots, publish the manifest, the roll and the credential
        list, and open the vote (after which ElectionRecord accepts none of them again).
        ``spend_limit_fen`` is the most of the maintenance fund an approval authorises."""
        record = self.record(record_address)
        ballots = self.ballots(record.functions.ballots().call())
        receipt = self.send(
            ballots.functions.register(estate_ref, manifest.fingerprint, spend_limit_fen)
        )
        ballot_id = ballots.events.BallotRegistered().process_receipt(receipt)[0].args.ballot_id
        pending = []
        units = manifest.units
        for i in range(0, len(units), UNITS_PER_CALL):
            chunk = units[i : i + UNITS_PER_CALL]
            fn = ballots.functions.add_units(
                ballot_id, [u.ref for u in chunk], [u.area for u in chunk]
            )
            pending.append(self.send(fn, wait=False))
        pending.append(
            self.send(
                record.functions.publish(ballot_id, KIND_HEADER, manifest.header_bytes()),
                wait=False,
            )
        )
        for i in range(0, len(units), UNITS_PER_RECORD):
            data = encode_units(units[i : i + UNITS_PER_RECORD])
            fn = record.functions.publish(ballot_id, KIND_UNITS, data)
            pending.append(self.send(fn, wait=False))
        credentials = manifest.credentials
        for i in range(0, len(credentials), CREDENTIALS_PER_RECORD):
            data = encode_credentials(credentials[i : i + CREDENTIALS_PER_RECORD])
            fn = record.functions.publish(ballot_id, KIND_CREDENTIALS, data)
            pending.append(self.send(fn, wait=False))
        for tx_hash in pending:
            self.wait(tx_hash)
        self.send(ballots.functions.open(ballot_id))
        return ElectionRef(record_address, ballot_id)

    def cast(
        self,
        ref: ElectionRef,
        unit_ref: bytes,
        ballot: bytes,
        signature: bytes = b"",
        *,
        wait: bool = True,
    ) -> Any:
        """Log an encrypted ballot with its credential signature and commit its tracker.

        The officer can send anything here; what counts is checked by every verifier
        (``wuye votes verify``): the signature must be the unit's credential's."""
        record = self.record(ref.record)
        fn = record.functions.cast(ref.ballot_id, unit_ref, sm3_hash(ballot), ballot, signature)
        return self.send(fn, gas=300_000, wait=wait)

    def close(self, ref: ElectionRef) -> None:
        ballots = self.ballots(self.record(ref.record).functions.ballots().call())
        self.send(ballots.functions.close(ref.ballot_id))

    def publish_result(self, ref: ElectionRef, result: Result, decision: Decision) -> str:
        """Publish the shares and counts, then record the decision in Ballots."""
        record = self.record(ref.record)
        ballots = self.ballots(record.functions.ballots().call())
        body = result.to_json() | {"decision": decision.to_json()}
        data = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        self.send(record.functions.publish(ref.ballot_id, KIND_RESULT, data))
        counts = result.counts
        receipt = self.send(
            ballots.functions.record_result(
                ref.ballot_id,
                decision.approved,
                counts.get((0, "heads"), 0),
                counts.get((0, "area"), 0),
                counts.get((1, "heads"), 0),
                counts.get((1, "area"), 0),
                sm3_hash(data),
            )
        )
        return "0x" + bytes(receipt.transactionHash).hex()


def deploy(w3: Web3, admin_key: str, officer_address: str) -> tuple[str, str]:
    """Deploy Ballots and ElectionRecord and grant the roles (``admin_key`` holds ROLE_ADMIN).

    Returns (ballots address, record address).
    """
    admin = Officer(w3, admin_key)
    perm_abi, _ = ledger_contracts.load("Permissions")
    permissions = w3.eth.contract(
        address=Web3.to_checksum_address(PERMISSIONS_ADDRESS), abi=perm_abi
    )
    b_abi, b_code = ledger_contracts.load("Ballots")
    receipt = admin.send(
        w3.eth.contract(abi=b_abi, bytecode=b_code).constructor(permissions.address), gas=5_000_000
    )
    ballots_address = receipt.contractAddress
    r_abi, r_code = contracts.load("ElectionRecord")
    receipt = admin.send(
        w3.eth.contract(abi=r_abi, bytecode=r_code).constructor(
            ballots_address, permissions.address
        ),
        gas=5_000_000,
    )
    record_address = receipt.contractAddress
    admin.send(permissions.functions.grant(record_address, ROLE_BALLOT_OFFICER))
    admin.send(permissions.functions.grant(officer_address, ROLE_SENDER | ROLE_BALLOT_OFFICER))
    if w3.eth.get_balance(_checksum(officer_address)) < 10**19:
        admin.transfer(
            officer_address, min(10**20, w3.eth.get_balance(_checksum(admin.address)) // 2)
        )
    return ballots_address, record_address


@dataclass
class OnChainRecord:
    """What :func:`fetch_record` read: the manifest, the casts and the result, if any."""

    ref: ElectionRef
    ballots_address: str
    subject: bytes
    manifest: Manifest
    casts: list[Cast]
    trackers: list[bytes]
    committed: dict[bytes, bytes]
    result: Result | None
    decision: Decision | None
    status: int
    eligible_units: int
    eligible_area: int
    cast_count: int


_BALLOT_PUBLISHED = "0x" + keccak(b"BallotPublished(uint256,bytes32,bytes32,bytes,bytes)").hex()


_VOTE_COMMITTED = "0x" + keccak(b"VoteCommitted(uint256,bytes32,bytes32)").hex()


def _raw_logs(w3: Web3, address: str, event: str, ballot_id: int) -> list[dict[str, Any]]:
    topic = "0x" + ballot_id.to_bytes(32, "big").hex()
    spec = {"fromBlock": "0x0", "toBlock": "latest", "address": address, "topics": [event, topic]}
    response = w3.provider.make_request(RPCEndpoint("eth_getLogs"), [spec])
    if "error" in response:
        raise LookupError(f"eth_getLogs failed: {response['error']}")
    return sorted(
        response["result"], key=lambda e: (int(e["blockNumber"], 16), int(e["logIndex"], 16))
    )


def _ballot_logs(w3: Web3, ref: ElectionRef) -> tuple[list[Cast], list[bytes]]:
    """Every BallotPublished log of the election, in ledger order, decoded by hand.

    Tens of thousands of ballots pass through here; raw ``eth_getLogs`` and a
    direct ABI decode of ``(bytes32 tracker, bytes ballot, bytes signature)`` skip web3's
    per-event formatting, which costs more than verifying the proofs.
    """
    topic = "0x" + ref.ballot_id.to_bytes(32, "big").hex()
    spec = {
        "fromBlock": "0x0",
        "toBlock": "latest",
        "address": ref.record,
        "topics": [_BALLOT_PUBLISHED, topic],
    }
    response = w3.provider.make_request(RPCEndpoint("eth_getLogs"), [spec])
    if "error" in response:
        raise LookupError(f"eth_getLogs failed: {response['error']}")
    entries = sorted(
        response["result"], key=lambda e: (int(e["blockNumber"], 16), int(e["logIndex"], 16))
    )
    casts, trackers = [], []
    for entry in entries:
        data = bytes.fromhex(entry["data"][2:])

        def dynamic(head: int, data: bytes = data) -> bytes:
            offset = int.from_bytes(data[head : head + 32], "big")
            length = int.from_bytes(data[offset : offset + 32], "big")
            return data[offset + 32 : offset + 32 + length]

        unit = bytes.fromhex(entry["topics"][2][2:])
        casts.append(Cast(unit, dynamic(32), dynamic(64)))
        trackers.append(data[:32])
    return casts, trackers


def fetch_record(w3: Web3, ref: ElectionRef) -> OnChainRecord:
    """Read an election's whole public record from the ledger."""
    r_abi, _ = contracts.load("ElectionRecord")
    record = w3.eth.contract(address=_checksum(ref.record), abi=r_abi)
    b_abi, _ = ledger_contracts.load("Ballots")
    ballots_address = record.functions.ballots().call()
    ballots = w3.eth.contract(address=ballots_address, abi=b_abi)
    published = record.events.Published().get_logs(
        from_block=0, argument_filters={"ballot_id": ref.ballot_id}
    )
    published = sorted(published, key=lambda e: (e.blockNumber, e.logIndex))
    header = None
    units_data = b""
    credentials_data = b""
    result_body = None
    for event in published:
        if event.args.kind == KIND_HEADER and header is None:
            header = json.loads(event.args.data)
        elif event.args.kind == KIND_UNITS:
            units_data += bytes(event.args.data)
        elif event.args.kind == KIND_CREDENTIALS:
            credentials_data += bytes(event.args.data)
        elif event.args.kind == KIND_RESULT and result_body is None:
            result_body = json.loads(event.args.data)
    if header is None:
        raise LookupError(f"no election manifest published for {ref}")
    manifest = Manifest.from_parts(
        header, decode_units(units_data), decode_credentials(credentials_data)
    )
    casts, trackers = _ballot_logs(w3, ref)
    committed = {
        bytes.fromhex(e["topics"][2][2:]): bytes.fromhex(e["data"][2:66])
        for e in _raw_logs(w3, ballots_address, _VOTE_COMMITTED, ref.ballot_id)
    }
    info = ballots.functions.ballots(ref.ballot_id).call()
    result = decision = None
    if result_body is not None:
        result = Result.from_json(result_body)
        d = result_body.get("decision", {})
        decision = Decision(bool(d.get("quorum_met")), bool(d.get("approved")), str(d.get("rule")))
    return OnChainRecord(
        ref=ref,
        ballots_address=ballots_address,
        subject=bytes(info[1]),
        manifest=manifest,
        casts=casts,
        trackers=trackers,
        committed=committed,
        result=result,
        decision=decision,
        status=int(info[3]),
        eligible_units=int(info[4]),
        eligible_area=int(info[5]),
        cast_count=int(info[6]),
    )


def option_label(index: int) -> str:
    return f"{OPTIONS[index][1]} {OPTIONS[index][2]}"
