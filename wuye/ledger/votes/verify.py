"""``wuye votes verify``: re-verify an election from the ledger alone.

Checks that the ledger's commitments in Ballots are the SM3 trackers of the
ciphertexts in ElectionRecord, that the roll matches what Ballots registered,
then every ballot's proofs, the weighted homomorphic tally, the trustees'
decryption proofs, and Article 278 applied to the counts.
"""

from __future__ import annotations

from collections.abc import Callable

from web3 import Web3

from wuye.ledger.votes.chain import ElectionRef, OnChainRecord, fetch_record
from wuye.ledger.votes.tally import VerificationReport, verify_record


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
    committed_ok = len(record.committed) == len(record.casts) == record.cast_count and all(
        record.committed.get(c.unit_ref) == c.tracker for c in record.casts
    )
    report.check(
        committed_ok,
        f"{len(record.casts)} ballots; each one's SM3 tracker is the commitment in Ballots",
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
