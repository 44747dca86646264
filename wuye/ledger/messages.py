"""Consensus messages between validators, each signed with the sender's SM2 key.

The four kinds follow IBFT/QBFT: PROPOSAL (the round's proposer offers a
block), PREPARE (a validator has executed it and agrees), COMMIT (after a
quorum of prepares, the validator's seal over the block's SM3 digest) and
ROUND_CHANGE (the round timed out; it carries the sender's locked block, if
any, so the next proposer re-proposes it). Each kind is a small class
registered in `KINDS`, checked on arrival by `decode`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

from wuye import crypto

MESSAGE_DOMAIN = b"wuye-ledger-consensus-v1:"


class BadMessage(ValueError):
    """A message that is malformed or whose signature does not verify."""


@dataclass
class Message:
    """The envelope common to all kinds: who, which height and round, and a body."""

    kind: ClassVar[str] = ""
    height: int
    round: int
    sender: str
    body: dict[str, Any] = field(default_factory=dict)
    signature: bytes = b""

    def signing_bytes(self) -> bytes:
        payload = {
            "kind": self.kind,
            "height": self.height,
            "round": self.round,
            "sender": self.sender,
            "body": self.body,
        }
        return MESSAGE_DOMAIN + json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()

    def sign(self, key: crypto.SM2PrivateKey) -> Message:
        self.signature = key.sign(self.signing_bytes())
        return self

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "height": self.height,
            "round": self.round,
            "sender": self.sender,
            "body": self.body,
            "signature": self.signature.hex(),
        }

    def check(self) -> None:
        """Verify the envelope signature and the body's shape."""
        try:
            crypto.SM2PublicKey.from_hex(self.sender).verify(self.signature, self.signing_bytes())
        except (crypto.CryptoError, ValueError) as exc:
            raise BadMessage(f"bad {self.kind} signature from {self.sender[:18]}…") from exc
        self.check_body()

    def check_body(self) -> None:
        """Kinds override this to validate their body's fields."""


def _hex_field(body: dict[str, Any], name: str, length: int | None = None) -> bytes:
    value = body.get(name)
    if not isinstance(value, str):
        raise BadMessage(f"missing field {name}")
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise BadMessage(f"field {name} is not hex") from None
    if length is not None and len(raw) != length:
        raise BadMessage(f"field {name} must be {length} bytes")
    return raw


@dataclass
class Proposal(Message):
    kind: ClassVar[str] = "proposal"

    """Either a locked block re-proposed whole (`block`), or a fresh batch (`txs`, `timestamp`)."""

    def check_body(self) -> None:
        if "block" in self.body:
            _hex_field(self.body, "block")
            return
        txs = self.body.get("txs")
        if not isinstance(txs, list) or not txs or not all(isinstance(t, str) for t in txs):
            raise BadMessage("proposal needs a block or a non-empty list of transactions")
        if not isinstance(self.body.get("timestamp"), int):
            raise BadMessage("batch proposal needs an integer timestamp")

    @property
    def block_rlp(self) -> bytes | None:
        block = self.body.get("block")
        return bytes.fromhex(block) if block is not None else None


@dataclass
class Prepare(Message):
    kind: ClassVar[str] = "prepare"

    def check_body(self) -> None:
        _hex_field(self.body, "hash", 32)

    @property
    def block_hash(self) -> bytes:
        return bytes.fromhex(self.body["hash"])


@dataclass
class Commit(Message):
    """Carries the seal: an SM2 signature over the block's SM3 header digest."""

    kind: ClassVar[str] = "commit"

    def check_body(self) -> None:
        _hex_field(self.body, "hash", 32)
        _hex_field(self.body, "digest", 32)
        _hex_field(self.body, "seal")

    @property
    def block_hash(self) -> bytes:
        return bytes.fromhex(self.body["hash"])

    @property
    def digest(self) -> bytes:
        return bytes.fromhex(self.body["digest"])

    @property
    def seal(self) -> bytes:
        return bytes.fromhex(self.body["seal"])


@dataclass
class RoundChange(Message):
    kind: ClassVar[str] = "round_change"

    def check_body(self) -> None:
        if self.body.get("locked") is not None:
            _hex_field(self.body, "locked")

    @property
    def locked_block(self) -> bytes | None:
        locked = self.body.get("locked")
        return bytes.fromhex(locked) if locked else None


KINDS: dict[str, type[Message]] = {
    cls.kind: cls for cls in (Proposal, Prepare, Commit, RoundChange)
}


def decode(data: Any) -> Message:
    """Parse and verify one message received from the network."""
    if not isinstance(data, dict):
        raise BadMessage("message must be an object")
    cls = KINDS.get(data.get("kind", ""))
    if cls is None:
        raise BadMessage(f"unknown message kind {data.get('kind')!r}")
    try:
        message = cls(
            height=int(data["height"]),
            round=int(data["round"]),
            sender=str(data["sender"]).lower(),
            body=dict(data["body"]),
            signature=bytes.fromhex(data["signature"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise BadMessage(f"malformed message: {exc!r}") from exc
    message.check()
    return message
