"""Trustees (计票监督人): a jointly generated election key and k-of-n threshold decryption.

Key generation is Pedersen's dealer-free protocol over Feldman verifiable secret
sharing (Pedersen, EUROCRYPT '91; Feldman, FOCS '87): each trustee i picks a
random polynomial fᵢ of degree k-1, publishes commitments ``Cᵢₜ = [aᵢₜ]G`` with a
proof of knowledge of ``aᵢ₀``, and hands trustee j the share ``fᵢ(j)``, which j
checks against the commitments. The election key is ``H = Σᵢ Cᵢ₀``; trustee j's
key share is ``xⱼ = Σᵢ fᵢ(j)`` and its public verification key ``Xⱼ = [xⱼ]G`` is
computable by anyone from the commitments. No party ever holds the whole key.

To decrypt a ciphertext ``(α, β)`` any k trustees publish ``Dⱼ = [xⱼ]α`` with a
Chaum-Pedersen proof that ``log_G Xⱼ = log_α Dⱼ``; then
``β - Σ λⱼDⱼ = mG`` with Lagrange coefficients ``λⱼ`` at zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from wuye.ledger.votes.elgamal import Ciphertext
from wuye.ledger.votes.group import G, N, Point, decode, msm, neg, random_scalar
from wuye.ledger.votes.zkp import BatchVerifier, DLEQProof, ProofError, SchnorrProof

__all__ = [
    "DecryptionShare",
    "Dealing",
    "TrusteeKey",
    "combine",
    "deal",
    "election_key",
    "lagrange_at_zero",
    "verification_key",
]

_DECRYPT_TAG = b"decryption-share"


@dataclass(frozen=True, slots=True)
class Dealing:
    """Trustee ``index``'s public Feldman commitments and proof of knowledge of its secret."""

    index: int
    commitments: tuple[Point, ...]
    proof: SchnorrProof

    def verify(self, context: bytes) -> None:
        self.proof.verify(self.commitments[0], context + self.index.to_bytes(2, "big"))

    def share_is_valid(self, recipient: int, share: int) -> bool:
        """Feldman's check: ``[fᵢ(j)]G = Σₜ [jᵗ]Cᵢₜ``."""
        expected = msm([(pow(recipient, t, N), c) for t, c in enumerate(self.commitments)])
        return Point.generator_multiple(share).encode() == expected.encode()

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "commitments": [c.encode().hex() for c in self.commitments],
            "proof": self.proof.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Dealing:
        return cls(
            int(data["index"]),
            tuple(decode(c, what="commitment") for c in data["commitments"]),
            SchnorrProof.from_json(data["proof"]),
        )


@dataclass
class TrusteeKey:
    """What one trustee keeps: its index, and its key share once every dealing arrived."""

    index: int
    threshold: int
    trustees: int
    polynomial: list[int] = field(repr=False, default_factory=list)
    share: int = field(repr=False, default=0)


def deal(
    index: int, threshold: int, trustees: int, context: bytes
) -> tuple[TrusteeKey, Dealing, dict[int, int]]:
    """Trustee ``index`` (1-based) starts the ceremony: its key, public dealing and the
    shares it must hand privately to trustees 1..n."""
    if not 1 <= threshold <= trustees or not 1 <= index <= trustees:
        raise ValueError("need 1 <= threshold <= trustees and 1 <= index <= trustees")
    poly = [random_scalar() for _ in range(threshold)]
    commitments = tuple(Point.generator_multiple(a) for a in poly)
    proof = SchnorrProof.prove(poly[0], commitments[0], context + index.to_bytes(2, "big"))
    shares = {j: _evaluate(poly, j) for j in range(1, trustees + 1)}
    key = TrusteeKey(index, threshold, trustees, poly)
    return key, Dealing(index, commitments, proof), shares


def _evaluate(poly: list[int], x: int) -> int:
    acc = 0
    for a in reversed(poly):
        acc = (acc * x + a) % N
    return acc


def receive_shares(
    key: TrusteeKey, dealings: list[Dealing], shares: dict[int, int], context: bytes
) -> None:
    """Trustee ``key.index`` checks every dealing and the share each dealer sent it."""
    for dealing in dealings:
        dealing.verify(context)
        if not dealing.share_is_valid(key.index, shares[dealing.index]):
            raise ProofError(f"trustee {dealing.index} sent a share that fails Feldman's check")
    key.share = sum(shares[d.index] for d in dealings) % N
    key.polynomial = []


def election_key(dealings: list[Dealing]) -> Point:
    """``H = Σᵢ Cᵢ₀``."""
    return msm([(1, d.commitments[0]) for d in dealings])


def verification_key(dealings: list[Dealing], index: int) -> Point:
    """``Xⱼ = Σᵢ Σₜ [jᵗ]Cᵢₜ``: what trustee j's decryption shares are checked against."""
    return msm([(pow(index, t, N), c) for d in dealings for t, c in enumerate(d.commitments)])


@dataclass(frozen=True, slots=True)
class DecryptionShare:
    """Trustee ``index``'s ``Dⱼ = [xⱼ]α`` with its proof of correct decryption."""

    index: int
    share: Point
    proof: DLEQProof

    @classmethod
    def create(cls, key: TrusteeKey, ct: Ciphertext, context: bytes) -> DecryptionShare:
        d = ct.alpha.multiply(key.share)
        x_point = Point.generator_multiple(key.share)
        proof = DLEQProof.prove(G, x_point, ct.alpha, d, key.share, context, _DECRYPT_TAG)
        return cls(key.index, d, proof)

    def verify(
        self,
        x_point: Point,
        ct: Ciphertext,
        context: bytes,
        batch: BatchVerifier | None = None,
    ) -> None:
        self.proof.verify(G, x_point, ct.alpha, self.share, context, _DECRYPT_TAG, batch)

    def to_json(self) -> dict[str, Any]:
        share = self.share.encode().hex()
        return {"index": self.index, "share": share, "proof": self.proof.to_json()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DecryptionShare:
        return cls(
            int(data["index"]),
            decode(data["share"], what="decryption share"),
            DLEQProof.from_json(data["proof"]),
        )


def lagrange_at_zero(indices: list[int], j: int) -> int:
    num, den = 1, 1
    for m in indices:
        if m != j:
            num = num * m % N
            den = den * (m - j) % N
    return num * pow(den, -1, N) % N


def combine(ct: Ciphertext, shares: list[DecryptionShare], threshold: int) -> Point:
    """``β - Σ λⱼDⱼ = mG`` from at least ``threshold`` (already verified) shares."""
    chosen = sorted({s.index: s for s in shares}.values(), key=lambda s: s.index)[:threshold]
    if len(chosen) < threshold:
        raise ProofError(f"{len(chosen)} decryption shares, {threshold} needed")
    indices = [s.index for s in chosen]
    blind = msm([(lagrange_at_zero(indices, s.index), s.share) for s in chosen])
    if blind.is_infinity:
        return ct.beta
    return ct.beta.add(neg(blind))


def ceremony(
    threshold: int, trustees: int, context: bytes
) -> tuple[list[Dealing], list[TrusteeKey]]:
    """Run the whole key ceremony in one place (tests, benchmarks, a local demo).

    In production each trustee runs :func:`deal` and :func:`receive_shares` on its
    own device and only the dealings are published.
    """
    started = [deal(i, threshold, trustees, context) for i in range(1, trustees + 1)]
    dealings = [d for _, d, _ in started]
    keys = []
    for key, _, _ in started:
        received = {d.index: shares[key.index] for _, d, shares in started}
        receive_shares(key, dealings, received, context)
        keys.append(key)
    return dealings, keys
