"""Decoding a log by its topic0 and the contract's ABI, and money shown without floats."""

from __future__ import annotations

import pytest
from eth_abi import encode
from hypothesis import given
from hypothesis import strategies as st

from wuye.ledger.explorer.decoders import (
    DESCRIBERS,
    contract_abis,
    decode_log,
    event_table,
    yuan,
)
from wuye.ledger.explorer.names import Names


@pytest.fixture(autouse=True, scope="module")
def _abis_loaded() -> None:
    """Build the (cached) event table once, before any example runs against the deadline."""
    event_table()


def _spec(contract: str, name: str):
    return next(s for s in event_table().values() if (s.contract, s.name) == (contract, name))


def _log(spec, indexed: list[bytes], data: bytes) -> dict:
    return {
        "blockNumber": "0x7",
        "logIndex": "0x0",
        "transactionHash": "0x" + "ab" * 32,
        "address": "0x" + "12" * 20,
        "topics": [spec.topic0, *("0x" + t.hex() for t in indexed)],
        "data": "0x" + data.hex(),
    }


@given(
    amount=st.integers(min_value=1, max_value=2**63),
    balance=st.integers(min_value=0, max_value=2**63),
    period=st.integers(min_value=1900, max_value=9999).map(lambda y: y * 100 + 7),
    estate=st.binary(min_size=32, max_size=32),
)
def test_a_fund_deposit_decodes_to_its_amount_balance_and_booking_month(
    amount, balance, period, estate
):
    spec = _spec("MaintenanceFund", "BatchDeposited")
    log = _log(
        spec,
        [(3).to_bytes(32, "big"), estate, (2).to_bytes(32, "big")],
        encode(
            ["uint256", "uint256", "uint256", "uint256", "bytes32"],
            [period, 4, amount, balance, b"\0" * 32],
        ),
    )
    event = decode_log(log, Names())
    m = event.meaning
    assert (event.contract, event.name) == ("MaintenanceFund", "BatchDeposited")
    assert (m.amount_fen, m.balance_fen, m.direction, m.period) == (amount, balance, 1, period)
    assert m.estate == "0x" + estate.hex() and event.estate == m.estate
    assert yuan(amount) in m.zh and "续筹" in m.zh and "top-up" in m.en


@given(st.integers(min_value=-(10**18), max_value=10**18))
def test_yuan_text_is_exact_integer_fen(fen):
    text = yuan(fen)
    digits = text.replace("¥", "").replace(",", "").replace(".", "")
    assert int(digits) == fen and text.count(".") == 1 and len(text.split(".")[1]) == 2


def test_an_unknown_event_is_kept_as_raw_data():
    log = {
        "blockNumber": "0x1",
        "logIndex": "0x0",
        "transactionHash": "0x" + "cd" * 32,
        "address": "0x" + "34" * 20,
        "topics": ["0x" + "99" * 32],
        "data": "0x1234",
    }
    event = decode_log(log, Names())
    assert event.category == "other" and event.args == {"data": "0x1234"}
    assert "未知事件" in event.meaning.zh


def test_every_registered_meaning_names_an_event_of_a_contract():
    events = {
        (name, item["name"])
        for name, abi in contract_abis().items()
        for item in abi
        if item.get("type") == "event"
    }
    assert set(DESCRIBERS) <= events, set(DESCRIBERS) - events
