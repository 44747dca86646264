"""Block seals: the SM3 digest of a header, and validators' SM2 signatures over it.

A block is final when it carries valid seals from more than two thirds of the
validators of its height (n = 3f + 1 tolerates f faulty). The digest is SM3
(GB/T 32905) of the RLP-encoded header, so it covers the parent hash, the
state root and the transaction and receipt roots; a seal is an SM2
(GB/T 32918) signature over that digest with the default user id.
"""

from __future__ import annotations

from dataclasses import dataclass

import rlp
from eth.abc import BlockHeaderAPI

from wuye import crypto

#: Domain separation: a seal signs this prefix and the digest, never a bare hash.
SEAL_DOMAIN = b"wuye-ledger-seal-v1:"


def header_digest(header: BlockHeaderAPI) -> bytes:
    """SM3 of the RLP-encoded header: what validators seal."""
    return crypto.sm3_hash(rlp.encode(header))


def seal_message(digest: bytes) -> bytes:
    return SEAL_DOMAIN + digest


def quorum(n: int) -> int:
    """The least number of validators that is more than two thirds of n."""
    return (2 * n) // 3 + 1


@dataclass(frozen=True)
class Seal:
    """One validator's SM2 signature over one block digest."""

    validator: str  # SM2 public key, uncompressed hex
    signature: bytes

    def to_json(self) -> dict[str, str]:
        return {"validator": self.validator, "signature": "0x" + self.signature.hex()}

    @classmethod
    def from_json(cls, data: dict[str, str]) -> Seal:
        return cls(
            validator=data["validator"].removeprefix("0x").lower(),
            signature=bytes.fromhex(data["signature"].removeprefix("0x")),
        )


def sign_seal(key: crypto.SM2PrivateKey, digest: bytes) -> Seal:
    return Seal(key.public_key.to_hex().lower(), key.sign(seal_message(digest)))


def seal_is_valid(seal: Seal, digest: bytes) -> bool:
    try:
        public_key = crypto.SM2PublicKey.from_hex(seal.validator)
        public_key.verify(seal.signature, seal_message(digest))
    except (crypto.CryptoError, ValueError):
        return False
    return True


def check_quorum(seals: list[Seal], digest: bytes, validators: list[str]) -> list[str]:
    """Problems with a block's seals (empty when they make it final)."""
    allowed = {v.lower() for v in validators}
    good: set[str] = set()
    problems = []
    for seal in seals:
        if seal.validator not in allowed:
            problems.append(f"seal by {seal.validator[:18]}…, not a validator at this height")
        elif not seal_is_valid(seal, digest):
            problems.append(f"invalid SM2 seal by validator {seal.validator[:18]}…")
        else:
            good.add(seal.validator)
    if len(good) < quorum(len(allowed)):
        problems.append(
            f"only {len(good)} valid seals of {len(allowed)} validators; "
            f"{quorum(len(allowed))} needed"
        )
    return problems
