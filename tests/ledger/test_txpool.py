"""Transaction admission: allowlist, nonces, funds and chain id, with web3.py-style messages."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_utils import to_canonical_address

from wuye.ledger.genesis import LEDGER_VM
from wuye.ledger.txpool import NOT_ALLOWED_CODE, AccountView, TxPool, TxRejected

CHAIN_ID = 7
SENDER = Account.create()
BUILDER = LEDGER_VM.get_block_class().get_transaction_builder()


def _tx(nonce: int, value: int = 1, chain_id: int = CHAIN_ID):
    raw = SENDER.sign_transaction(
        {
            "to": SENDER.address,
            "value": value,
            "gas": 21000,
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


def test_included_and_stale_transactions_leave_the_pool() -> None:
    pool = TxPool()
    txs = [_tx(n) for n in range(4)]
    for tx in txs:
        pool.add(tx, _view(), CHAIN_ID)
    pool.remove_included([txs[0].hash], nonce_of=lambda address: 2)
    assert [tx.nonce for tx in pool.batch(10)] == [2, 3]
