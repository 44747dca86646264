"""The weighted tally, threshold decryption and the public verification of a record."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.ledger.votes.helpers import OWNERS, cast_all, signed_cast, small_election
from wuye.ledger.votes.ballot import encrypt_ballot
from wuye.ledger.votes.tally import (
    Cast,
    Result,
    decrypt_tally,
    head_flags,
    share_tally,
    tally_ciphertexts,
    verify_record,
)
from wuye.ledger.votes.trustees import ProofError


def _decrypt(manifest, keys, casts, use=(0, 1)):
    tally = tally_ciphertexts(manifest, casts)
    shares: dict = {}
    for i in use:
        for k, share in share_tally(manifest, keys[i], tally).items():
            shares.setdefault(k, []).append(share)
    return decrypt_tally(manifest, tally, shares, len(casts))


@settings(max_examples=4, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(1, 30000), st.integers(0, 2), st.integers(0, 2)),
        min_size=1,
        max_size=6,
    )
)
def test_tally_equals_the_weighted_sum_of_the_plaintexts(rows):
    areas = [a for a, _, _ in rows]
    groups = [g for _, _, g in rows]
    choices = [c for _, _, c in rows]
    manifest, keys = small_election(areas, groups)
    casts = cast_all(manifest, choices)
    result = _decrypt(manifest, keys, casts, use=(2, 0))
    flags = head_flags(manifest, casts)
    for option in range(3):
        picked = [i for i, c in enumerate(choices) if c == option]
        assert result.counts[(option, "area")] == sum(areas[i] for i in picked)
        assert result.counts[(option, "heads")] == sum(flags[i] for i in picked)


def test_one_buyer_of_several_units_counts_as_one_head():
    manifest, _ = small_election([100, 200, 300], groups=[0, 0, 2])
    casts = cast_all(manifest, [0, 1, 0])
    assert head_flags(manifest, casts) == [1, 0, 1]


def test_fewer_than_threshold_shares_cannot_decrypt():
    manifest, keys = small_election([100, 200])
    casts = cast_all(manifest, [0, 1])
    with pytest.raises(ProofError, match="needed"):
        _decrypt(manifest, keys, casts, use=(1,))


def test_any_k_of_n_trustees_decrypt_the_same_result():
    manifest, keys = small_election([100, 250, 75])
    casts = cast_all(manifest, [0, 0, 2])
    a = _decrypt(manifest, keys, casts, use=(0, 1)).counts
    b = _decrypt(manifest, keys, casts, use=(1, 2)).counts
    assert a == b and a[(0, "area")] == 350


def test_the_public_record_verifies():
    manifest, keys = small_election([9000, 8000, 12000, 7000])
    casts = cast_all(manifest, [0, 0, 0, 1])
    result = _decrypt(manifest, keys, casts)
    report = verify_record(manifest, casts, Result.from_json(result.to_json()), workers=1)
    assert report.ok, report.lines
    assert report.decision is not None and report.decision.approved


def test_a_forged_count_fails_verification_saying_which():
    manifest, keys = small_election([9000, 8000])
    casts = cast_all(manifest, [0, 1])
    result = _decrypt(manifest, keys, casts)
    result.counts[(0, "area")] += 1
    report = verify_record(manifest, casts, result, workers=1)
    assert not report.ok
    assert any("agree by area" in text and not ok for ok, text in report.lines)


def test_a_ballot_moved_to_another_unit_fails_verification():
    """Even signed by the other unit's credential, its proofs are bound to the first unit."""
    manifest, keys = small_election([9000, 8000])
    ballot, _ = encrypt_ballot(manifest.public_key, 0, 3, manifest.context(manifest.units[0].ref))
    other = manifest.units[1].ref
    signature = OWNERS.sign(
        other.hex(),
        election=manifest.election,
        fingerprint=manifest.fingerprint,
        unit_ref=other,
        ballot=ballot.encode(),
    )
    casts = [Cast(other, ballot.encode(), bytes.fromhex(signature))]
    report = verify_record(manifest, casts, None, workers=1)
    assert not report.ok
    assert any("ballot 0" in text and "proof" in text for ok, text in report.lines if not ok)


def test_an_unsigned_ballot_fails_verification_naming_its_unit():
    manifest, _ = small_election([9000, 8000])
    genuine = signed_cast(manifest, manifest.units[0].ref, 0)
    unsigned = Cast(manifest.units[1].ref, signed_cast(manifest, manifest.units[1].ref, 0).data)
    report = verify_record(manifest, [genuine, unsigned], None, workers=1)
    failed = [text for ok, text in report.lines if not ok]
    assert len(failed) == 2  # the ballot, and the summary of counted ballots
    assert manifest.units[1].ref.hex() in failed[0] and "credential" in failed[0]


def test_only_each_units_last_ballot_is_counted():
    manifest, keys = small_election([9000, 8000])
    first, other = (signed_cast(manifest, u.ref, 0) for u in manifest.units)
    revote = signed_cast(manifest, manifest.units[0].ref, 1)
    casts = [first, other, revote]
    result = _decrypt(manifest, keys, [other, revote])
    report = verify_record(manifest, casts, result, workers=1)
    assert report.ok, report.lines
    assert report.counts[(0, "area")] == 8000 and report.counts[(1, "area")] == 9000


def test_a_replayed_earlier_ballot_fails_verification():
    """Re-publishing a unit's superseded ballot (validly signed) to undo its revote."""
    manifest, _ = small_election([9000])
    first = signed_cast(manifest, manifest.units[0].ref, 0)
    revote = signed_cast(manifest, manifest.units[0].ref, 1)
    report = verify_record(manifest, [first, revote, first], None, workers=1)
    assert not report.ok
    assert any("replays an earlier ballot" in text for ok, text in report.lines if not ok)
