"""Consensus messages: signed envelopes that survive the wire and refuse any tampering."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wuye import crypto
from wuye.ledger.messages import KINDS, BadMessage, Commit, Prepare, decode

KEY = crypto.SM2PrivateKey.generate()
ME = KEY.public_key.to_hex().lower()
hex32 = st.binary(min_size=32, max_size=32).map(bytes.hex)


@settings(max_examples=25, deadline=None)
@given(height=st.integers(1, 2**40), round_=st.integers(0, 64), block_hash=hex32)
def test_signed_prepare_round_trips(height: int, round_: int, block_hash: str) -> None:
    message = Prepare(height, round_, ME, {"hash": block_hash}).sign(KEY)
    decoded = decode(message.to_json())
    assert isinstance(decoded, Prepare)
    assert (decoded.height, decoded.round, decoded.block_hash.hex()) == (height, round_, block_hash)


@settings(max_examples=25, deadline=None)
@given(field=st.sampled_from(["height", "round", "hash"]), delta=st.integers(1, 1000))
def test_any_change_to_a_signed_message_is_refused(field: str, delta: int) -> None:
    data = Prepare(5, 1, ME, {"hash": "ab" * 32}).sign(KEY).to_json()
    if field == "hash":
        data["body"]["hash"] = format((int(data["body"]["hash"], 16) + delta) % 2**256, "064x")
    else:
        data[field] += delta
    with pytest.raises(BadMessage):
        decode(data)


def test_message_signed_by_another_key_is_refused() -> None:
    other = crypto.SM2PrivateKey.generate()
    data = Commit(1, 0, ME, {"hash": "00" * 32, "digest": "11" * 32, "seal": "22"}).sign(other)
    with pytest.raises(BadMessage, match="bad commit signature"):
        decode(data.to_json())


@pytest.mark.parametrize("payload", [None, [], {"kind": "vote"}, {"kind": "prepare"}])
def test_malformed_messages_are_refused(payload: object) -> None:
    with pytest.raises(BadMessage):
        decode(payload)


def test_every_kind_is_registered_once() -> None:
    assert set(KINDS) == {"proposal", "prepare", "commit", "round_change"}
