"""Owners' electronic votes (业主大会电子投票): verifiable, secret ballots on the SM2 curve.

Ballots are encrypted with exponential ElGamal under a key the trustees hold
jointly (k of n), carry zero-knowledge proofs that they are well formed, go on
the ledger, and are tallied homomorphically, weighted by floor area and by
headcount as Civil Code Article 278 requires. Anyone can re-verify an
election from its public record; see :mod:`wuye.ledger.votes.verify`.
"""
