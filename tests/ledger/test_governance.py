"""The validator set lives on chain and changes by vote of the current validators."""

from __future__ import annotations

from pathlib import Path

from eth_account import Account
from web3 import HTTPProvider, Web3

from tests.ledger.conftest import call, free_port
from wuye import crypto
from wuye.ledger import contracts
from wuye.ledger.embedded import start_embedded_node
from wuye.ledger.genesis import VALIDATORS_ADDRESS
from wuye.ledger.verify import verify_chain


def test_a_validator_vote_changes_the_set_that_seals_the_next_block(tmp_path: Path) -> None:
    handle = start_embedded_node(tmp_path, port=free_port(), block_interval=0.05)
    try:
        w3 = Web3(HTTPProvider(handle.url))
        governance = Account.from_key((tmp_path / "node-0" / "governance.key").read_text())
        abi, _ = contracts.load("Validators")
        validators = w3.eth.contract(address=Web3.to_checksum_address(VALIDATORS_ADDRESS), abi=abi)
        newcomer = crypto.SM2PrivateKey.generate().public_key.to_hex().lower()
        raw = bytes.fromhex(newcomer)
        before = w3.provider.make_request("wuye_validators", ["latest"])["result"]
        assert len(before) == 1
        account = Account.create().address
        receipt = call(
            w3, governance, validators.functions.vote_add(account, raw[1:33], raw[33:65])
        )
        assert receipt.status == 1
        after = w3.provider.make_request("wuye_validators", ["latest"])["result"]
        assert {v["sm2PublicKey"] for v in after} == {before[0]["sm2PublicKey"], newcomer}
        sealed_by = w3.provider.make_request("wuye_validators", [hex(receipt.blockNumber)])
        assert len(sealed_by["result"]) == 1  # the block holding the vote was sealed by the old set
        from_events = verify_chain(handle.url, handle.genesis_path)
        assert from_events.validator_changes == [f"#{receipt.blockNumber} + {account.lower()}"]
        assert verify_chain(handle.url, handle.genesis_path, reexecute=True).blocks == (
            receipt.blockNumber
        )
    finally:
        handle.stop()
