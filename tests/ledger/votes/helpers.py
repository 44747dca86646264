"""Small elections for the votes tests: a ceremony, a roll, ballots."""

from __future__ import annotations

from wuye.crypto import sm3_hash
from wuye.ledger.votes import civil_code
from wuye.ledger.votes.ballot import encrypt_ballot
from wuye.ledger.votes.tally import Cast, Manifest, UnitWeight, ceremony_context
from wuye.ledger.votes.trustees import TrusteeKey, ceremony


def small_election(
    areas: list[int],
    groups: list[int] | None = None,
    *,
    matter: civil_code.MatterType = civil_code.MatterType.FUND_USE,
    threshold: int = 2,
    trustees: int = 3,
    election: str = "e-test",
) -> tuple[Manifest, list[TrusteeKey]]:
    dealings, keys = ceremony(threshold, trustees, ceremony_context(election))
    groups = groups or list(range(len(areas)))
    units = [
        UnitWeight(sm3_hash(f"unit-{i}".encode()), area, group)
        for i, (area, group) in enumerate(zip(areas, groups, strict=True))
    ]
    return Manifest(election, "测试", matter, threshold, dealings, units), keys


def cast_all(manifest: Manifest, choices: list[int]) -> list[Cast]:
    casts = []
    for unit, choice in zip(manifest.units, choices, strict=False):
        ballot, _ = encrypt_ballot(manifest.public_key, choice, 3, manifest.context(unit.ref))
        casts.append(Cast(unit.ref, ballot.encode()))
    return casts
