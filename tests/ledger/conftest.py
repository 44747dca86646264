"""Ledger test factories: an embedded node per module, one genesis on both VMs, accounts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from web3 import HTTPProvider, Web3

from tests.serving import free_port
from wuye.ledger import contracts
from wuye.ledger.embedded import EmbeddedNode, start_embedded_node
from wuye.ledger.execution import Ledger
from wuye.ledger.genesis import PERMISSIONS_ADDRESS, Genesis, LedgerVM, ReferenceLedgerVM
from wuye.ledger.network import create_network

PERMISSIONS = Web3.to_checksum_address(PERMISSIONS_ADDRESS)


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedNode]:
    handle = start_embedded_node(
        tmp_path_factory.mktemp("ledger"), port=free_port(), block_interval=0.05
    )
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def w3(node: EmbeddedNode) -> Web3:
    return Web3(HTTPProvider(node.url))


@pytest.fixture(scope="module")
def admin(node: EmbeddedNode) -> Any:
    return Account.from_key(node.accounts[0]["privateKey"])


def send(w3: Web3, account: Any, tx: dict[str, Any]) -> Any:
    """Sign `tx` as `account`, send it and wait for its receipt."""
    tx = dict(tx)
    tx.setdefault("from", account.address)
    tx.setdefault("nonce", w3.eth.get_transaction_count(account.address, "pending"))
    tx.setdefault("chainId", w3.eth.chain_id)
    if "gas" not in tx:
        tx["gas"] = w3.eth.estimate_gas(tx)
    tx.setdefault("maxFeePerGas", 10**10)
    tx.setdefault("maxPriorityFeePerGas", 1)
    signed = account.sign_transaction(tx)
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    return w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30, poll_latency=0.02)


def call(w3: Web3, account: Any, fn: Any) -> Any:
    """Send a contract function call as a signed transaction; return the receipt."""
    return send(
        w3,
        account,
        fn.build_transaction(
            {
                "from": account.address,
                "nonce": w3.eth.get_transaction_count(account.address, "pending"),
            }
        ),
    )


def deploy(w3: Web3, account: Any, name: str, *args: Any) -> Any:
    abi, bytecode = contracts.load(name)
    factory = w3.eth.contract(abi=abi, bytecode=bytecode)
    receipt = call(w3, account, factory.constructor(*args))
    assert receipt.status == 1
    return w3.eth.contract(address=receipt.contractAddress, abi=abi)


def permissions(w3: Web3) -> Any:
    abi, _ = contracts.load("Permissions")
    return w3.eth.contract(address=PERMISSIONS, abi=abi)


def new_member(w3: Web3, admin: Any, roles: int, fund: bool = True) -> Any:
    """A fresh account granted `roles` by governance, funded by the admin."""
    account = Account.create()
    assert call(w3, admin, permissions(w3).functions.grant(account.address, roles)).status == 1
    if fund:
        send(w3, admin, {"to": account.address, "value": 10**18, "gas": 21000})
    return account


def tmp_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> tuple[Genesis, list[Any]]:
    """A one-validator genesis and its funded development accounts (no node running)."""
    files = create_network(tmp_path_factory.mktemp("evm"), validators=1, base_port=1)
    accounts = [Account.from_key(a["privateKey"]) for a in json.loads(files.accounts.read_text())]
    return Genesis.load(files.genesis), accounts


@pytest.fixture(scope="module")
def ledgers(network: tuple[Genesis, list[Any]], tmp_path_factory: pytest.TempPathFactory) -> Any:
    """That genesis on the validators' `LedgerVM` and on py-evm's own (`ReferenceLedgerVM`)."""
    genesis, _ = network
    opened = [
        Ledger(tmp_path_factory.mktemp("vm"), genesis, vm_class=vm)
        for vm in (LedgerVM, ReferenceLedgerVM)
    ]
    yield opened
    for ledger in opened:
        ledger.close()
