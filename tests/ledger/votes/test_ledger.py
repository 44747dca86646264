"""An election through a real ledger node: record, verify from RPC alone, receipts."""

from __future__ import annotations

import copy

import pytest

from tests.ledger.votes.helpers import cast_all, decide_on_ledger, signed_cast, small_election
from wuye.crypto import SM2PrivateKey, sm3_hash
from wuye.ledger.votes.ballot import encrypt_ballot
from wuye.ledger.votes.chain import KIND_CREDENTIALS
from wuye.ledger.votes.credentials import Credential, encode_credentials, sign_ballot
from wuye.ledger.votes.receipts import ReceiptError, build_receipt, verify_offline, verify_online
from wuye.ledger.votes.verify import verify_on_chain


@pytest.fixture(scope="module")
def election(ledger):
    w3, officer, record = ledger
    manifest, keys = small_election([9000, 8000, 12000, 7000, 6000], [0, 1, 2, 2, 4])
    ref = officer.register(record, manifest, sm3_hash(b"estate"))
    casts = cast_all(manifest, [0, 0, 1, 0])
    receipts = []
    for cast in casts:
        tx = officer.cast(ref, cast.unit_ref, cast.data, cast.signature)
        receipts.append(
            build_receipt(
                w3,
                election=str(ref),
                ballots_address=officer.record(record).functions.ballots().call(),
                unit_ref=cast.unit_ref,
                tracker=cast.tracker,
                tx_hash=tx.transactionHash,
            )
        )
    decide_on_ledger(officer, ref, manifest, keys, casts)
    return ref, receipts


def test_an_election_verifies_from_the_ledger_alone(ledger, election):
    w3, _, _ = ledger
    ref, _ = election
    record, report = verify_on_chain(w3, ref, workers=1)
    assert report.ok, [t for ok, t in report.lines if not ok]
    assert report.counts[(0, "area")] == 9000 + 8000 + 7000
    assert report.counts[(0, "heads")] == 2  # units 2 and 3 share a buyer: one head, cast first
    assert record.status == 3  # decided in Ballots


@pytest.fixture(scope="module")
def stuffed(ledger):
    """The platform's officer account pushes a ballot straight onto the ledger, bypassing
    the service, for a unit whose owner never voted, signed with a key of its own."""
    w3, officer, record = ledger
    manifest, _ = small_election([9000, 8000], election="e-stuffed")
    ref = officer.register(record, manifest, sm3_hash(b"estate"))
    genuine = signed_cast(manifest, manifest.units[0].ref, 0)
    officer.cast(ref, genuine.unit_ref, genuine.data, genuine.signature)
    absent = manifest.units[1].ref
    ballot, _ = encrypt_ballot(manifest.public_key, 0, 3, manifest.context(absent))
    forged = sign_ballot(
        SM2PrivateKey.generate(),
        election=manifest.election,
        fingerprint=manifest.fingerprint,
        unit_ref=absent,
        ballot=ballot.encode(),
    )
    officer.cast(ref, absent, ballot.encode(), forged)
    return ref, absent


def test_a_ballot_the_officer_adds_for_a_unit_that_did_not_vote_fails_verification(ledger, stuffed):
    w3, _, _ = ledger
    ref, absent = stuffed
    _, report = verify_on_chain(w3, ref, workers=1)
    failed = [text for ok, text in report.lines if not ok]
    assert not report.ok
    assert f"unit {absent.hex()}" in failed[0] and "credential signature" in failed[0]


def test_cli_verify_fails_naming_the_unit_of_a_stuffed_ballot(node, stuffed):
    from click.testing import CliRunner

    from wuye.platform.cli import cli

    ref, absent = stuffed
    out = CliRunner().invoke(cli, ["votes", "verify", "--rpc", node.url, "--election", str(ref)])
    assert out.exit_code == 1
    assert "VERIFICATION FAILED" in out.output
    assert f"✗ ballot 1 of unit {absent.hex()}" in out.output


@pytest.fixture(scope="module")
def revoted(ledger):
    """Unit 0 votes agree, then oppose; unit 1 votes agree once."""
    w3, officer, record = ledger
    manifest, keys = small_election([9000, 8000], election="e-revote")
    ref = officer.register(record, manifest, sm3_hash(b"estate"))
    first = signed_cast(manifest, manifest.units[0].ref, 0)
    other = signed_cast(manifest, manifest.units[1].ref, 0)
    last = signed_cast(manifest, manifest.units[0].ref, 1)
    ballots_address = officer.record(record).functions.ballots().call()
    receipts = []
    for cast in (first, other, last):
        tx = officer.cast(ref, cast.unit_ref, cast.data, cast.signature)
        receipts.append(
            build_receipt(
                w3,
                election=str(ref),
                ballots_address=ballots_address,
                unit_ref=cast.unit_ref,
                tracker=cast.tracker,
                tx_hash=tx.transactionHash,
            )
        )
    decide_on_ledger(officer, ref, manifest, keys, [other, last])
    return ref, receipts


def test_a_revote_counts_only_the_units_last_ballot(ledger, revoted):
    w3, _, _ = ledger
    ref, _ = revoted
    record, report = verify_on_chain(w3, ref, workers=1)
    assert report.ok, [t for ok, t in report.lines if not ok]
    assert report.counts[(0, "area")] == 8000 and report.counts[(1, "area")] == 9000
    assert record.cast_count == 2  # Ballots counts units that voted, not ballots


def test_a_superseded_ballots_receipt_says_so_online(ledger, revoted):
    w3, _, _ = ledger
    _, receipts = revoted
    assert len(verify_offline(receipts[0])) == 2  # it was on the ledger
    with pytest.raises(ReceiptError, match="superseded"):
        verify_online(receipts[0], w3)
    assert "counted" in verify_online(receipts[2], w3)[-1]


def test_the_credential_list_cannot_change_once_the_vote_is_open(ledger):
    from web3.exceptions import ContractLogicError

    w3, officer, record = ledger
    manifest, _ = small_election([9000], election="e-fixed")
    ref = officer.register(record, manifest, sm3_hash(b"estate"))
    extra = Credential(manifest.units[0].ref, SM2PrivateKey.generate().public_key.to_bytes())
    publish = officer.record(record).functions.publish(
        ref.ballot_id, KIND_CREDENTIALS, encode_credentials([extra])
    )
    with pytest.raises(ContractLogicError, match="already open"):
        publish.call({"from": officer.address})


def test_a_receipt_verifies_offline_and_online(ledger, election):
    w3, _, _ = ledger
    _, receipts = election
    assert len(verify_offline(receipts[1])) == 2
    assert "counted" in verify_online(receipts[1], w3)[-1]


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("tracker",), "0x" + "11" * 32, "tracker"),
        (("unit",), "0x" + "22" * 32, "unit"),
        (("transaction",), "0x" + "33" * 32, "transaction"),
        (("block_number",), 999, "block_number"),
        (("proof", "seals"), [], "proof"),
        (("proof", "headerRlp"), "0x00", "proof"),
        (("election",), "0x" + "44" * 20 + "/1", "election"),
    ],
)
def test_an_altered_receipt_fails_naming_what_failed(election, path, value, message):
    _, receipts = election
    altered = copy.deepcopy(receipts[0])
    target = altered
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ReceiptError, match=message):
        verify_offline(altered)


def test_cli_verifies_the_election_and_a_receipt(node, election, tmp_path):
    import json

    from click.testing import CliRunner

    from wuye.platform.cli import cli

    ref, receipts = election
    runner = CliRunner()
    out = runner.invoke(cli, ["votes", "verify", "--rpc", node.url, "--election", str(ref)])
    assert out.exit_code == 0, out.output
    assert "VERIFIED" in out.output
    path = tmp_path / "receipt.json"
    path.write_text(json.dumps(receipts[2]))
    out = runner.invoke(cli, ["receipt", "verify", str(path), "--rpc", node.url])
    assert out.exit_code == 0, out.output
    assert "counted" in out.output
    receipts_altered = dict(receipts[2], tracker="0x" + "55" * 32)
    path.write_text(json.dumps(receipts_altered))
    out = runner.invoke(cli, ["receipt", "verify", str(path), "--genesis", str(node.genesis_path)])
    assert out.exit_code == 1
    assert "tracker" in out.output


def _forged(receipt, *, list_foreign_key=True):
    """The receipt with its block re-sealed by a key of the forger's own."""
    from wuye import crypto
    from wuye.ledger.seals import sign_seal

    forged = copy.deepcopy(receipt)
    key = crypto.SM2PrivateKey.generate()
    digest = bytes.fromhex(forged["proof"]["digest"].removeprefix("0x"))
    forged["proof"]["seals"] = [sign_seal(key, digest).to_json()]
    if list_foreign_key:
        forged["validators"] = [key.public_key.to_hex().lower()]
    return forged


def test_a_receipt_verifies_offline_against_the_genesis_validators(node, election):
    from wuye.ledger.genesis import Genesis

    _, receipts = election
    checked = verify_offline(receipts[0], genesis=Genesis.load(node.genesis_path))
    assert "genesis file's validators" in checked[0]


def test_a_receipt_sealed_by_a_foreign_key_is_refused_naming_the_keys(node, election):
    from wuye.ledger.genesis import Genesis

    _, receipts = election
    forged = _forged(receipts[0])
    assert verify_offline(forged)  # self-consistent: why the genesis file is needed
    with pytest.raises(ReceiptError, match="not among the genesis/on-chain validators"):
        verify_offline(forged, genesis=Genesis.load(node.genesis_path))


def test_foreign_seals_under_the_genuine_validator_list_are_refused(node, election):
    from wuye.ledger.genesis import Genesis

    _, receipts = election
    forged = _forged(receipts[0], list_foreign_key=False)
    with pytest.raises(ReceiptError, match="seals: block .* not among the genesis"):
        verify_offline(forged, genesis=Genesis.load(node.genesis_path))


def test_online_check_uses_the_nodes_validators_not_the_receipts(ledger, election):
    w3, _, _ = ledger
    _, receipts = election
    with pytest.raises(ReceiptError, match="not among the genesis/on-chain validators"):
        verify_online(_forged(receipts[0], list_foreign_key=False), w3)


def test_cli_refuses_a_forged_receipt_given_the_genesis_file(node, election, tmp_path):
    import json

    from click.testing import CliRunner

    from wuye.platform.cli import cli

    _, receipts = election
    path = tmp_path / "forged.json"
    path.write_text(json.dumps(_forged(receipts[0])))
    runner = CliRunner()
    out = runner.invoke(cli, ["receipt", "verify", str(path), "--genesis", str(node.genesis_path)])
    assert out.exit_code == 1
    assert "not among the genesis/on-chain validators" in out.output
    assert runner.invoke(cli, ["receipt", "verify", str(path)]).exit_code == 2  # needs --genesis


def test_a_claimed_validator_change_that_changes_nothing_is_refused(node, election):
    """The chain of custody from the genesis validators accepts only proven changes."""
    from wuye.ledger.genesis import Genesis

    _, receipts = election
    smuggled = copy.deepcopy(receipts[1])
    smuggled["validator_changes"] = [receipts[0]["proof"]]  # a ballot, not a set change
    with pytest.raises(ReceiptError, match="validator_changes: block .* no validator-set change"):
        verify_offline(smuggled, genesis=Genesis.load(node.genesis_path))


def test_a_validator_change_sealed_by_a_foreign_key_is_refused(node, election):
    from wuye.ledger.genesis import Genesis

    _, receipts = election
    smuggled = copy.deepcopy(receipts[1])
    smuggled["validator_changes"] = [_forged(receipts[0])["proof"]]
    with pytest.raises(ReceiptError, match="validator_changes: block .* not a validator"):
        verify_offline(smuggled, genesis=Genesis.load(node.genesis_path))


def test_one_officer_sends_from_many_threads_without_reusing_a_nonce(node):
    """Routes run in a thread pool, so concurrent casts share the process's one officer:
    every transaction gets its own nonce and all of them land."""
    from concurrent.futures import ThreadPoolExecutor

    from eth_account import Account

    from wuye.ledger.votes.chain import Officer, connect

    w3 = connect(node.url)
    officer = Officer(w3, node.accounts[5]["privateKey"])
    payees = [Account.create().address for _ in range(24)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        receipts = list(pool.map(lambda to: officer.transfer(to, 1), payees))
    assert all(r["status"] == 1 for r in receipts)
    nonces = {w3.eth.get_transaction(r["transactionHash"])["nonce"] for r in receipts}
    assert len(nonces) == len(payees)
    assert all(w3.eth.get_balance(to) == 1 for to in payees)
