"""Transaction admission: allowlist, nonces, funds and chain id, with web3.py-style messages."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils import to_canonical_address
from web3 import Web3

from tests.serving import free_port
from wuye.ledger import contracts
from wuye.ledger.execution import Ledger
from wuye.ledger.genesis import LEDGER_VM, PERMISSIONS_ADDRESS
from wuye.ledger.network import DEFAULT_CHAIN_ID, create_network
from wuye.ledger.node import Node, NodeConfig
from wuye.ledger.txpool import (
    NOT_ALLOWED_CODE,
    AccountView,
    TxPool,
    TxRejected,
    recover_sender,
)

CHAIN_ID = 7
SENDER = Account.create()
BUILDER = LEDGER_VM.get_block_class().get_transaction_builder()


def _tx(nonce: int, value: int = 1, chain_id: int = CHAIN_ID, gas: int = 21000, sender=SENDER):
    raw = sender.sign_transaction(
        {
            "to": sender.address,
            "value": value,
            "gas": gas,
            "maxFeePerGas": 10,
            "maxPriorityFeePerGas": 1,
            "nonce": nonce,
            "chainId": chain_id,
        }
    ).raw_transaction
    return BUILDER.decode(bytes(raw))


def _view(nonce: int = 0, balance: int = 10**18, allowed: bool = True):
    return lambda address: AccountView(nonce, balance, allowed)


def test_sequential_nonces_are_admitted_in_order() -> None:
    pool = TxPool()
    for nonce in range(3):
        assert pool.add(_tx(nonce), _view(), CHAIN_ID)
    assert [tx.nonce for tx in pool.batch(10)] == [0, 1, 2]
    assert pool.next_nonce(to_canonical_address(SENDER.address)) == 3


@pytest.mark.parametrize(
    ("tx_nonce", "state_nonce", "message"),
    [(0, 1, "nonce too low"), (2, 0, "nonce too high")],
)
def test_out_of_order_nonces_are_refused(tx_nonce: int, state_nonce: int, message: str) -> None:
    with pytest.raises(TxRejected, match=message):
        TxPool().add(_tx(tx_nonce), _view(nonce=state_nonce), CHAIN_ID)


def test_sender_off_the_allowlist_gets_its_own_error_code() -> None:
    with pytest.raises(TxRejected, match="not allowed to transact") as refused:
        TxPool().add(_tx(0), _view(allowed=False), CHAIN_ID)
    assert refused.value.code == NOT_ALLOWED_CODE


def test_insufficient_funds_and_wrong_chain_are_refused() -> None:
    with pytest.raises(TxRejected, match="insufficient funds"):
        TxPool().add(_tx(0, value=10**6), _view(balance=1000), CHAIN_ID)
    with pytest.raises(TxRejected, match="invalid chain id"):
        TxPool().add(_tx(0, chain_id=8), _view(), CHAIN_ID)


def test_funds_are_counted_against_the_senders_pending_transactions() -> None:
    pool = TxPool()
    view = _view(balance=21000 * 10 * 2 + 2)  # two transfers of 1 wei at fee cap 10
    pool.add(_tx(0), view, CHAIN_ID)
    pool.add(_tx(1), view, CHAIN_ID)
    with pytest.raises(TxRejected, match="insufficient funds.*pending transactions may cost"):
        pool.add(_tx(2), view, CHAIN_ID)


def test_included_and_stale_transactions_leave_the_pool() -> None:
    pool = TxPool()
    txs = [_tx(n) for n in range(4)]
    for tx in txs:
        pool.add(tx, _view(), CHAIN_ID)
    pool.remove_included([txs[0].hash], nonce_of=lambda address: 2)
    assert [tx.nonce for tx in pool.batch(10)] == [2, 3]


def test_transaction_over_the_block_gas_limit_is_refused() -> None:
    with pytest.raises(TxRejected, match="exceeds block gas limit"):
        TxPool().add(_tx(0, gas=70_000_000), _view(), CHAIN_ID, gas_limit=60_000_000)


#: Gas limits of one sender's consecutive transfers: the second cannot share a block.
GASES = (21000, 59_990_000, 21000)


def _dev_node(root: Path) -> tuple[Node, list[Account]]:
    files = create_network(root, validators=1, base_port=free_port(), block_interval=0.05)
    accounts = [Account.from_key(a["privateKey"]) for a in json.loads(files.accounts.read_text())]
    return Node(NodeConfig.load(files.configs[0])), accounts


def _signed(account, nonce: int, gas: int) -> bytes:
    tx = {
        "to": account.address,
        "value": 1,
        "gas": gas,
        "maxFeePerGas": 10**9,
        "maxPriorityFeePerGas": 1,
        "nonce": nonce,
        "chainId": DEFAULT_CHAIN_ID,
    }
    return bytes(account.sign_transaction(tx).raw_transaction)


def test_block_building_defers_what_does_not_fit_instead_of_dropping_it(tmp_path: Path) -> None:
    node, accounts = _dev_node(tmp_path)
    try:
        # After the first transfer uses 21,000 gas, a 59.99M-gas limit no longer fits in 60M.
        mine = [BUILDER.decode(_signed(accounts[1], n, gas)) for n, gas in enumerate(GASES)]
        theirs = BUILDER.decode(_signed(accounts[2], 0, 21000))
        candidate = node.ledger.build([*mine, theirs])
        assert [tx.hash for tx in candidate.block.transactions] == [mine[0].hash, theirs.hash]
        assert candidate.dropped == []
    finally:
        node.stop()


def test_every_nonce_of_a_sender_is_mined_when_they_overflow_one_block(tmp_path: Path) -> None:
    node, accounts = _dev_node(tmp_path)
    try:
        hashes = [node.submit(_signed(accounts[1], n, gas)) for n, gas in enumerate(GASES)]
        node.start()
        assert node.wait_for_block(2, timeout=30)
        chain = node.ledger.reader()
        for tx_hash in hashes:
            chain.chaindb.get_transaction_index(tx_hash)  # raises if not mined
        assert len(node.pool) == 0
        assert node.ledger.evidence() == []
    finally:
        node.stop()


def test_blocks_faster_than_one_a_second_keep_to_the_clock_and_raise_no_evidence(
    tmp_path: Path,
) -> None:
    node, accounts = _dev_node(tmp_path)
    try:
        node.start()
        for nonce in range(24):  # one block each, well over 15 (the allowed drift) a second
            node.submit(_signed(accounts[1], nonce, 21000))
            assert node.wait_for_block(nonce + 1, timeout=30)
        assert node.ledger.evidence() == []
        assert node.ledger.head().timestamp <= time.time() + 1
    finally:
        node.stop()


@pytest.mark.parametrize("kind", ["legacy", "access-list", "dynamic-fee"])
def test_sender_recovered_from_raw_bytes_is_py_evms(kind: str) -> None:
    tx = {"to": SENDER.address, "value": 5, "gas": 30000, "nonce": 3, "chainId": CHAIN_ID}
    if kind == "legacy":
        tx["gasPrice"] = 10
    else:
        tx["accessList"] = [{"address": SENDER.address, "storageKeys": ["0x" + "00" * 32]}]
        if kind == "access-list":
            tx |= {"gasPrice": 10, "type": 1}
        else:
            tx |= {"maxFeePerGas": 10, "maxPriorityFeePerGas": 1}
    raw = bytes(SENDER.sign_transaction(tx).raw_transaction)
    assert recover_sender(BUILDER.decode(raw), raw) == BUILDER.decode(raw).sender
    assert recover_sender(BUILDER.decode(raw), raw) == to_canonical_address(SENDER.address)


def test_a_built_block_is_the_block_py_evm_imports(tmp_path: Path) -> None:
    node, accounts = _dev_node(tmp_path / "a")
    abi, _ = contracts.load("Permissions")
    permissions = Web3().eth.contract(address=PERMISSIONS_ADDRESS, abi=abi)
    admin = accounts[0]
    raws = [
        _signed(accounts[1], 0, 21000),
        bytes(
            admin.sign_transaction(
                permissions.functions.grant(Account.create().address, 1).build_transaction(
                    {
                        "from": admin.address,
                        "nonce": 0,
                        "gas": 200_000,
                        "chainId": DEFAULT_CHAIN_ID,
                        "maxFeePerGas": 10**9,
                        "maxPriorityFeePerGas": 1,
                    }
                )
            ).raw_transaction
        ),
    ]
    replica = Ledger(tmp_path / "b", node.genesis)
    try:
        built = node.ledger.build([BUILDER.decode(raw) for raw in raws])
        assert len(built.block.transactions) == 2 and built.block.header.bloom
        imported = replica.execute(replica.decode_block(node.ledger.encode_block(built.block)))
        assert imported.block.hash == built.block.hash
    finally:
        replica.close()
        node.stop()
