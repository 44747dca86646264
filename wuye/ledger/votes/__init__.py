"""Owners' electronic votes (业主大会电子投票): verifiable, secret ballots on the SM2 curve.

Ballots are encrypted with exponential ElGamal under a key the trustees hold
jointly (k of n), carry zero-knowledge proofs that they are well formed, are
signed with the unit's voting credential (an SM2 key only the owner holds; see
:mod:`wuye.ledger.votes.credentials`), go on the ledger, and are tallied
homomorphically, weighted by floor area and by headcount as Civil Code Article
278 requires; a unit may vote again until the close, and its last ballot counts.
Anyone can re-verify an election from its public record; see
:mod:`wuye.ledger.votes.verify`.
"""
