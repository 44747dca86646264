"""On-disk persistence: atomic block commits, restarts, and verification of what is stored."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import rlp
from eth.constants import BLANK_ROOT_HASH
from eth.db.atomic import AtomicDB
from eth_account import Account
from hypothesis import given, settings
from hypothesis import strategies as st
from trie import HexaryTrie
from web3 import HTTPProvider, Web3

from tests.ledger.conftest import free_port, send
from wuye.ledger.embedded import start_embedded_node
from wuye.ledger.execution import META_SEALS, Ledger, ordered_trie_root_and_nodes
from wuye.ledger.genesis import Genesis, ValidatorSpec, build_genesis
from wuye.ledger.network import create_network
from wuye.ledger.node import NodeConfig
from wuye.ledger.store import LedgerStore


def test_overlay_writes_stay_invisible_until_commit(tmp_path: Path) -> None:
    store = LedgerStore(tmp_path)
    overlay = store.overlay()
    overlay[b"k"] = b"v"
    assert store.overlay().get(b"k") is None
    store.commit(overlay, {b"m": b"1"})
    assert store.overlay()[b"k"] == b"v" and store.get_meta(b"m") == b"1"


def test_genesis_is_deterministic_and_checked() -> None:
    from wuye import crypto

    key = crypto.SM2PrivateKey.generate().public_key.to_hex()
    genesis = Genesis(
        chain_id=7,
        timestamp=1_700_000_000,
        validators=(ValidatorSpec("0x" + "11" * 20, key),),
        alloc={"0x" + "22" * 20: 5},
    )
    first, second = build_genesis(AtomicDB(), genesis), build_genesis(AtomicDB(), genesis)
    assert first.hash == second.hash
    wrong = Genesis(**{**genesis.__dict__, "genesis_hash": "0x" + "00" * 32})
    with pytest.raises(ValueError, match="genesis hash mismatch"):
        build_genesis(AtomicDB(), wrong)


def test_embedded_node_restarts_where_it_stopped(tmp_path: Path) -> None:
    port = free_port()
    handle = start_embedded_node(tmp_path, port=port, block_interval=0.05)
    try:
        w3 = Web3(HTTPProvider(handle.url))
        admin = Account.from_key(handle.accounts[0]["privateKey"])
        receipt = send(w3, admin, {"to": admin.address, "value": 1, "gas": 21000})
        head = w3.eth.block_number
    finally:
        handle.stop()
    handle = start_embedded_node(tmp_path, port=port, block_interval=0.05)
    try:
        w3 = Web3(HTTPProvider(handle.url))
        assert w3.eth.block_number == head
        assert w3.eth.get_transaction_receipt(receipt.transactionHash).status == 1
        assert send(w3, admin, {"to": admin.address, "value": 1, "gas": 21000}).blockNumber > head
    finally:
        handle.stop()


def _verify(url: str, genesis: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "wuye.ledger",
            "verify",
            "--rpc",
            url,
            "--genesis",
            str(genesis),
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_verify_passes_then_names_the_first_block_with_a_forged_seal(tmp_path: Path) -> None:
    port = free_port()
    handle = start_embedded_node(tmp_path, port=port, block_interval=0.05)
    w3 = Web3(HTTPProvider(handle.url))
    admin = Account.from_key(handle.accounts[0]["privateKey"])
    for _ in range(3):
        send(w3, admin, {"to": admin.address, "value": 1, "gas": 21000})
    good = _verify(handle.url, handle.genesis_path, "--reexecute")
    handle.stop()
    assert good.returncode == 0, good.stderr
    assert "OK: 3 blocks" in good.stdout and "re-executed" in good.stdout
    ledger = Ledger(tmp_path / "node-0" / "data", Genesis.load(handle.genesis_path))
    seals = json.loads(ledger.store.get_meta(META_SEALS + (2).to_bytes(8, "big")))
    seals[0]["signature"] = seals[0]["signature"][:-4] + "0000"
    ledger.store.put_meta({META_SEALS + (2).to_bytes(8, "big"): json.dumps(seals).encode()})
    ledger.close()
    handle = start_embedded_node(tmp_path, port=port, block_interval=0.05)
    try:
        bad = _verify(handle.url, handle.genesis_path)
    finally:
        handle.stop()
    assert bad.returncode != 0
    assert "block #2" in bad.stderr and "invalid SM2 seal" in bad.stderr


def test_cli_errors_are_one_line_and_non_zero(tmp_path: Path) -> None:
    missing = subprocess.run(
        [sys.executable, "-m", "wuye.ledger", "node", "--config", str(tmp_path / "none.json")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert missing.returncode != 0
    assert missing.stderr.strip().startswith("Error: cannot read node config")
    unreachable = _verify(f"http://127.0.0.1:{free_port()}", tmp_path / "none.json")
    assert unreachable.returncode != 0 and "Error:" in unreachable.stderr


def test_nodes_run_eth_keys_on_coincurve() -> None:
    from eth_keys import KeyAPI
    from eth_keys.backends.coincurve import CoinCurveECCBackend

    from wuye.ledger.node import require_coincurve

    assert isinstance(KeyAPI().backend, CoinCurveECCBackend)
    require_coincurve()


def _node_process(config: Path, url: str, log: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "wuye.ledger", "node", "-v", "--config", str(config)],
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(url + "/p2p/status", timeout=1).raise_for_status()
            return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"node did not start; see {log}")


def test_accepted_transaction_survives_kill_9_before_it_is_mined(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    files = create_network(tmp_path, validators=1, base_port=port, block_interval=0.05)
    # The same node without its validator key accepts transactions but never mines them.
    observer = NodeConfig.load(files.configs[0])
    observer.validator_key = None
    observer.save(tmp_path / "observer.json")
    admin = Account.from_key(json.loads(files.accounts.read_text())[0]["privateKey"])
    proc = _node_process(tmp_path / "observer.json", url, tmp_path / "node.log")
    try:
        w3 = Web3(HTTPProvider(url))
        tx = {"to": admin.address, "value": 1, "gas": 21000, "nonce": 0, "chainId": w3.eth.chain_id}
        tx |= {"maxFeePerGas": 10**10, "maxPriorityFeePerGas": 1}
        tx_hash = w3.eth.send_raw_transaction(admin.sign_transaction(tx).raw_transaction)
        assert w3.eth.get_transaction(tx_hash).blockNumber is None
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    proc = _node_process(files.configs[0], url, tmp_path / "node.log")
    try:
        receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.05)
        assert receipt.status == 1
        assert httpx.get(url + "/p2p/status").json()["pending"] == 0
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=80), max_size=300))
def test_block_tries_are_built_exactly_as_py_evm_builds_them(items: list[bytes]) -> None:
    expected: dict[bytes, bytes] = {}
    trie = HexaryTrie(expected, BLANK_ROOT_HASH)
    with trie.squash_changes() as memory:
        for index, item in enumerate(items):
            memory[rlp.encode(index)] = item
    root, nodes = ordered_trie_root_and_nodes(tuple(items))
    assert root == trie.root_hash
    assert nodes == expected
