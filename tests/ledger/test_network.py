"""Four validators as separate processes: crash faults, catching up, byzantine messages."""

from __future__ import annotations

import subprocess
import sys
import time

import httpx
import pytest

from tests.ledger.network import ProcessNetwork, transfer
from wuye import crypto
from wuye.ledger import seals as sealing
from wuye.ledger.messages import Commit, Proposal

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory):
    network = ProcessNetwork(tmp_path_factory.mktemp("net"))
    network.start_all()
    yield network
    network.stop_all()


def _wait(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _live(net: ProcessNetwork) -> int:
    return net.alive()[0]


def test_four_validators_finalise_blocks_with_a_quorum_of_seals(net: ProcessNetwork) -> None:
    w3 = net.w3(0)
    receipt = w3.eth.wait_for_transaction_receipt(transfer(w3, net.account(1)), timeout=30)
    seals = net.rpc(0, "wuye_getSeals", hex(receipt.blockNumber))["seals"]
    assert len(seals) >= sealing.quorum(4)
    assert _wait(lambda: all(net.head(i) >= receipt.blockNumber for i in range(4)))
    hashes = {net.w3(i).eth.get_block(receipt.blockNumber)["hash"] for i in range(4)}
    assert len(hashes) == 1


def _node_of(net: ProcessNetwork, public_key: str) -> int:
    for i in range(4):
        pem = (net.root / f"node-{i}" / "validator.pem").read_bytes()
        if crypto.SM2PrivateKey.from_pem(pem).public_key.to_hex().lower() == public_key:
            return i
    raise AssertionError("no node holds that key")


def test_killed_proposer_is_replaced_by_round_change(net: ProcessNetwork) -> None:
    keys = [v["sm2PublicKey"] for v in net.rpc(0, "wuye_validators", "latest")]
    height = net.head(0) + 1
    proposer = _node_of(net, keys[height % 4])  # round 0 proposer of the next height
    net.kill(proposer)
    entry = next(i for i in range(4) if i != proposer)
    w3 = net.w3(entry)
    account = net.account(2)
    hashes = [transfer(w3, account) for _ in range(3)]
    time.sleep(0.3)
    hashes += [transfer(w3, account) for _ in range(3)]
    receipts = [w3.eth.wait_for_transaction_receipt(h, timeout=60) for h in hashes]
    assert all(r.status == 1 for r in receipts)
    assert min(r.blockNumber for r in receipts) == height
    seals = net.rpc(entry, "wuye_getSeals", hex(height))["seals"]
    assert keys[height % 4] not in {s["validator"] for s in seals}
    net.start(proposer)


def test_restarted_validator_catches_up(net: ProcessNetwork) -> None:
    net.kill(1)
    w3 = net.w3(0)
    w3.eth.wait_for_transaction_receipt(transfer(w3, net.account(6)), timeout=60)
    net.start(1)
    target = net.head(0)
    assert _wait(lambda: net.head(1) >= target, timeout=30)
    assert net.w3(1).eth.get_block(target)["hash"] == net.w3(0).eth.get_block(target)["hash"]


def test_two_killed_nothing_is_finalised_and_nothing_is_lost(net: ProcessNetwork) -> None:
    w3 = net.w3(0)
    account = net.account(3)
    w3.eth.wait_for_transaction_receipt(transfer(w3, account), timeout=30)
    before = net.head(0)
    net.kill(2)
    net.kill(3)
    tx_hash = transfer(w3, account)
    time.sleep(3.0)
    assert net.head(0) == before and net.head(1) == before
    net.start(2)
    net.start(3)
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=90)
    assert receipt.status == 1
    for i in range(4):
        assert _wait(lambda i=i: net.head(i) >= receipt.blockNumber, timeout=30)
        assert net.w3(i).eth.get_block(before)["hash"] == w3.eth.get_block(before)["hash"]


def test_byzantine_seals_and_conflicting_proposals_are_ignored_and_recorded(
    net: ProcessNetwork,
) -> None:
    # Validator 3 turns byzantine: we stop its process and speak with its key.
    net.kill(3)
    key = crypto.SM2PrivateKey.from_pem((net.root / "node-3" / "validator.pem").read_bytes())
    me = key.public_key.to_hex().lower()
    height = net.head(0) + 1
    honest = [0, 1, 2]

    def post(message) -> None:
        for i in honest:
            httpx.post(net.urls[i] + "/p2p/messages", json=[message.sign(key).to_json()])

    bogus = Commit(
        height, 0, me, {"hash": "11" * 32, "digest": "22" * 32, "seal": "3044" + "00" * 68}
    )
    post(bogus)
    digests = [bytes([7]) * 32, bytes([8]) * 32]
    for digest in digests:
        seal = sealing.sign_seal(key, digest)
        post(
            Commit(
                height,
                0,
                me,
                {"hash": digest.hex(), "digest": digest.hex(), "seal": seal.signature.hex()},
            )
        )
    validators = net.rpc(0, "wuye_validators", "latest")
    keys = [v["sm2PublicKey"] for v in validators]
    byz_round = next(r for r in range(8) if keys[(height + r) % 4] == me)
    for payload in ("c0", "c1"):
        post(Proposal(height, byz_round, me, {"block": payload}))

    def kinds() -> set[str]:
        return {e["kind"] for e in net.rpc(0, "wuye_getEvidence") if e["validator"] == me}

    assert _wait(
        lambda: {"invalid-seal", "double-seal", "conflicting-proposals"} <= kinds(), timeout=20
    )
    w3 = net.w3(0)
    receipt = w3.eth.wait_for_transaction_receipt(transfer(w3, net.account(4)), timeout=60)
    assert receipt.status == 1
    net.start(3)


def test_kill_9_under_load_loses_no_final_block(net: ProcessNetwork) -> None:
    w3 = net.w3(0)
    account = net.account(5)
    nonce = w3.eth.get_transaction_count(account.address, "pending")
    hashes = [transfer(w3, account, nonce + k) for k in range(150)]
    time.sleep(0.5)
    head_before_kill = net.head(2)
    net.kill(2)
    receipts = [w3.eth.wait_for_transaction_receipt(h, timeout=90) for h in hashes]
    net.start(2)
    assert net.head(2) >= head_before_kill
    last = max(r.blockNumber for r in receipts)
    assert _wait(lambda: net.head(2) >= last, timeout=30)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "wuye.ledger",
            "verify",
            "--rpc",
            net.urls[2],
            "--genesis",
            str(net.files.genesis),
            "--reexecute",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "OK:" in result.stdout
