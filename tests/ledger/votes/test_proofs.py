"""ElGamal on SM2 and the ballot proofs: honest ballots verify, forged ones do not."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wuye.ledger.votes.ballot import EncryptedBallot, audit, decode_ballot, encrypt_ballot
from wuye.ledger.votes.elgamal import decrypt_point, discrete_log, encrypt, keygen, weighted_sum
from wuye.ledger.votes.group import G, N, Point, msm, point_eq
from wuye.ledger.votes.zkp import BatchVerifier, DLEQProof, ProofError, ZeroOneProof

SECRET, KEY = keygen()
CTX = b"context"
few = settings(max_examples=8, deadline=None)


@few
@given(st.lists(st.tuples(st.integers(0, 2**20), st.integers(0, 1)), min_size=1, max_size=6))
def test_weighted_sum_decrypts_to_the_weighted_plaintext_sum(terms):
    cts = [(w, encrypt(KEY, m)[0]) for w, m in terms]
    total = weighted_sum(cts)
    expected = sum(w * m for w, m in terms)
    assert discrete_log(decrypt_point(SECRET, total), sum(w for w, _ in terms)) == expected


@few
@given(st.lists(st.integers(1, N - 1), min_size=1, max_size=40))
def test_msm_equals_the_sum_of_single_multiplications(scalars):
    points = [Point.generator_multiple(k + 7) for k in range(len(scalars))]
    expected = points[0].multiply(scalars[0])
    for k, p in zip(scalars[1:], points[1:], strict=True):
        expected = expected.add(p.multiply(k))
    assert point_eq(msm(list(zip(scalars, points, strict=True))), expected)


@few
@given(st.integers(0, 1))
def test_zero_one_proof_holds_for_zero_and_one(m):
    ct, r = encrypt(KEY, m)
    ZeroOneProof.prove(KEY, ct, m, r, CTX).verify(KEY, ct, CTX)


def test_a_ciphertext_of_two_cannot_be_proven_zero_or_one():
    ct, r = encrypt(KEY, 2)
    for claimed in (0, 1):
        proof = ZeroOneProof.prove(KEY, ct, claimed, r, CTX)
        with pytest.raises(ProofError):
            proof.verify(KEY, ct, CTX)


@few
@given(st.sampled_from(["c0", "s0", "s1"]), st.integers(1, 2**64))
def test_a_tampered_zero_one_proof_fails(field, delta):
    ct, r = encrypt(KEY, 1)
    proof = ZeroOneProof.prove(KEY, ct, 1, r, CTX)
    forged = ZeroOneProof(
        **{
            k: (getattr(proof, k) + delta) % N if k == field else getattr(proof, k)
            for k in proof.__slots__
        }
    )
    with pytest.raises(ProofError):
        forged.verify(KEY, ct, CTX)


def test_a_proof_replayed_in_another_context_fails():
    ct, r = encrypt(KEY, 0)
    proof = ZeroOneProof.prove(KEY, ct, 0, r, CTX)
    with pytest.raises(ProofError, match="hash"):
        proof.verify(KEY, ct, b"another unit")


@few
@given(st.integers(0, 2))
def test_an_honest_ballot_verifies_and_round_trips(choice):
    ballot, secrets = encrypt_ballot(KEY, choice, 3, CTX)
    ballot.verify(KEY, CTX, 3)
    assert decode_ballot(ballot.encode()).tracker == ballot.tracker
    assert EncryptedBallot.from_json(ballot.to_json()).tracker == ballot.tracker
    assert audit(KEY, ballot, secrets) == choice


def test_a_ballot_choosing_two_options_is_rejected():
    """Each choice is a valid 0/1, but the sum is 2: the sum proof cannot hold."""
    yes, r_yes = encrypt(KEY, 1)
    also, r_also = encrypt(KEY, 1)
    no, r_no = encrypt(KEY, 0)
    choices = (
        (yes, ZeroOneProof.prove(KEY, yes, 1, r_yes, CTX)),
        (also, ZeroOneProof.prove(KEY, also, 1, r_also, CTX)),
        (no, ZeroOneProof.prove(KEY, no, 0, r_no, CTX)),
    )
    total = yes.add(also).add(no)
    y2 = total.beta.add(Point.generator_multiple(N - 1))
    sum_proof = DLEQProof.prove(G, total.alpha, KEY, y2, r_yes + r_also + r_no, CTX, b"ballot-sum")
    with pytest.raises(ProofError):
        EncryptedBallot(choices, sum_proof).verify(KEY, CTX, 3)


def test_an_audit_catches_a_device_that_lies_about_the_choice():
    ballot, secrets = encrypt_ballot(KEY, 0, 3, CTX)
    lie = type(secrets)(1, secrets.randomness)
    with pytest.raises(ProofError, match="audit"):
        audit(KEY, ballot, lie)


def test_batch_verification_finds_one_bad_equation_among_many():
    batch = BatchVerifier()
    for m in (0, 1, 1, 0):
        ct, r = encrypt(KEY, m)
        ZeroOneProof.prove(KEY, ct, m, r, CTX).verify(KEY, ct, CTX, batch)
    assert batch.holds()
    batch.equation([(5, G)], [(4, G)])
    assert not batch.holds()


def test_the_audit_command_checks_a_spoilt_ballot_on_another_device(tmp_path):
    import json

    from click.testing import CliRunner

    from wuye.platform.cli import cli

    fingerprint, unit_ref = b"f" * 32, b"u" * 32
    from wuye.ledger.votes.ballot import ballot_context

    ballot, secrets = encrypt_ballot(KEY, 1, 3, ballot_context(fingerprint, unit_ref))
    body = {
        "public_key": KEY.encode().hex(),
        "fingerprint": fingerprint.hex(),
        "unit_ref": unit_ref.hex(),
        "tracker": ballot.tracker.hex(),
        "ballot": ballot.to_json(),
        "revealed": secrets.to_json(),
    }
    path = tmp_path / "audit.json"
    path.write_text(json.dumps(body))
    out = CliRunner().invoke(cli, ["votes", "audit", str(path)])
    assert out.exit_code == 0 and "反对" in out.output, out.output
    path.write_text(json.dumps(body | {"revealed": dict(body["revealed"], choice=0)}))
    out = CliRunner().invoke(cli, ["votes", "audit", str(path)])
    assert out.exit_code == 1 and "audit" in out.output
