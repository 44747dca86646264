"""`wuye ledger devnet`: four nodes on loopback, genesis and accounts written, clean Ctrl-C."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from web3 import HTTPProvider, Web3

from tests.ledger.network import transfer

pytestmark = pytest.mark.timeout(120)


def _free_block(n: int) -> int:
    import socket

    for base in range(20000, 60000, 97):
        try:
            socks = []
            for i in range(n):
                s = socket.socket()
                s.bind(("127.0.0.1", base + i))
                socks.append(s)
            for s in socks:
                s.close()
            return base
        except OSError:
            for s in socks:
                s.close()
    raise RuntimeError("no free port block")


def test_devnet_runs_four_nodes_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    base = _free_block(4)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "wuye.ledger",
            "devnet",
            "--validators",
            "4",
            "--base-port",
            str(base),
            "--data-dir",
            str(tmp_path),
            "--block-interval",
            "0.1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        ready = 0
        while ready < 4 and time.monotonic() < deadline:
            ready = 0
            for i in range(4):
                try:
                    httpx.get(f"http://127.0.0.1:{base + i}/p2p/status", timeout=1)
                    ready += 1
                except httpx.HTTPError:
                    time.sleep(0.2)
        assert ready == 4
        accounts = json.loads((tmp_path / "accounts.json").read_text())
        assert (tmp_path / "genesis.json").exists() and len(accounts) >= 1
        w3 = Web3(HTTPProvider(f"http://127.0.0.1:{base + 3}"))
        account = Account.from_key(accounts[1]["privateKey"])
        assert w3.eth.wait_for_transaction_receipt(transfer(w3, account), timeout=30).status == 1
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "Private Key: 0x" in out and "network stopped" in out
