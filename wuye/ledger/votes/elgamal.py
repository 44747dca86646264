"""Exponential ElGamal on the SM2 curve: Enc(m) = (rG, mG + rH), additively homomorphic.

Adding ciphertexts adds plaintexts, and ``[w]Enc(m)`` encrypts ``w·m``, so an
area-weighted tally is a multi-scalar multiplication over the ballots. The
plaintext comes back as ``mG``; small ``m`` (bounded by the total weight) is
recovered with baby-step giant-step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from wuye.crypto.errors import MalformedInputError
from wuye.ledger.votes.group import G, N, Point, decode, identity, msm, neg, random_scalar

__all__ = ["Ciphertext", "discrete_log", "encrypt", "keygen"]


@dataclass(frozen=True, slots=True)
class Ciphertext:
    """An ElGamal ciphertext ``(α, β) = (rG, mG + rH)`` under public key ``H``."""

    alpha: Point
    beta: Point

    def add(self, other: Ciphertext) -> Ciphertext:
        return Ciphertext(self.alpha.add(other.alpha), self.beta.add(other.beta))

    def encode(self) -> bytes:
        return self.alpha.encode() + self.beta.encode()

    def to_json(self) -> dict[str, str]:
        return {"alpha": self.alpha.encode().hex(), "beta": self.beta.encode().hex()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Ciphertext:
        return cls(decode(data["alpha"], what="alpha"), decode(data["beta"], what="beta"))


def keygen() -> tuple[int, Point]:
    """A fresh key pair ``(x, H = xG)`` (trustees use :mod:`wuye.ledger.votes.trustees` instead)."""
    x = random_scalar()
    return x, Point.generator_multiple(x)


def encrypt(public_key: Point, m: int, r: int | None = None) -> tuple[Ciphertext, int]:
    """Encrypt the small integer ``m``; return the ciphertext and its randomness ``r``."""
    r = random_scalar() if r is None else r
    alpha = Point.generator_multiple(r)
    beta = public_key.multiply(r)
    if m % N:
        beta = beta.add(Point.generator_multiple(m % N))
    return Ciphertext(alpha, beta), r


def weighted_sum(terms: list[tuple[int, Ciphertext]]) -> Ciphertext:
    """``Σ [wᵢ]Cᵢ``: encrypts ``Σ wᵢ·mᵢ``. Weights and ciphertexts are public."""
    return Ciphertext(msm([(w, c.alpha) for w, c in terms]), msm([(w, c.beta) for w, c in terms]))


def decrypt_point(secret: int, ct: Ciphertext) -> Point:
    """``β - xα = mG`` (a single key holder; trustees decrypt by shares)."""
    return ct.beta.add(neg(ct.alpha.multiply(secret)))


def discrete_log(m_point: Point, bound: int) -> int:
    """The ``m`` in ``[0, bound]`` with ``mG = m_point``, by baby-step giant-step.

    Raises:
        MalformedInputError: no such ``m``: the ciphertext does not hold a count
            within the bound (a wrong decryption or a forged tally).
    """
    if m_point.is_infinity:
        return 0
    step = math.isqrt(bound) + 1
    baby: dict[bytes, int] = {}
    acc = identity()
    for j in range(step):
        if j:
            baby[acc.encode()] = j
        acc = acc.add(G)
    giant = neg(acc)  # -[step]G
    current = m_point
    for i in range(step + 1):
        if current.is_infinity:
            m = i * step
        else:
            j = baby.get(current.encode(), -1)
            m = i * step + j if j >= 0 else -1
        if 0 <= m <= bound:
            return m
        current = current.add(giant)
    raise MalformedInputError(f"plaintext is not a count between 0 and {bound}")
