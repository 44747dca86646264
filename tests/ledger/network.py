"""A four-validator network of separate node processes on free loopback ports, for tests."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account
from web3 import HTTPProvider, Web3

from tests.ledger.conftest import free_port
from wuye.ledger.network import create_network
from wuye.ledger.node import NodeConfig


class ProcessNetwork:
    def __init__(self, root: Path, validators: int = 4) -> None:
        ports = [free_port() for _ in range(validators)]
        self.files = create_network(
            root, validators, ports[0], block_interval=0.1, round_timeout=1.0
        )
        # create_network numbers ports from the base; give each node its own free port.
        self.urls = []
        for i, path in enumerate(self.files.configs):
            config = NodeConfig.load(path)
            config.port = ports[i]
            config.peers = [f"http://127.0.0.1:{p}" for j, p in enumerate(ports) if j != i]
            config.save(path)
            self.urls.append(f"http://127.0.0.1:{ports[i]}")
        self.procs: list[subprocess.Popen | None] = [None] * validators
        self.root = root
        self.accounts = json.loads(self.files.accounts.read_text())

    def start(self, i: int) -> None:
        log = open(self.root / f"node-{i}.log", "ab")  # noqa: SIM115 - owned by the process
        self.procs[i] = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "wuye.ledger",
                "node",
                "-v",
                "--config",
                str(self.files.configs[i]),
            ],
            stdout=log,
            stderr=log,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(self.urls[i] + "/p2p/status", timeout=1).raise_for_status()
                return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(f"node {i} did not start; see {self.root}/node-{i}.log")

    def start_all(self) -> None:
        for i in range(len(self.procs)):
            self.start(i)

    def kill(self, i: int) -> None:
        proc = self.procs[i]
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        self.procs[i] = None

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc is not None and proc.poll() is None:
                proc.terminate()
        for i, proc in enumerate(self.procs):
            if proc is not None:
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)
            self.procs[i] = None

    def w3(self, i: int) -> Web3:
        return Web3(HTTPProvider(self.urls[i], request_kwargs={"timeout": 10}))

    def head(self, i: int) -> int:
        return self.w3(i).eth.block_number

    def account(self, n: int) -> Any:
        return Account.from_key(self.accounts[n]["privateKey"])

    def rpc(self, i: int, method: str, *params: Any) -> Any:
        return self.w3(i).provider.make_request(method, list(params))["result"]

    def alive(self) -> list[int]:
        return [i for i, p in enumerate(self.procs) if p is not None and p.poll() is None]


def transfer(w3: Web3, account: Any, nonce: int | None = None) -> bytes:
    """Send a 1-wei transfer; return its hash (without waiting)."""
    tx = {
        "to": account.address,
        "value": 1,
        "gas": 21000,
        "chainId": w3.eth.chain_id,
        "maxFeePerGas": 10**10,
        "maxPriorityFeePerGas": 1,
        "nonce": nonce
        if nonce is not None
        else w3.eth.get_transaction_count(account.address, "pending"),
    }
    return w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
