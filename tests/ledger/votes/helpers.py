"""Small elections for the votes tests: a ceremony, a roll with credentials, signed ballots."""

from __future__ import annotations

from wuye.crypto import sm3_hash
from wuye.ledger.votes import civil_code
from wuye.ledger.votes.ballot import encrypt_ballot
from wuye.ledger.votes.credentials import Credential, SimulatedOwner
from wuye.ledger.votes.tally import (
    Cast,
    Manifest,
    UnitWeight,
    ceremony_context,
    decrypt_tally,
    share_tally,
    tally_ciphertexts,
)
from wuye.ledger.votes.trustees import TrusteeKey, ceremony

#: The simulated owners of every test unit, by unit reference (hex): they hold the credentials.
OWNERS = SimulatedOwner()


def small_election(
    areas: list[int],
    groups: list[int] | None = None,
    *,
    matter: civil_code.MatterType = civil_code.MatterType.FUND_USE,
    threshold: int = 2,
    trustees: int = 3,
    election: str = "e-test",
) -> tuple[Manifest, list[TrusteeKey]]:
    """An election whose every unit holds a credential (kept in :data:`OWNERS`)."""
    dealings, keys = ceremony(threshold, trustees, ceremony_context(election))
    groups = groups or list(range(len(areas)))
    units = [
        UnitWeight(sm3_hash(f"unit-{i}".encode()), area, group)
        for i, (area, group) in enumerate(zip(areas, groups, strict=True))
    ]
    credentials = [Credential(u.ref, OWNERS.key(u.ref.hex()).public_key.to_bytes()) for u in units]
    return Manifest(election, "测试", matter, threshold, dealings, units, credentials), keys


def signed_cast(manifest: Manifest, unit_ref: bytes, choice: int) -> Cast:
    """A unit's ballot for ``choice``, encrypted and signed by the unit's owner."""
    ballot, _ = encrypt_ballot(manifest.public_key, choice, 3, manifest.context(unit_ref))
    data = ballot.encode()
    signature = OWNERS.sign(
        unit_ref.hex(),
        election=manifest.election,
        fingerprint=manifest.fingerprint,
        unit_ref=unit_ref,
        ballot=data,
    )
    return Cast(unit_ref, data, bytes.fromhex(signature))


def cast_all(manifest: Manifest, choices: list[int]) -> list[Cast]:
    return [
        signed_cast(manifest, unit.ref, choice)
        for unit, choice in zip(manifest.units, choices, strict=False)
    ]


def issue_letters(post, election: str, unit_ids: list[str]) -> SimulatedOwner:
    """A credential authority's letters for ``unit_ids``, registered through the API
    (``post(path, body)``) before the vote opens; the owners' keys stay in the result."""
    owners = SimulatedOwner()
    post(
        f"/api/v1/elections/{election}/credentials",
        {"authority": "测试居委会", "credentials": owners.public_keys(unit_ids)},
    )
    return owners


def signed_ballot(manifest: dict, owners: SimulatedOwner, unit_id: str, choice: int) -> dict:
    """``{"ballot", "signature"}`` for a cast request, from the API's manifest JSON."""
    from wuye.ledger.votes.ballot import ballot_context
    from wuye.ledger.votes.group import decode

    fingerprint = bytes.fromhex(manifest["fingerprint"])
    ref = bytes.fromhex(manifest["unit_refs"][unit_id])
    ballot, _ = encrypt_ballot(
        decode(manifest["public_key"]), choice, 3, ballot_context(fingerprint, ref)
    )
    signature = owners.sign(
        unit_id,
        election=manifest["header"]["election"],
        fingerprint=fingerprint,
        unit_ref=ref,
        ballot=ballot.encode(),
    )
    return {"ballot": ballot.to_json(), "signature": signature}


def decide_on_ledger(officer, ref, manifest: Manifest, keys, counted: list[Cast]) -> None:  # noqa: ANN001
    """Close the election, have two trustees decrypt the tally of ``counted`` and publish
    the result and decision on the ledger."""
    officer.close(ref)
    tally = tally_ciphertexts(manifest, counted)
    shares: dict = {}
    for key in keys[:2]:
        for k, share in share_tally(manifest, key, tally).items():
            shares.setdefault(k, []).append(share)
    result = decrypt_tally(manifest, tally, shares, len(counted))
    officer.publish_result(ref, result, result.decision(manifest))
