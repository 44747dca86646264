"""An encrypted ballot: one ciphertext per option, each proven 0 or 1, their sum proven 1.

The tracker (投票凭证号) is the SM3 digest of the ballot's canonical encoding;
it is what the ledger records and what a receipt names. Before casting, a voter
may audit a ballot (Benaloh challenge): the device reveals the choice and the
randomness, anyone re-encrypts and compares, and that ballot is thrown away.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from wuye.crypto import sm3_hash
from wuye.crypto.errors import MalformedInputError
from wuye.ledger.votes.elgamal import Ciphertext, encrypt
from wuye.ledger.votes.group import G, N, Point, neg
from wuye.ledger.votes.zkp import BatchVerifier, DLEQProof, ProofError, ZeroOneProof

__all__ = ["BallotSecrets", "EncryptedBallot", "audit", "ballot_context", "encrypt_ballot"]

#: Options of an owners' assembly vote (业主大会表决): 同意 / 反对 / 弃权.
OPTIONS: tuple[tuple[str, str, str], ...] = (
    ("agree", "同意", "agree"),
    ("oppose", "反对", "oppose"),
    ("abstain", "弃权", "abstain"),
)
_SUM_TAG = b"ballot-sum"


def ballot_context(election_fingerprint: bytes, unit_ref: bytes) -> bytes:
    """What every proof of one unit's ballot is bound to: the election and the unit."""
    return sm3_hash(b"wuye-ballot-context" + election_fingerprint + unit_ref)


@dataclass(frozen=True, slots=True)
class EncryptedBallot:
    choices: tuple[tuple[Ciphertext, ZeroOneProof], ...]
    sum_proof: DLEQProof

    def encode(self) -> bytes:
        """Canonical bytes: per option α‖β‖proof, then the sum proof."""
        body = b"".join(ct.encode() + proof.encode() for ct, proof in self.choices)
        return bytes([len(self.choices)]) + body + self.sum_proof.encode()

    @property
    def tracker(self) -> bytes:
        """SM3 of the canonical encoding (GB/T 32905): the ballot's public name."""
        return sm3_hash(self.encode())

    def to_json(self) -> dict[str, Any]:
        return {
            "choices": [ct.to_json() | {"proof": p.to_json()} for ct, p in self.choices],
            "sum_proof": self.sum_proof.to_json(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> EncryptedBallot:
        try:
            choices = tuple(
                (Ciphertext.from_json(c), ZeroOneProof.from_json(c["proof"]))
                for c in data["choices"]
            )
            return cls(choices, DLEQProof.from_json(data["sum_proof"]))
        except (KeyError, TypeError) as exc:
            raise MalformedInputError(f"ballot is missing {exc}") from exc

    def sum_ciphertext(self) -> Ciphertext:
        total = self.choices[0][0]
        for ct, _ in self.choices[1:]:
            total = total.add(ct)
        return total

    def verify(
        self,
        public_key: Point,
        context: bytes,
        options: int,
        batch: BatchVerifier | None = None,
    ) -> None:
        """Raise :class:`ProofError` unless every choice is 0 or 1 and exactly one is 1."""
        verifier = batch if batch is not None else BatchVerifier()
        self.queue(public_key, context, options, verifier)
        if batch is None and not verifier.holds():
            raise ProofError("ballot proof: an equation does not hold")

    def queue(self, public_key: Point, context: bytes, options: int, batch: BatchVerifier) -> None:
        """Check the hashes now and queue the equations on the ballot's own points only.

        The sum proof's equations are spelt with the choices' α and β (not their
        sums), so a batch of ballots adds no extra points per ballot for it.
        """
        if len(self.choices) != options:
            raise ProofError(f"ballot has {len(self.choices)} choices, the election {options}")
        for ct, choice_proof in self.choices:
            choice_proof.verify(public_key, ct, context, batch)
        total = self.sum_ciphertext()
        proof = self.sum_proof
        y2 = total.beta.add(neg(G))
        expected = DLEQProof.hash(
            _SUM_TAG, context, G, total.alpha, public_key, y2, proof.a1, proof.a2
        )
        if proof.c != expected:
            raise ProofError("ballot-sum proof: challenge is not the hash")
        batch.equation(
            [(proof.s, G)], [(1, proof.a1), *((proof.c, ct.alpha) for ct, _ in self.choices)]
        )
        batch.equation(
            [(proof.s, public_key), (proof.c, G)],
            [(1, proof.a2), *((proof.c, ct.beta) for ct, _ in self.choices)],
        )


@dataclass(frozen=True, slots=True)
class BallotSecrets:
    """What the voter's device keeps until it casts: revealed only for an audit."""

    choice: int
    randomness: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        return {"choice": self.choice, "randomness": [f"{r:064x}" for r in self.randomness]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BallotSecrets:
        return cls(int(data["choice"]), tuple(int(r, 16) for r in data["randomness"]))


def encrypt_ballot(
    public_key: Point, choice: int, options: int, context: bytes
) -> tuple[EncryptedBallot, BallotSecrets]:
    """Encrypt a vote for option ``choice`` (0-based) of ``options``, with its proofs."""
    if not 0 <= choice < options:
        raise ValueError(f"choice must be between 0 and {options - 1}")
    choices = []
    randomness = []
    for j in range(options):
        m = 1 if j == choice else 0
        ct, r = encrypt(public_key, m)
        choices.append((ct, ZeroOneProof.prove(public_key, ct, m, r, context)))
        randomness.append(r)
    ballot_r = sum(randomness) % N
    total = choices[0][0]
    for ct, _ in choices[1:]:
        total = total.add(ct)
    y2 = total.beta.add(neg(G))
    sum_proof = DLEQProof.prove(G, total.alpha, public_key, y2, ballot_r, context, _SUM_TAG)
    return EncryptedBallot(tuple(choices), sum_proof), BallotSecrets(choice, tuple(randomness))


def audit(public_key: Point, ballot: EncryptedBallot, secrets: BallotSecrets) -> int:
    """Benaloh challenge: re-encrypt with the revealed randomness and compare.

    Returns the choice the ballot holds; raises :class:`ProofError` if the
    ballot does not encrypt what the device says it does.
    """
    if len(secrets.randomness) != len(ballot.choices):
        raise ProofError("audit: randomness does not match the number of choices")
    for j, ((ct, _), r) in enumerate(zip(ballot.choices, secrets.randomness, strict=True)):
        expected, _ = encrypt(public_key, 1 if j == secrets.choice else 0, r)
        if expected.encode() != ct.encode():
            raise ProofError(f"audit: choice {j} does not encrypt what the device claims")
    return secrets.choice


def decode_ballot(data: bytes) -> EncryptedBallot:
    """Parse :meth:`EncryptedBallot.encode`'s canonical bytes (points are checked on-curve)."""
    from wuye.ledger.votes.group import decode

    if not data:
        raise MalformedInputError("empty ballot")
    options = data[0]
    per_choice = 2 * 65 + 4 * 65 + 4 * 32
    if len(data) != 1 + options * per_choice + 2 * 65 + 2 * 32:
        raise MalformedInputError("ballot has the wrong length for its number of choices")

    def scalar(raw: bytes, what: str) -> int:
        k = int.from_bytes(raw, "big")
        if k >= N:
            raise MalformedInputError(f"{what} is out of range")
        return k

    pos = 1
    choices = []
    for _ in range(options):
        pts = [decode(data[pos + 65 * i : pos + 65 * (i + 1)]) for i in range(6)]
        pos += 6 * 65
        ks = [scalar(data[pos + 32 * i : pos + 32 * (i + 1)], "proof scalar") for i in range(4)]
        pos += 4 * 32
        choices.append(
            (Ciphertext(pts[0], pts[1]), ZeroOneProof(pts[2], pts[3], pts[4], pts[5], *ks))
        )
    a1, a2 = decode(data[pos : pos + 65]), decode(data[pos + 65 : pos + 130])
    c = scalar(data[pos + 130 : pos + 162], "proof c")
    s = scalar(data[pos + 162 : pos + 194], "proof s")
    return EncryptedBallot(tuple(choices), DLEQProof(a1, a2, c, s))
