"""On-disk persistence: atomic block commits, restarts, and verification of what is stored."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from eth.db.atomic import AtomicDB
from eth_account import Account
from web3 import HTTPProvider, Web3

from tests.ledger.conftest import free_port, send
from wuye.ledger.embedded import start_embedded_node
from wuye.ledger.execution import META_SEALS, Ledger
from wuye.ledger.genesis import Genesis, ValidatorSpec, build_genesis
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
