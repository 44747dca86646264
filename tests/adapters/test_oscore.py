"""Payload protection modelled on RFC 8613: nonces, AAD, replay window, batch signatures."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wuye import crypto
from wuye.adapters import oscore

TOPIC = "wuye/t/e/WM-1/telemetry"


def _pair(secret: bytes | None = None, code: str = "WM-1"):
    secret = secret or os.urandom(16)
    sender, _ = oscore.device_contexts(secret, code)
    common = oscore.CommonContext(secret, code.encode())
    return sender, oscore.RecipientContext(common, oscore.DEVICE_SENDER_ID)


@given(body=st.binary(max_size=300), seq=st.integers(0, oscore.MAX_SEQ))
@settings(max_examples=60, deadline=None)
def test_any_body_and_sequence_number_round_trips(body, seq):
    secret = b"k" * 16
    sender, _ = oscore.device_contexts(secret, "WM-1", next_seq=seq)
    recipient = oscore.RecipientContext(
        oscore.CommonContext(secret, b"WM-1"), oscore.DEVICE_SENDER_ID
    )
    message = recipient.unprotect(sender.protect(body, TOPIC), TOPIC)
    assert (message.seq, message.body, message.signature) == (seq, body, None)


def test_the_nonce_differs_for_every_sequence_number_and_sender():
    iv = oscore.CommonContext(b"s" * 16, b"x").common_iv
    nonces = {oscore._nonce(iv, sid, seq) for sid in (b"\x00", b"\x01") for seq in range(500)}
    assert len(nonces) == 1000


def test_a_tampered_byte_anywhere_is_rejected_as_auth_failed():
    sender, recipient = _pair()
    data = bytearray(sender.protect(b'{"ts":1}', TOPIC))
    for i in range(len(data)):
        tampered = bytes(data[:i]) + bytes([data[i] ^ 0x01]) + bytes(data[i + 1 :])
        with pytest.raises(oscore.Rejected) as info:
            recipient.unprotect(tampered, TOPIC)
        assert info.value.reason in {"auth_failed", "malformed"}
    assert recipient.unprotect(bytes(data), TOPIC).body == b'{"ts":1}'


def test_a_message_under_another_key_is_rejected_as_auth_failed():
    forger, _ = _pair()
    _, recipient = _pair()
    with pytest.raises(oscore.Rejected, match="auth_failed"):
        recipient.unprotect(forger.protect(b"x", TOPIC), TOPIC)


def test_a_message_moved_to_another_topic_is_rejected():
    sender, recipient = _pair()
    data = sender.protect(b"x", TOPIC)
    with pytest.raises(oscore.Rejected, match="auth_failed"):
        recipient.unprotect(data, "wuye/t/e/WM-2/telemetry")


def test_a_replayed_message_is_rejected_and_the_original_still_counts_once():
    sender, recipient = _pair()
    data = sender.protect(b"x", TOPIC)
    recipient.unprotect(data, TOPIC)
    with pytest.raises(oscore.Rejected, match="replayed"):
        recipient.unprotect(data, TOPIC)


def test_out_of_order_messages_inside_the_window_are_accepted_once():
    sender, recipient = _pair()
    messages = [sender.protect(bytes([i]), TOPIC) for i in range(10)]
    for i in (9, 3, 0, 5, 1, 2, 4, 6, 8, 7):
        assert recipient.unprotect(messages[i], TOPIC).seq == i
    with pytest.raises(oscore.Rejected, match="replayed"):
        recipient.unprotect(messages[3], TOPIC)


def test_a_message_left_of_the_window_is_stale():
    sender, recipient = _pair()
    old = sender.protect(b"old", TOPIC)
    for _ in range(oscore.REPLAY_WINDOW + 1):
        recipient.unprotect(sender.protect(b"new", TOPIC), TOPIC)
    with pytest.raises(oscore.Rejected, match="stale"):
        recipient.unprotect(old, TOPIC)


def test_a_window_restored_after_restart_rejects_everything_up_to_its_edge():
    window = oscore.ReplayWindow(high=100)
    for seq in (100, 99, 37):
        with pytest.raises(oscore.Rejected):
            window.check(seq)
    window.check(101)


def test_a_replay_is_checked_only_after_authentication_advances_the_window():
    sender, recipient = _pair()
    forged, _ = _pair()
    with pytest.raises(oscore.Rejected, match="auth_failed"):
        recipient.unprotect(forged.protect(b"x", TOPIC), TOPIC)
    assert recipient.unprotect(sender.protect(b"y", TOPIC), TOPIC).seq == 0


def test_a_signed_batch_carries_a_verifiable_sm2_signature():
    key = crypto.SM2PrivateKey.generate()
    secret = os.urandom(16)
    sender, _ = oscore.device_contexts(secret, "WM-1")
    recipient = oscore.RecipientContext(
        oscore.CommonContext(secret, b"WM-1"),
        oscore.DEVICE_SENDER_ID,
        signer_public_key=key.public_key,
    )
    message = recipient.unprotect(sender.protect(b"batch", TOPIC, signer=key), TOPIC)
    assert message.body == b"batch"
    key.public_key.verify(
        message.signature, oscore.batch_signing_input(TOPIC.encode(), b"\x00", b"batch")
    )


def test_a_batch_signed_by_another_key_is_rejected_as_bad_signature():
    secret = os.urandom(16)
    sender, _ = oscore.device_contexts(secret, "WM-1")
    recipient = oscore.RecipientContext(
        oscore.CommonContext(secret, b"WM-1"),
        oscore.DEVICE_SENDER_ID,
        signer_public_key=crypto.SM2PrivateKey.generate().public_key,
    )
    data = sender.protect(b"batch", TOPIC, signer=crypto.SM2PrivateKey.generate())
    with pytest.raises(oscore.Rejected, match="bad_signature"):
        recipient.unprotect(data, TOPIC)


@given(st.binary(max_size=40))
@settings(max_examples=200, deadline=None)
def test_arbitrary_bytes_are_rejected_never_crash(data):
    _, recipient = _pair(b"z" * 16)
    with pytest.raises(oscore.Rejected):
        recipient.unprotect(data, TOPIC)


COMMANDS = "wuye/t/e/WM-1/commands"
RESULTS = "wuye/t/e/WM-1/commands/result"


def test_a_command_round_trips_platform_to_device_and_its_answer_back():
    secret = os.urandom(16)
    platform_sender, platform_recipient = oscore.platform_contexts(secret, "WM-1")
    device_sender, device_recipient = oscore.device_contexts(secret, "WM-1")
    command = device_recipient.unprotect(platform_sender.protect(b"open", COMMANDS), COMMANDS)
    answer = device_sender.protect_response(
        b"ok", RESULTS, request_kid=oscore.PLATFORM_SENDER_ID, request_seq=command.seq
    )
    assert oscore.response_request_seq(answer) == command.seq
    body = platform_recipient.unprotect_response(
        answer, RESULTS, request_kid=oscore.PLATFORM_SENDER_ID
    )
    assert (command.body, body) == (b"open", b"ok")


def test_answers_and_telemetry_never_share_a_nonce_under_the_devices_key():
    """The device's key protects its telemetry (its own numbers) and its answers (the
    platform's numbers, with the platform's Sender ID in the nonce): disjoint nonces."""
    iv = oscore.CommonContext(b"s" * 16, b"WM-1").common_iv
    telemetry = {oscore._nonce(iv, oscore.DEVICE_SENDER_ID, n) for n in range(2000)}
    answers = {oscore._nonce(iv, oscore.PLATFORM_SENDER_ID, n) for n in range(2000)}
    assert not telemetry & answers


def test_an_answer_cannot_pass_for_a_request_nor_a_request_for_an_answer():
    secret = os.urandom(16)
    platform_sender, platform_recipient = oscore.platform_contexts(secret, "WM-1")
    device_sender, device_recipient = oscore.device_contexts(secret, "WM-1")
    answer = device_sender.protect_response(
        b"ok", COMMANDS, request_kid=oscore.PLATFORM_SENDER_ID, request_seq=0
    )
    with pytest.raises(oscore.Rejected) as as_request:
        device_recipient.unprotect(answer, COMMANDS)
    with pytest.raises(oscore.Rejected) as as_answer:
        platform_recipient.unprotect_response(
            platform_sender.protect(b"open", COMMANDS),
            COMMANDS,
            request_kid=oscore.PLATFORM_SENDER_ID,
        )
    assert as_request.value.reason == as_answer.value.reason == "malformed"


def test_a_window_that_trusts_an_outside_record_refuses_only_what_is_left_of_it():
    window = oscore.ReplayWindow(high=100, edge_seen=False)
    window.check(99)  # the record of accepted messages decides about this one
    with pytest.raises(oscore.Rejected) as stale:
        window.check(100 - oscore.REPLAY_WINDOW)
    assert stale.value.reason == "stale"
