"""An election through a real ledger node: record, verify from RPC alone, receipts."""

from __future__ import annotations

import copy

import pytest

from tests.ledger.votes.helpers import cast_all, small_election
from wuye.crypto import sm3_hash
from wuye.ledger.votes.receipts import ReceiptError, build_receipt, verify_offline, verify_online
from wuye.ledger.votes.tally import decrypt_tally, share_tally, tally_ciphertexts
from wuye.ledger.votes.verify import verify_on_chain


@pytest.fixture(scope="module")
def election(ledger):
    w3, officer, record = ledger
    manifest, keys = small_election([9000, 8000, 12000, 7000, 6000], [0, 1, 2, 2, 4])
    ref = officer.register(record, manifest, sm3_hash(b"estate"))
    casts = cast_all(manifest, [0, 0, 1, 0])
    receipts = []
    for cast in casts:
        tx = officer.cast(ref, cast.unit_ref, cast.data)
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
    officer.close(ref)
    tally = tally_ciphertexts(manifest, casts)
    shares: dict = {}
    for key in keys[:2]:
        for k, share in share_tally(manifest, key, tally).items():
            shares.setdefault(k, []).append(share)
    result = decrypt_tally(manifest, tally, shares, len(casts))
    officer.publish_result(ref, result, result.decision(manifest))
    return ref, receipts


def test_an_election_verifies_from_the_ledger_alone(ledger, election):
    w3, _, _ = ledger
    ref, _ = election
    record, report = verify_on_chain(w3, ref, workers=1)
    assert report.ok, [t for ok, t in report.lines if not ok]
    assert report.counts[(0, "area")] == 9000 + 8000 + 7000
    assert report.counts[(0, "heads")] == 2  # units 2 and 3 share a buyer: one head, cast first
    assert record.status == 3  # decided in Ballots


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
    out = runner.invoke(cli, ["receipt", "verify", str(path)])
    assert out.exit_code == 1
    assert "tracker" in out.output
