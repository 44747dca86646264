"""Zero-knowledge proofs for ballots and decryptions, non-interactive by Fiat-Shamir with SM3.

* :class:`ZeroOneProof` — a disjunctive Chaum-Pedersen proof (Cramer, Damgård and
  Schoenmakers, CRYPTO '94) that an ElGamal ciphertext encrypts 0 or 1.
* :class:`DLEQProof` — a Chaum-Pedersen proof that ``log_g1 y1 = log_g2 y2``: a ballot's
  choices add up to exactly one, and a trustee's decryption share is correct.
* :class:`SchnorrProof` — knowledge of a discrete log (a trustee's key commitment).

Every proof carries its commitments, so checks are linear equations in the group;
:class:`BatchVerifier` folds any number of them into one multi-scalar
multiplication with random 64-bit coefficients (a forged equation survives with
probability about 2^-64). Challenges hash a context (the election and the unit),
which stops a proof from being replayed elsewhere.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from wuye.crypto import sm3_hash
from wuye.crypto.errors import MalformedInputError
from wuye.ledger.votes.elgamal import Ciphertext
from wuye.ledger.votes.group import G, N, Point, decode, double_mul, msm, neg, random_scalar

__all__ = ["BatchVerifier", "DLEQProof", "ProofError", "SchnorrProof", "ZeroOneProof", "challenge"]

_DOMAIN = b"wuye-votes-zkp-v1"


class ProofError(ValueError):
    """A proof does not hold."""


def challenge(tag: bytes, context: bytes, *parts: bytes) -> int:
    """Fiat-Shamir challenge: SM3 over the length-prefixed transcript, widened to 512 bits
    before reducing mod n so that the challenge is uniform (GB/T 32905 SM3)."""
    transcript = bytearray(_DOMAIN)
    for part in (tag, context, *parts):
        transcript += len(part).to_bytes(4, "big") + part
    digest = sm3_hash(bytes(transcript))
    wide = sm3_hash(digest + b"\x01") + sm3_hash(digest + b"\x02")
    return int.from_bytes(wide, "big") % N


def _scalar(value: Any, what: str) -> int:
    try:
        k = int(value, 16) if isinstance(value, str) else int(value)
    except (TypeError, ValueError) as exc:
        raise MalformedInputError(f"{what} is not a scalar") from exc
    if not 0 <= k < N:
        raise MalformedInputError(f"{what} is out of range")
    return k


def _hex(k: int) -> str:
    return f"{k:064x}"


class BatchVerifier:
    """Collects equations ``Σ [a]P = Σ [b]Q`` and checks them all at once.

    Each equation is multiplied by a fresh random 64-bit δ and everything is
    moved to one side; the equations all hold (except with probability ~2^-64
    per batch) exactly when the combined multi-scalar multiplication is the point
    at infinity. Terms on the same point object are merged first.
    """

    def __init__(self) -> None:
        self._terms: dict[int, list[Any]] = {}
        self.equations = 0

    def _add(self, k: int, p: Point) -> None:
        entry = self._terms.get(id(p))
        if entry is None:
            self._terms[id(p)] = [k, p]
        else:
            entry[0] += k

    def equation(self, lhs: list[tuple[int, Point]], rhs: list[tuple[int, Point]]) -> None:
        delta = secrets.randbits(64) | 1
        for k, p in lhs:
            self._add(delta * k, p)
        for k, p in rhs:
            self._add(-delta * k, p)
        self.equations += 1

    def holds(self) -> bool:
        if not self._terms:
            return True
        return msm([(k % N, p) for k, p in self._terms.values()]).is_infinity


def _check_now(verifier: BatchVerifier | None) -> tuple[BatchVerifier, bool]:
    return (verifier, False) if verifier is not None else (BatchVerifier(), True)


@dataclass(frozen=True, slots=True)
class ZeroOneProof:
    """Proof that ``(α, β)`` under ``H`` encrypts 0 or 1, without saying which.

    Branch j claims ``β - jG = rH`` with ``α = rG``: commitments ``(aⱼ, bⱼ)``,
    challenge ``cⱼ`` and response ``sⱼ`` satisfy ``sⱼG = aⱼ + cⱼα`` and
    ``sⱼH = bⱼ + cⱼ(β - jG)``; the challenges add up to the Fiat-Shamir hash.
    """

    a0: Point
    b0: Point
    a1: Point
    b1: Point
    c0: int
    c1: int
    s0: int
    s1: int

    @classmethod
    def prove(
        cls, public_key: Point, ct: Ciphertext, m: int, r: int, context: bytes
    ) -> ZeroOneProof:
        if m not in (0, 1):
            raise ValueError("a 0/1 proof needs a plaintext of 0 or 1")
        fake = 1 - m
        c_fake, s_fake = random_scalar(), random_scalar()
        shifted_fake = ct.beta.add(neg(G)) if fake == 1 else ct.beta
        a_fake = double_mul(s_fake, ct.alpha, N - c_fake)
        b_fake = public_key.multiply(s_fake).add(neg(shifted_fake.multiply(c_fake)))
        w = random_scalar()
        a_real, b_real = Point.generator_multiple(w), public_key.multiply(w)
        if m == 0:
            a0, b0, a1, b1 = a_real, b_real, a_fake, b_fake
        else:
            a0, b0, a1, b1 = a_fake, b_fake, a_real, b_real
        c = cls.hash(context, ct, a0, b0, a1, b1)
        c_real = (c - c_fake) % N
        s_real = (w + c_real * r) % N
        if m == 0:
            return cls(a0, b0, a1, b1, c_real, c_fake, s_real, s_fake)
        return cls(a0, b0, a1, b1, c_fake, c_real, s_fake, s_real)

    @staticmethod
    def hash(context: bytes, ct: Ciphertext, a0: Point, b0: Point, a1: Point, b1: Point) -> int:
        parts = (ct.alpha, ct.beta, a0, b0, a1, b1)
        return challenge(b"zero-one", context, *(p.encode() for p in parts))

    def verify(
        self,
        public_key: Point,
        ct: Ciphertext,
        context: bytes,
        batch: BatchVerifier | None = None,
    ) -> None:
        """Raise :class:`ProofError` unless the proof holds (or queue its equations)."""
        if (self.c0 + self.c1) % N != self.hash(context, ct, self.a0, self.b0, self.a1, self.b1):
            raise ProofError("0/1 proof: challenges do not add up to the hash")
        verifier, now = _check_now(batch)
        verifier.equation([(self.s0, G)], [(1, self.a0), (self.c0, ct.alpha)])
        verifier.equation([(self.s0, public_key)], [(1, self.b0), (self.c0, ct.beta)])
        verifier.equation([(self.s1, G)], [(1, self.a1), (self.c1, ct.alpha)])
        verifier.equation([(self.s1, public_key), (self.c1, G)], [(1, self.b1), (self.c1, ct.beta)])
        if now and not verifier.holds():
            raise ProofError("0/1 proof: an equation does not hold")

    def encode(self) -> bytes:
        points = b"".join(p.encode() for p in (self.a0, self.b0, self.a1, self.b1))
        scalars = b"".join(k.to_bytes(32, "big") for k in (self.c0, self.c1, self.s0, self.s1))
        return points + scalars

    def to_json(self) -> dict[str, str]:
        out = {k: getattr(self, k).encode().hex() for k in ("a0", "b0", "a1", "b1")}
        out |= {k: _hex(getattr(self, k)) for k in ("c0", "c1", "s0", "s1")}
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ZeroOneProof:
        points = [decode(data[k], what=f"proof {k}") for k in ("a0", "b0", "a1", "b1")]
        scalars = [_scalar(data[k], f"proof {k}") for k in ("c0", "c1", "s0", "s1")]
        a0, b0, a1, b1 = points
        c0, c1, s0, s1 = scalars
        return cls(a0, b0, a1, b1, c0, c1, s0, s1)


@dataclass(frozen=True, slots=True)
class DLEQProof:
    """Chaum-Pedersen proof that ``y1 = [x]g1`` and ``y2 = [x]g2`` for one secret ``x``."""

    a1: Point
    a2: Point
    c: int
    s: int

    @classmethod
    def prove(
        cls, g1: Point, y1: Point, g2: Point, y2: Point, x: int, context: bytes, tag: bytes
    ) -> DLEQProof:
        w = random_scalar()
        a1 = Point.generator_multiple(w) if g1 is G else g1.multiply(w)
        a2 = g2.multiply(w)
        c = cls.hash(tag, context, g1, y1, g2, y2, a1, a2)
        return cls(a1, a2, c, (w + c * x) % N)

    @staticmethod
    def hash(tag: bytes, context: bytes, *points: Point) -> int:
        return challenge(tag, context, *(p.encode() for p in points))

    def verify(
        self,
        g1: Point,
        y1: Point,
        g2: Point,
        y2: Point,
        context: bytes,
        tag: bytes,
        batch: BatchVerifier | None = None,
        *,
        y2_terms: list[tuple[int, Point]] | None = None,
    ) -> None:
        """Raise :class:`ProofError` unless the proof holds (or queue its equations).

        ``y2_terms`` may spell ``y2`` as a sum of terms (a ballot's Σβ - G), so that
        batch verification needs no extra points.
        """
        if self.c != self.hash(tag, context, g1, y1, g2, y2, self.a1, self.a2):
            raise ProofError(f"{tag.decode()} proof: challenge is not the hash")
        verifier, now = _check_now(batch)
        verifier.equation([(self.s, g1)], [(1, self.a1), (self.c, y1)])
        terms = y2_terms if y2_terms is not None else [(1, y2)]
        verifier.equation([(self.s, g2)], [(1, self.a2), *((self.c * k, p) for k, p in terms)])
        if now and not verifier.holds():
            raise ProofError(f"{tag.decode()} proof: an equation does not hold")

    def encode(self) -> bytes:
        return (
            self.a1.encode()
            + self.a2.encode()
            + self.c.to_bytes(32, "big")
            + self.s.to_bytes(32, "big")
        )

    def to_json(self) -> dict[str, str]:
        return {
            "a1": self.a1.encode().hex(),
            "a2": self.a2.encode().hex(),
            "c": _hex(self.c),
            "s": _hex(self.s),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DLEQProof:
        return cls(
            decode(data["a1"], what="proof a1"),
            decode(data["a2"], what="proof a2"),
            _scalar(data["c"], "proof c"),
            _scalar(data["s"], "proof s"),
        )


@dataclass(frozen=True, slots=True)
class SchnorrProof:
    """Knowledge of ``x`` with ``y = [x]G`` (Schnorr, made non-interactive)."""

    a: Point
    s: int

    @classmethod
    def prove(cls, x: int, y: Point, context: bytes) -> SchnorrProof:
        w = random_scalar()
        a = Point.generator_multiple(w)
        c = challenge(b"schnorr", context, y.encode(), a.encode())
        return cls(a, (w + c * x) % N)

    def verify(self, y: Point, context: bytes) -> None:
        c = challenge(b"schnorr", context, y.encode(), self.a.encode())
        if not double_mul(self.s, y, N - c).encode() == self.a.encode():
            raise ProofError("proof of knowledge of the key does not hold")

    def to_json(self) -> dict[str, str]:
        return {"a": self.a.encode().hex(), "s": _hex(self.s)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SchnorrProof:
        return cls(decode(data["a"], what="proof a"), _scalar(data["s"], "proof s"))
