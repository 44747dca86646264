"""``wuye votes verify``: re-verify an election from the ledger alone.

Checks that the manifest (roll and credential list included) is the one Ballots
registered, that the ledger's commitments in Ballots are the SM3 trackers of each
unit's last ballot in ElectionRecord, that the roll matches what Ballots
registered, the trustees' endorsements of the credential list when the manifest
requires them (otherwise it says that the platform alone vouches for the list),
then every counted ballot's credential signature and proofs, the
weighted homomorphic tally, the trustees' decryption proofs, and Article 278
applied to the counts.
"""

from __future__ import annotations

from collections.abc import Callable

from web3 import Web3

from wuye.ledger.votes.chain import ElectionRef, OnChainRecord, fetch_record
from wuye.ledger.votes.tally import VerificationReport, last_ballots, verify_record


def verify_on_chain(
    w3: Web3,
    ref: ElectionRef,
    *,
    workers: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> tuple[OnChainRecord, VerificationReport]:
    record = fetch_record(w3, ref)
    report = VerificationReport()
    manifest = record.manifest
    eligible_area, _ = manifest.eligible()
    report.check(
        record.eligible_units == len(manifest.units) and record.eligible_area == eligible_area,
        f"roll: {len(manifest.units)} units, area {eligible_area / 100:.2f} m², "
        "as registered in Ballots",
    )
    report.check(
        record.subject == manifest.fingerprint,
        "manifest, roll and credential list are the ones registered in Ballots "
        f"(fingerprint {manifest.fingerprint.hex()[:16]}…)",
    )
    counted = [record.casts[i] for i in last_ballots(record.casts)]
    committed_ok = len(record.committed) == len(counted) == record.cast_count and all(
        record.committed.get(c.unit_ref) == c.tracker for c in counted
    )
    report.check(
        committed_ok,
        f"{len(counted)} units voted; each one's last ballot's SM3 tracker is its commitment "
        "in Ballots",
    )
    inner = verify_record(
        manifest,
        record.casts,
        record.result,
        trackers=record.trackers,
        claimed_decision=record.decision,
        workers=workers,
        progress=progress,
    )
    report.lines.extend(inner.lines)
    report.counts, report.decision = inner.counts, inner.decision
    report.ballots_verified = inner.ballots_verified
    return record, report
