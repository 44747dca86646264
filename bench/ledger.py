"""Ledger throughput: finalised contract calls per second on a four-validator devnet.

Sends web3.py-signed `CreditRegistry.rate` calls (from accounts the development
admin made raters, so every call succeeds and emits an event) to a
four-validator devnet of separate processes on loopback, and measures, in the
same run, stock py-evm's `apply_all_transactions` of the very same signed
transactions (Prague's own computation: `ReferenceLedgerVM`), before and after
the devnet. Prints the rates, the ratio to the baseline's mean, and time to
finality (send -> seen final) p50 / p99.

    .venv/bin/python bench/ledger.py [--txs 3000] [--senders 8] [--paced-txs 1000] [--rate R]

Ceiling: every validator executes every block, so four validators sharing
two cores do four times the execution work per transaction. At stock
py-evm's cost per call they could reach at most half of its rate; the nodes
run `wuye.ledger.evm` (same results, less interpreter and trie overhead),
which is what can take them past that. The "node CPU per finalised tx" line
is the four nodes' whole cost per call (execution, admission, gossip,
consensus, storage), and the line under the ratio turns it into the ratio the
devnet would reach with both cores to itself (the wall-clock ratio moves with
whatever else the machine runs, this script's own senders included; their
CPU is printed). Time to finality of the saturated run is queueing (all calls
are sent at once, so the last waits for all before it); the steady run then
offers half the throughput just measured, and shows finality under that load.
"""

from __future__ import annotations

import argparse
import http.client
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from eth_account import Account
from web3 import HTTPProvider, Web3

from wuye.ledger import contracts
from wuye.ledger.execution import Ledger
from wuye.ledger.genesis import PERMISSIONS_ADDRESS, Genesis, ReferenceLedgerVM
from wuye.ledger.network import create_network

GAS = 150_000  # a first-time subject costs about 104,000 gas
ROLE_SENDER, ROLE_RATER = 1, 4  # Permissions.vy


def sign_workload(genesis: Genesis, accounts: list, n: int, senders: int) -> tuple[list, list]:
    """Set-up transactions (deployment, rater grants) and `n` signed rate() calls.

    Identical for both runs; every call succeeds and emits a `Rated` event.
    """
    deployer = Account.from_key(accounts[0]["privateKey"])
    abi, bytecode = contracts.load("CreditRegistry")
    w3 = Web3()
    factory = w3.eth.contract(abi=abi, bytecode=bytecode)
    deploy = factory.constructor(Web3.to_checksum_address(PERMISSIONS_ADDRESS)).build_transaction(
        {
            "from": deployer.address,
            "nonce": 0,
            "gas": 2_000_000,
            "chainId": genesis.chain_id,
            "maxFeePerGas": 10**10,
            "maxPriorityFeePerGas": 1,
        }
    )
    deploy_raw = bytes(deployer.sign_transaction(deploy).raw_transaction)
    address = Web3.to_checksum_address(
        Web3.keccak(b"\xd6\x94" + bytes.fromhex(deployer.address[2:]) + b"\x80")[-20:]
    )
    registry = w3.eth.contract(address=address, abi=abi)
    callers = [Account.from_key(a["privateKey"]) for a in accounts[1 : 1 + senders]]
    # The callers must hold ROLE_RATER, or every rate() reverts and the run measures
    # failed calls: the development admin grants it, as the platform grants its rater.
    permissions = w3.eth.contract(
        address=Web3.to_checksum_address(PERMISSIONS_ADDRESS), abi=contracts.load("Permissions")[0]
    )
    setup = [deploy_raw]
    for nonce, who in enumerate(callers, start=1):
        grant = permissions.functions.grant(who.address, ROLE_SENDER | ROLE_RATER)
        grant = grant.build_transaction(
            {
                "from": deployer.address,
                "nonce": nonce,
                "gas": 200_000,
                "chainId": genesis.chain_id,
                "maxFeePerGas": 10**10,
                "maxPriorityFeePerGas": 1,
            }
        )
        setup.append(bytes(deployer.sign_transaction(grant).raw_transaction))
    txs = []
    for k in range(n):
        who = callers[k % len(callers)]
        tx = registry.functions.rate(k.to_bytes(32, "big"), 1, 1, b"\0" * 32).build_transaction(
            {
                "from": who.address,
                "nonce": k // len(callers),
                "gas": GAS,
                "chainId": genesis.chain_id,
                "maxFeePerGas": 10**10,
                "maxPriorityFeePerGas": 1,
            }
        )
        txs.append((who.address, bytes(who.sign_transaction(tx).raw_transaction)))
    return setup, txs


def raw_pyevm(
    genesis_path: Path, setup: list, txs: list, block_txs: int = 500
) -> tuple[float, float]:
    """Transactions per second of py-evm apply_all_transactions alone, and its CPU ms per tx.

    The calls are applied in blocks of `block_txs` (as the devnet packs them;
    one block cannot hold them all under the gas limit). Only
    apply_all_transactions is timed; moving to the next block is not.
    """
    with tempfile.TemporaryDirectory() as tmp:
        # stock py-evm: Prague's own state and computation, not the ledger's interpreter
        ledger = Ledger(Path(tmp), Genesis.load(genesis_path), vm_class=ReferenceLedgerVM)
        builder = ledger.block_class.get_transaction_builder()
        ledger.commit(ledger.build([builder.decode(raw) for raw in setup]), [])
        elapsed = 0.0
        cpu = 0.0
        applied = 0
        for first in range(0, len(txs), block_txs):
            chunk = [builder.decode(raw) for _, raw in txs[first : first + block_txs]]
            chain = ledger.reader()
            parent = chain.get_canonical_head()
            vm = chain.get_vm(
                chain.create_header_from_parent(parent, timestamp=parent.timestamp + 1)
            )
            start, start_cpu = time.perf_counter(), time.process_time()
            _, receipts, _ = vm.apply_all_transactions(chunk, vm.get_header())
            elapsed += time.perf_counter() - start
            cpu += time.process_time() - start_cpu
            applied += len(receipts)
            if any(r.state_root != b"\x01" for r in receipts):  # Byzantium status: 1 = success
                raise SystemExit("a rate() call failed in raw py-evm: the workload is broken")
            chunk = [builder.decode(raw) for _, raw in txs[first : first + block_txs]]
            ledger.commit(ledger.build(chunk), [])
        ledger.close()
    assert applied == len(txs)
    return applied / elapsed, 1000 * cpu / applied


class _Wallet:
    """A JSON-RPC client on one kept-alive connection: the load generator, kept lean.

    The senders share the two cores with the validators, so every millisecond
    of client CPU is taken from the nodes being measured; a wallet is what a
    real deployment runs elsewhere. web3.py signed every call beforehand, and
    set-up and checks go through web3.py; sending and watching go through this
    (about a fifth of httpx's and web3.py's CPU per request).
    """

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        self._id = 0

    def call(self, method: str, *params: Any) -> Any:
        self._id += 1
        body = json.dumps({"jsonrpc": "2.0", "id": self._id, "method": method, "params": params})
        self._connection.request("POST", "/", body, {"Content-Type": "application/json"})
        answer = json.loads(self._connection.getresponse().read())
        if "error" in answer:
            raise RuntimeError(f"{method}: {answer['error']}")
        return answer["result"]


def _drive(urls: list[str], txs: list, senders: int, rate: float = 0.0) -> dict:
    """Send `txs` over `senders` lanes (paced to `rate` tx/s if given); time each to finality.

    Returns finalised calls per second, finality p50 / p99, blocks used, and the
    CPU time this process (senders and watcher) spent meanwhile.
    """
    sent_at: dict[str, float] = {}
    final_at: dict[str, float] = {}
    done = threading.Event()
    start_block = int(_Wallet(urls[0]).call("eth_blockNumber"), 16)

    def watch() -> None:
        watcher = _Wallet(urls[0])
        seen = start_block
        while not done.is_set():
            head = int(watcher.call("eth_blockNumber"), 16)
            now = time.perf_counter()
            for number in range(seen + 1, head + 1):
                block = watcher.call("eth_getBlockByNumber", hex(number), False)
                for tx_hash in block["transactions"]:
                    final_at[tx_hash] = now
            seen = head
            if len(final_at) >= len(txs):
                return
            time.sleep(0.02)

    def send(lane: int) -> None:  # one connection per lane, like independent wallets
        wallet = _Wallet(urls[lane % len(urls)])
        mine = [raw for k, (_, raw) in enumerate(txs) if k % senders == lane]
        for j, raw in enumerate(mine):
            if rate:
                delay = start + j * senders / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            sent = time.perf_counter()
            sent_at[wallet.call("eth_sendRawTransaction", "0x" + raw.hex())] = sent

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    start, start_cpu = time.perf_counter(), time.process_time()
    lanes = [threading.Thread(target=send, args=(i,)) for i in range(senders)]
    for t in lanes:
        t.start()
    for t in lanes:
        t.join()
    watcher.join(timeout=600)
    done.set()
    client_cpu = time.process_time() - start_cpu
    end = max(final_at.values())
    latencies = sorted(final_at[h] - sent_at[h] for h in sent_at if h in final_at)
    return {
        "finalised": len(latencies),
        "tps": len(latencies) / (end - start),
        "p50": statistics.median(latencies),
        "p99": latencies[int(0.99 * (len(latencies) - 1))],
        "blocks": int(_Wallet(urls[0]).call("eth_blockNumber"), 16) - start_block,
        "client_cpu_ms_per_tx": 1000 * client_cpu / max(1, len(latencies)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--txs", type=int, default=3000)
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--base-port", type=int, default=28545)
    parser.add_argument(
        "--paced-txs",
        type=int,
        default=1000,
        help="then this many more at --rate, for finality at a steady load",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="offered load of the paced run, tx/s (default: half the saturated rate just measured)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wuye-bench-") as tmp:
        root = Path(tmp)
        files = create_network(root / "plan", 4, args.base_port)
        genesis = Genesis.load(files.genesis)
        accounts = json.loads(files.accounts.read_text())
        print(f"signing {args.txs} CreditRegistry.rate calls from {args.senders} senders ...")
        setup, all_txs = sign_workload(genesis, accounts, args.txs + args.paced_txs, args.senders)
        txs, paced = all_txs[: args.txs], all_txs[args.txs :]
        raw, raw_cpu_ms = raw_pyevm(files.genesis, setup, txs)
        print(
            f"raw py-evm apply_all_transactions: {raw:8.0f} tx/s ({raw_cpu_ms:.2f} ms CPU per tx)"
        )
        # the devnet reuses the planned genesis and accounts so the signed calls are valid
        net_root = root / "devnet"
        net_root.mkdir()
        result, steady = devnet_run_with(
            files, net_root, args.base_port, setup, [txs, paced], args.senders, args.rate
        )
        # The baseline again, after the devnet: on a shared machine the load drifts
        # during a run, and the mean of the two brackets the devnet's minute.
        raw_after, raw_cpu_after = raw_pyevm(files.genesis, setup, txs)
        print(
            f"raw py-evm again, after the devnet: {raw_after:7.0f} tx/s "
            f"({raw_cpu_after:.2f} ms CPU per tx)"
        )
        raw, raw_cpu_ms = (raw + raw_after) / 2, (raw_cpu_ms + raw_cpu_after) / 2
    print("saturated (all calls sent as fast as 8 wallets can):")
    print(
        f"4-validator devnet, finalised:     {result['tps']:8.0f} tx/s "
        f"({result['finalised']} txs in {result['blocks']} blocks)"
    )
    print(
        f"node CPU per finalised tx:         {result['cpu_ms_per_tx']:8.1f} ms "
        f"(4 nodes together; raw py-evm needs {raw_cpu_ms:.1f} ms)"
    )
    print(
        f"sending and watching, per tx:      {result['client_cpu_ms_per_tx']:8.2f} ms CPU "
        "(this process, on the same two cores)"
    )
    print(
        f"ratio devnet / raw py-evm:         {result['tps'] / raw:8.2f}  "
        f"(target >= 0.5; raw: mean of both runs, {raw:.0f} tx/s)"
    )
    # On a shared machine the wall-clock ratio swings with other load; CPU time does less.
    print(
        f"  the same from CPU time, had the nodes both cores: "
        f"{2 * raw_cpu_ms / result['cpu_ms_per_tx']:.2f}"
    )
    print(
        f"time to finality p50 / p99:        {result['p50']:.2f} s / {result['p99']:.2f} s"
        "  (target p99 < 2 s)"
    )
    if steady:
        print(f"steady load of {steady['rate']:.0f} tx/s offered ({steady['finalised']} calls):")
        print(
            f"  finalised {steady['tps']:.0f} tx/s; time to finality p50 / p99: "
            f"{steady['p50']:.2f} s / {steady['p99']:.2f} s"
        )


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    import os

    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def devnet_run_with(
    files, root: Path, base_port: int, setup: list, phases: list, senders: int, rate: float
) -> tuple[dict, dict | None]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "wuye.ledger", "node", "--config", str(c)],
            stdout=subprocess.DEVNULL,
            stderr=open(root / f"node-{i}.log", "wb"),
        )
        for i, c in enumerate(files.configs)
    ]
    urls = [f"http://127.0.0.1:{base_port + i}" for i in range(len(files.configs))]
    try:
        for url in urls:
            for _ in range(300):
                try:
                    httpx.get(url + "/p2p/status", timeout=1).raise_for_status()
                    break
                except httpx.HTTPError:
                    time.sleep(0.1)
        w3 = Web3(HTTPProvider(urls[0]))
        for raw in setup:
            receipt = w3.eth.wait_for_transaction_receipt(w3.eth.send_raw_transaction(raw), 60)
            assert receipt["status"] == 1, "a set-up transaction failed"
        cpu_before = sum(_cpu_seconds(p.pid) for p in procs)
        saturated = _drive(urls, phases[0], senders)
        cpu = sum(_cpu_seconds(p.pid) for p in procs) - cpu_before
        saturated["cpu_ms_per_tx"] = 1000 * cpu / max(1, saturated["finalised"])
        rate = rate or saturated["tps"] / 2
        steady = _drive(urls, phases[1], senders, rate) if phases[1] else None
        if steady:
            steady["rate"] = rate
        return saturated, steady
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    main()
