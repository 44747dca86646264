"""A vote receipt across a change of the validator set, on separate node processes.

Four genesis validators seal receipt A. They then vote one of their own out, a fifth
validator in (its node running from the start as a follower) and another of their own
out, so that receipt B is sealed by a set of three of which only two are in
genesis.json. Both receipts verify from genesis.json alone: B carries the proofs of the
three changes, each under a block sealed by the set before it.
"""

from __future__ import annotations

import copy
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from eth_account import Account
from web3 import Web3

from tests.ledger.conftest import call, free_port
from tests.ledger.network import ProcessNetwork
from tests.ledger.votes.helpers import decide_on_ledger, signed_cast, small_election
from wuye import crypto
from wuye.crypto import sm3_hash
from wuye.ledger import contracts
from wuye.ledger.genesis import VALIDATORS_ADDRESS, Genesis
from wuye.ledger.node import NodeConfig
from wuye.ledger.votes.chain import ElectionRef, Officer, deploy
from wuye.ledger.votes.receipts import (
    ReceiptError,
    build_receipt,
    verify_offline,
    verify_online,
)

pytestmark = pytest.mark.timeout(240)

NEW = 4  # index of the node that joins


@dataclass
class Story:
    net: ProcessNetwork
    genesis: Path
    ref: ElectionRef
    a: dict[str, Any]  # sealed by the genesis validators
    b: dict[str, Any]  # sealed by the validators after the changes
    newcomer: str  # the joining validator's account, lower case
    newcomer_key: str  # its SM2 public key
    removed: list[str]  # the accounts voted out, in order, lower case
    change_blocks: list[int]  # the blocks of the three changes


def _governance(net: ProcessNetwork, i: int) -> Any:
    return Account.from_key((net.root / f"node-{i}" / "governance.key").read_text().strip())


def _seal_key(net: ProcessNetwork, i: int) -> str:
    pem = (net.root / f"node-{i}" / "validator.pem").read_bytes()
    return crypto.SM2PrivateKey.from_pem(pem).public_key.to_hex().lower()


def _wait(predicate: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("the network did not get there")
        time.sleep(0.1)


def _join(net: ProcessNetwork, port: int) -> str:
    """Configure and start a further node with a fresh validator key; return the key."""
    i = len(net.procs)
    node_dir = net.root / f"node-{i}"
    node_dir.mkdir()
    key = crypto.SM2PrivateKey.generate()
    pem = node_dir / "validator.pem"
    pem.write_bytes(key.to_pem())
    os.chmod(pem, 0o600)
    config = NodeConfig(
        data_dir=str(node_dir / "data"),
        genesis=str(net.files.genesis.resolve()),
        validator_key=str(pem),
        port=port,
        peers=list(net.urls),
        block_interval=0.1,
        round_timeout=1.0,
    )
    path = node_dir / "config.json"
    config.save(path)
    net.files.configs.append(path)
    net.urls.append(f"http://127.0.0.1:{port}")
    net.procs.append(None)
    net.start(i)
    return key.public_key.to_hex().lower()


def _vote(w3: Web3, voters: list[Any], fn: Any, event: str) -> int:
    """Each voter votes for the change; the last vote carries it. Return its block."""
    receipt = None
    for voter in voters:
        receipt = call(w3, voter, fn)
        assert receipt.status == 1
    logs = [
        log for log in receipt.logs if log["address"].lower() == "0x" + VALIDATORS_ADDRESS.hex()
    ]
    topics = {bytes(log["topics"][0]) for log in logs}
    assert Web3.keccak(text=event) in topics, f"the last vote did not carry {event}"
    return receipt.blockNumber


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory):
    net = ProcessNetwork(tmp_path_factory.mktemp("net"))
    # The joining node's address is known to the others from the start; until it
    # runs, messages to it are dropped.
    port = free_port()
    for path in net.files.configs:
        config = NodeConfig.load(path)
        config.peers.append(f"http://127.0.0.1:{port}")
        config.save(path)
    net.start_all()
    try:
        yield _tell(net, port)
    finally:
        net.stop_all()


def _tell(net: ProcessNetwork, port: int) -> Story:
    w3 = net.w3(0)
    officer = Officer(w3, Account.create().key.hex())
    _, record = deploy(w3, net.accounts[0]["privateKey"], officer.address)
    manifest, keys = small_election([9000, 8000], election="e-validator-change")
    ref = officer.register(record, manifest, sm3_hash(b"estate"))
    ballots_address = officer.record(record).functions.ballots().call()
    casts = []

    def cast_and_receipt(unit: int) -> dict[str, Any]:
        cast = signed_cast(manifest, manifest.units[unit].ref, 0)
        casts.append(cast)
        tx = officer.cast(ref, cast.unit_ref, cast.data, cast.signature)
        return build_receipt(
            w3,
            election=str(ref),
            ballots_address=ballots_address,
            unit_ref=cast.unit_ref,
            tracker=cast.tracker,
            tx_hash=tx.transactionHash,
        )

    a = cast_and_receipt(0)

    newcomer_key = _join(net, port)
    newcomer = Account.create().address
    raw = bytes.fromhex(newcomer_key)
    abi, _ = contracts.load("Validators")
    validators = w3.eth.contract(address=Web3.to_checksum_address(VALIDATORS_ADDRESS), abi=abi)
    gov = [_governance(net, i) for i in range(4)]
    added = "ValidatorAdded(address,bytes32,bytes32,uint256)"
    removed = "ValidatorRemoved(address,uint256)"
    blocks = [
        # 3 of 4 is more than two thirds; validator 3 votes for its own removal.
        _vote(
            w3, [gov[0], gov[1], gov[3]], validators.functions.vote_remove(gov[3].address), removed
        ),
        # 3 of 3.
        _vote(w3, gov[:3], validators.functions.vote_add(newcomer, raw[1:33], raw[33:65]), added),
        # 3 of 4.
        _vote(w3, gov[:3], validators.functions.vote_remove(gov[2].address), removed),
    ]
    # From here the three remaining validators must all seal: the newcomer's node too.
    _wait(lambda: net.head(NEW) >= blocks[-1])
    b = cast_and_receipt(1)

    decide_on_ledger(officer, ref, manifest, keys, casts)
    return Story(
        net=net,
        genesis=net.files.genesis,
        ref=ref,
        a=a,
        b=b,
        newcomer=newcomer.lower(),
        newcomer_key=newcomer_key,
        removed=[gov[3].address.lower(), gov[2].address.lower()],
        change_blocks=blocks,
    )


def _genesis(story: Story) -> Genesis:
    return Genesis.load(story.genesis)


def test_the_ballot_after_the_change_is_sealed_by_a_set_genesis_does_not_name(story):
    genesis_keys = {v.sm2_public_key.lower() for v in _genesis(story).validators}
    after = {_seal_key(story.net, 0), _seal_key(story.net, 1), story.newcomer_key}
    assert {v.lower() for v in story.b["validators"]} == after
    assert {s["validator"] for s in story.b["proof"]["seals"]} == after  # all three must seal
    assert story.newcomer_key not in genesis_keys
    assert {v.lower() for v in story.a["validators"]} == genesis_keys
    assert story.a["validator_changes"] == []
    assert [int(c["blockNumber"], 16) for c in story.b["validator_changes"]] == story.change_blocks


def test_both_receipts_verify_from_the_genesis_file_alone(story):
    checked = verify_offline(story.a, genesis=_genesis(story))
    assert "block" in checked[0] and "the genesis file's validators)" in checked[0]
    checked = verify_offline(story.b, genesis=_genesis(story))
    first, second, third = story.change_blocks
    assert (
        f"after 3 proven change(s): #{first} - {story.removed[0]}; "
        f"#{second} + {story.newcomer}; #{third} - {story.removed[1]}"
    ) in checked[0]
    assert "quorum of 3 validators" in checked[0]
    assert "committed this ballot tracker" in checked[1]


def test_both_receipts_verify_online_against_an_old_and_the_new_node(story):
    net = story.net
    for node in (0, NEW):
        w3 = net.w3(node)
        for receipt in (story.a, story.b):
            assert "counted" in verify_online(receipt, w3)[-1]
            checked = verify_online(receipt, w3, genesis=_genesis(story))
            assert "genesis file's validators" in checked[0] and "counted" in checked[-1]
    assert "the validators the node reports" in verify_online(story.b, net.w3(NEW))[0]


def test_the_cli_verifies_both_receipts_with_the_genesis_file(story, tmp_path):
    from wuye.platform.cli import cli

    runner = CliRunner()
    assert "--genesis" in runner.invoke(cli, ["receipt", "verify", "--help"]).output
    for name, receipt in (("a", story.a), ("b", story.b)):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(receipt))
        out = runner.invoke(cli, ["receipt", "verify", str(path), "--genesis", str(story.genesis)])
        assert out.exit_code == 0, out.output
        assert "(offline checks only)" in out.output
        out = runner.invoke(
            cli,
            [
                "receipt",
                "verify",
                str(path),
                "--genesis",
                str(story.genesis),
                "--rpc",
                story.net.urls[NEW],
            ],
        )
        assert out.exit_code == 0, out.output
        assert "counted" in out.output
    assert f"#{story.change_blocks[1]} + {story.newcomer}" in out.output
    stripped = tmp_path / "stripped.json"
    stripped.write_text(json.dumps({k: v for k, v in story.b.items() if k != "validator_changes"}))
    out = runner.invoke(cli, ["receipt", "verify", str(stripped), "--genesis", str(story.genesis)])
    assert out.exit_code == 1
    assert "validators:" in out.output


def test_b_without_its_validator_changes_is_refused(story):
    genesis = _genesis(story)
    stripped = {k: v for k, v in story.b.items() if k != "validator_changes"}
    with pytest.raises(ReceiptError, match=r"^validators: the receipt names key\(s\) "):
        verify_offline(stripped, genesis=genesis)
    # Listing only genesis keys does not help: the newcomer's seal is in the block.
    hidden = dict(stripped, validators=[_seal_key(story.net, i) for i in range(4)])
    with pytest.raises(ReceiptError, match=r"^seals: block \d+ is sealed by a key that is not"):
        verify_offline(hidden, genesis=genesis)


def _alter_key(changes: list[dict[str, Any]], story: Story) -> None:
    """The newcomer's key in the ValidatorAdded log replaced by another."""
    other = crypto.SM2PrivateKey.generate().public_key.to_hex().lower()
    change = changes[1]
    receipt = change["receipt"]
    assert story.newcomer_key[2:] in receipt
    change["receipt"] = receipt.replace(story.newcomer_key[2:], other[2:])


def _alter_block_number(changes: list[dict[str, Any]], story: Story) -> None:
    change = changes[0]
    change["blockNumber"] = hex(int(change["blockNumber"], 16) - 1)


def _alter_header(changes: list[dict[str, Any]], story: Story) -> None:
    changes[0]["headerRlp"] = changes[1]["headerRlp"]


def _alter_block(changes: list[dict[str, Any]], story: Story) -> None:
    """The header, hash, digest and seals of another (genuinely sealed) block."""
    for field in ("blockHash", "headerRlp", "digest", "seals"):
        changes[0][field] = story.a["proof"][field]


@pytest.mark.parametrize(
    ("alter", "message"),
    [
        (_alter_key, r"^validator_changes: block \d+: receipt is not under"),
        (_alter_block_number, r"^validator_changes: block \d+: .*block number"),
        (_alter_header, r"^validator_changes: block \d+: header does not hash"),
        (_alter_block, r"^validator_changes: block \d+: transaction (proof is invalid|is not)"),
    ],
    ids=["different-key", "different-block-number", "different-header", "different-block"],
)
def test_an_altered_validator_change_is_refused_naming_the_field(story, alter, message):
    altered = copy.deepcopy(story.b)
    alter(altered["validator_changes"], story)
    with pytest.raises(ReceiptError, match=message):
        verify_offline(altered, genesis=_genesis(story))


def test_changes_out_of_order_or_with_one_left_out_of_the_middle_are_refused(story):
    genesis = _genesis(story)
    changes = story.b["validator_changes"]
    swapped = dict(story.b, validator_changes=[changes[1], changes[0], changes[2]])
    with pytest.raises(ReceiptError, match=r"^validator_changes: (block \d+: |not in chain order)"):
        verify_offline(swapped, genesis=genesis)
    # The newcomer's admission is sealed by validators 0-2 alone, a quorum of genesis's
    # four too: only the contract's numbering of the changes shows the removal before it.
    without_first = dict(story.b, validator_changes=changes[1:])
    with pytest.raises(
        ReceiptError,
        match=r"^validator_changes: block \d+: change number 2 follows number 0; "
        "a validator-set change is missing",
    ):
        verify_offline(without_first, genesis=genesis)
    without_second = dict(story.b, validator_changes=[changes[0], changes[2]])
    with pytest.raises(ReceiptError, match=r"^validator_changes: block \d+: "):
        verify_offline(without_second, genesis=genesis)


def test_a_receipt_cut_short_of_its_last_change_says_which_set_it_used(story):
    """No file proves that no later change exists: without the last removal, B still
    checks offline (its three seals are a quorum of the four validators before that
    removal), and the check names the changes it followed, so the reader sees which."""
    cut = dict(story.b, validator_changes=story.b["validator_changes"][:2])
    checked = verify_offline(cut, genesis=_genesis(story))
    assert "after 2 proven change(s)" in checked[0] and "quorum of 4 validators" in checked[0]


def test_a_ballots_block_number_must_be_the_sealed_headers(story):
    moved = copy.deepcopy(story.b)
    moved["block_number"] += 1
    moved["proof"]["blockNumber"] = hex(moved["block_number"])
    with pytest.raises(ReceiptError, match=r"^block_number: the sealed header is block \d+"):
        verify_offline(moved, genesis=_genesis(story))


def test_each_receipt_checks_only_against_the_set_that_sealed_its_block(story):
    """``validators=`` are the keys a node reports for the receipt's block: A, sealed by
    genesis validators two of whom have left, does not check against the set after the
    change, nor B against the genesis set."""
    net = story.net
    after = [v["sm2PublicKey"] for v in net.rpc(0, "wuye_validators", "latest")]
    assert sorted(after) == sorted(story.b["validators"])
    with pytest.raises(ReceiptError, match=r"^seals: block \d+ is sealed by a key that is not"):
        verify_offline(story.a, validators=after)
    genesis_keys = [v.sm2_public_key for v in _genesis(story).validators]
    with pytest.raises(ReceiptError, match=r"^seals: block \d+ is sealed by a key that is not"):
        verify_offline(story.b, validators=genesis_keys)
    at_a = net.rpc(NEW, "wuye_validators", hex(story.a["block_number"]))
    assert (
        "the validators the node reports"
        in verify_offline(story.a, validators=[v["sm2PublicKey"] for v in at_a])[0]
    )


def test_the_changes_are_gathered_in_slices_of_the_log_range_a_node_answers(story, monkeypatch):
    """A long chain is searched in slices (nodes refuse more than 10,000 blocks a call):
    with slices of two blocks the receipt carries the same proven changes."""
    from wuye.ledger.votes import receipts

    monkeypatch.setattr(receipts, "LOG_RANGE", 2)
    sliced = receipts._validator_changes(story.net.w3(0), story.b["block_number"])
    assert [c["transactionHash"] for c in sliced] == [
        c["transactionHash"] for c in story.b["validator_changes"]
    ]
    assert len(sliced) == 3
