"""The JSON-RPC surface through web3.py: deploy, transact, call, receipts, logs, errors."""

from __future__ import annotations

import httpx
import pytest
from eth_account import Account
from web3 import Web3
from web3.exceptions import ContractLogicError, Web3RPCError
from web3.logs import DISCARD

from tests.ledger.conftest import PERMISSIONS, call, deploy, new_member, permissions, send

ROLE_SENDER, ROLE_RATER = 1, 4


def test_chain_identity_methods_answer(w3: Web3) -> None:
    assert w3.eth.chain_id == int(w3.net.version)
    assert w3.client_version.startswith("wuye-ledger/")
    assert w3.eth.get_block("latest")["number"] == w3.eth.block_number
    assert w3.eth.get_code(PERMISSIONS) != b""


def test_deploy_transact_call_and_receipt(w3: Web3, admin) -> None:
    registry = deploy(w3, admin, "CreditRegistry", PERMISSIONS)
    receipt = call(w3, admin, registry.functions.rate(b"\1" * 32, 1, 7, b"\2" * 32))
    assert receipt.status == 1
    assert receipt.blockHash == w3.eth.get_block(receipt.blockNumber)["hash"]
    assert w3.eth.get_transaction(receipt.transactionHash)["blockNumber"] == receipt.blockNumber
    assert registry.functions.scores(b"\1" * 32).call() == 7
    (event,) = registry.events.Rated().process_receipt(receipt, errors=DISCARD)
    assert event.args.score == 7 and event.args.rater == admin.address


def test_sender_not_on_allowlist_is_refused_at_send(w3: Web3, admin) -> None:
    stranger = Account.create()
    send(w3, admin, {"to": stranger.address, "value": 10**18, "gas": 21000})
    tx = {
        "to": admin.address,
        "value": 1,
        "gas": 21000,
        "nonce": 0,
        "chainId": w3.eth.chain_id,
        "maxFeePerGas": 10**10,
        "maxPriorityFeePerGas": 1,
    }
    with pytest.raises(Web3RPCError, match="not allowed to transact"):
        w3.eth.send_raw_transaction(stranger.sign_transaction(tx).raw_transaction)


def test_governance_grant_lets_an_account_transact_and_revoke_stops_it(w3: Web3, admin) -> None:
    member = new_member(w3, admin, ROLE_SENDER)
    assert send(w3, member, {"to": admin.address, "value": 1, "gas": 21000}).status == 1
    assert call(w3, admin, permissions(w3).functions.revoke(member.address, ROLE_SENDER)).status
    with pytest.raises(Web3RPCError, match="not allowed"):
        send(w3, member, {"to": admin.address, "value": 1, "gas": 21000})


def test_only_admins_change_the_allowlist(w3: Web3, admin) -> None:
    member = new_member(w3, admin, ROLE_SENDER)
    with pytest.raises(ContractLogicError, match="not an admin"):
        permissions(w3).functions.grant(member.address, 2).build_transaction(
            {"from": member.address}
        )


def test_revert_reason_reaches_web3(w3: Web3, admin) -> None:
    member = new_member(w3, admin, ROLE_SENDER)
    registry = deploy(w3, admin, "CreditRegistry", PERMISSIONS)
    with pytest.raises(ContractLogicError, match="not a rater"):
        registry.functions.rate(b"\1" * 32, 1, 1, b"\0" * 32).call({"from": member.address})


def test_nonce_too_low_is_explained(w3: Web3, admin) -> None:
    send(w3, admin, {"to": admin.address, "value": 0, "gas": 21000})
    tx = {
        "to": admin.address,
        "value": 0,
        "gas": 21000,
        "nonce": 0,
        "chainId": w3.eth.chain_id,
        "maxFeePerGas": 10**10,
        "maxPriorityFeePerGas": 1,
    }
    with pytest.raises(Web3RPCError, match="nonce too low"):
        w3.eth.send_raw_transaction(admin.sign_transaction(tx).raw_transaction)


def test_logs_by_filter_and_by_range(w3: Web3, admin) -> None:
    registry = deploy(w3, admin, "CreditRegistry", PERMISSIONS)
    log_filter = registry.events.Rated.create_filter(from_block="latest")
    for delta in (1, 2, 3):
        call(w3, admin, registry.functions.rate(b"\5" * 32, 2, delta, b"\0" * 32))
    assert [e.args.delta for e in log_filter.get_new_entries()] == [1, 2, 3]
    assert [e.args.delta for e in registry.events.Rated.get_logs(from_block=0)] == [1, 2, 3]
    assert log_filter.get_new_entries() == []


def test_no_empty_blocks_while_idle(w3: Web3, admin) -> None:
    import time

    send(w3, admin, {"to": admin.address, "value": 0, "gas": 21000})
    before = w3.eth.block_number
    time.sleep(0.6)
    assert w3.eth.block_number == before


def test_jsonrpc_errors_follow_the_spec(node) -> None:
    unknown = httpx.post(node.url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_nope"}).json()
    assert unknown["error"]["code"] == -32601
    parse = httpx.post(node.url, content=b"{not json").json()
    assert parse["error"]["code"] == -32700
    bad = httpx.post(
        node.url, json={"jsonrpc": "2.0", "id": 2, "method": "eth_getBalance", "params": ["zz"]}
    ).json()
    assert bad["error"]["code"] == -32602
    batch = httpx.post(
        node.url,
        json=[
            {"jsonrpc": "2.0", "id": 3, "method": "eth_chainId"},
            {"jsonrpc": "2.0", "id": 4, "method": "net_version"},
        ],
    )
    assert [a["id"] for a in batch.json()] == [3, 4]


def test_validators_and_seals_are_served(w3: Web3, admin) -> None:
    receipt = send(w3, admin, {"to": admin.address, "value": 0, "gas": 21000})
    seals = w3.provider.make_request("wuye_getSeals", [hex(receipt.blockNumber)])["result"]
    validators = w3.provider.make_request("wuye_validators", [hex(receipt.blockNumber)])["result"]
    assert [s["validator"] for s in seals["seals"]] == [v["sm2PublicKey"] for v in validators]
    assert Web3.keccak(hexstr=seals["headerRlp"]).hex().removeprefix("0x") == seals["hash"][2:]
