"""Telemetry payload protection modelled on OSCORE (RFC 8613), with SM4-GCM and SM3.

OSCORE protects CoAP messages end to end, independently of the transport.
wuye applies the same construction to MQTT payloads, with the 国密 algorithms
in place of AES-CCM and HKDF:

* Security context (RFC 8613, 3): a Common Context (master secret, ID
  Context, Common IV), a Sender Context (Sender ID, Sender Key, Sender
  Sequence Number) and a Recipient Context (Recipient ID, Recipient Key,
  Replay Window). Keys and the Common IV are derived from the master secret
  (3.2.1), here with the SM3 KDF of GB/T 32918.4 instead of HKDF.
* AEAD nonce (5.2): the Partial IV (the sender sequence number) left-padded
  to 5 bytes, the Sender ID left-padded to ``nonce_length - 6`` bytes and its
  length, XORed with the Common IV. SM4-GCM's nonce is 12 bytes.
* Additional authenticated data (5.4): version, algorithm, the request's
  Sender ID ("request_kid") and Partial IV ("request_piv"), and here also the
  MQTT topic, so a payload cannot be replayed on another device's topic.
* Message layout (6.1): a flag byte whose low three bits give the Partial
  IV's length ``n``, then the Partial IV, then the ciphertext with its tag.
  Bit ``0x20`` (unused in RFC 8613's option value) marks a payload whose
  plaintext carries an SM2 signature over the batch, for non-repudiation
  (操作抗抵赖).
* Replay protection (7.4): "the recipient MUST verify that the Partial IV
  has not been received before"; a sliding window of :data:`REPLAY_WINDOW`
  sequence numbers, updated only after the message verified.
* Sequence numbers (7.2.1): the sender "MUST NOT" reuse one; it stops at
  2**40 - 1 (the largest 5-byte Partial IV).
* Both directions (3.1): one context per device, two Sender IDs. The device
  sends telemetry under its key and numbers; the platform sends commands
  under its own key and numbers (``devices.tx_seq``), so the two directions
  never share a key, let alone a nonce. The device answers a command as an
  OSCORE response (8.3): under its key, with the command's nonce (which
  carries the platform's Sender ID, so it never meets a telemetry nonce), the
  command's Partial IV in clear after a flag byte with bit ``0x40``, and in
  the AAD; the platform accepts one answer per command it sent.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from wuye import crypto
from wuye.crypto import sm4

try:  # the per-key SM4-GCM object, reusing one cipher context per key
    from wuye.crypto.sm4 import SM4GCM as _AEAD
except ImportError:  # pragma: no cover - only on a crypto package without it

    class _AEAD:  # type: ignore[no-redef]
        def __init__(self, key: bytes) -> None:
            self._key = key

        def encrypt(self, nonce: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
            return sm4.sm4_gcm_encrypt(self._key, nonce, plaintext, aad)

        def decrypt(self, nonce: bytes, data: bytes, aad: bytes = b"") -> bytes:
            return sm4.sm4_gcm_decrypt(self._key, nonce, data, aad)


VERSION = 1
#: Algorithm identifier in the AAD: SM4-GCM with a 16-byte tag, SM3 KDF.
ALGORITHM = b"SM4-GCM-128/SM3"
NONCE_LENGTH = 12
KEY_LENGTH = 16
MAX_SEQ = 2**40 - 1
#: Replay window size (RFC 8613, 7.4 suggests a default of 32).
REPLAY_WINDOW = 64
FLAG_SIGNED = 0x20
#: Bit ``0x40`` marks a response: the Partial IV that follows is the request's (RFC 8613, 8.3).
FLAG_RESPONSE = 0x40
_FLAG_PIV_MASK = 0x07
#: Sender IDs within a device's context: the device, and the platform (for commands).
DEVICE_SENDER_ID = b"\x01"
PLATFORM_SENDER_ID = b"\x00"
_SIG_LEN = struct.Struct(">H")


class Rejected(Exception):
    """A message that must not be processed, and why (a stable counter name)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason


def _derive(
    master_secret: bytes, id_context: bytes, kind: bytes, ident: bytes, length: int
) -> bytes:
    """RFC 8613, 3.2.1: ``info = [id, id_context, alg_aead, type, L]``, SM3 KDF for HKDF."""
    info = b"".join(
        struct.pack(">H", len(part)) + part for part in (ident, id_context, ALGORITHM, kind)
    )
    return crypto.sm3_kdf(master_secret + info + struct.pack(">H", length), length)


@dataclass(frozen=True, slots=True)
class CommonContext:
    master_secret: bytes
    id_context: bytes  # the device's code: one context per device

    @property
    def common_iv(self) -> bytes:
        return _derive(self.master_secret, self.id_context, b"IV", b"", NONCE_LENGTH)

    def key_for(self, sender_id: bytes) -> bytes:
        return _derive(self.master_secret, self.id_context, b"Key", sender_id, KEY_LENGTH)


def _nonce_base(common_iv: bytes, sender_id: bytes) -> int:
    """The Common IV XOR the padded Sender ID: XOR the Partial IV into it for a nonce."""
    id_piv = bytes([len(sender_id)]) + sender_id.rjust(NONCE_LENGTH - 6, b"\0")
    return int.from_bytes(id_piv + bytes(5), "big") ^ int.from_bytes(common_iv, "big")


def _nonce(common_iv: bytes, sender_id: bytes, seq: int) -> bytes:
    """RFC 8613, 5.2: pad ID and PIV, XOR with the Common IV."""
    return (_nonce_base(common_iv, sender_id) ^ seq).to_bytes(NONCE_LENGTH, "big")


def _aad(sender_id: bytes, piv: bytes, topic: bytes, flags: int) -> bytes:
    """RFC 8613, 5.4 (external_aad), plus the topic and the flag byte."""
    head = bytes([VERSION, flags, len(sender_id)])
    return b"".join((head, sender_id, bytes([len(piv)]), piv, ALGORITHM, topic))


def _piv_bytes(seq: int) -> bytes:
    """The shortest big-endian encoding, at least one byte (RFC 8613, 6.1)."""
    return seq.to_bytes(max(1, (seq.bit_length() + 7) // 8), "big")


def batch_signing_input(topic: bytes, piv: bytes, body: bytes) -> bytes:
    return b"wuye-batch/1\0" + topic + b"\0" + piv + body


class SenderContext:
    """Protects outgoing messages under one sender key, numbering them."""

    def __init__(self, common: CommonContext, sender_id: bytes, *, next_seq: int = 0) -> None:
        self.sender_id = sender_id
        self._aead = _AEAD(common.key_for(sender_id))
        self._iv = common.common_iv
        self.seq = next_seq

    def protect(
        self, body: bytes, topic: str | bytes, *, signer: crypto.SM2PrivateKey | None = None
    ) -> bytes:
        seq = self.seq
        if seq > MAX_SEQ:
            raise crypto.CryptoError("sender sequence numbers exhausted: re-provision the device")
        self.seq = seq + 1
        return protect_with(self._aead, self._iv, self.sender_id, seq, body, topic, signer=signer)

    def protect_response(
        self, body: bytes, topic: str | bytes, *, request_kid: bytes, request_seq: int
    ) -> bytes:
        """Answer request ``request_seq`` of ``request_kid`` (RFC 8613, 8.3).

        The response takes no sequence number of its own: its nonce is the
        request's, under this (the responder's) Sender Key. That nonce is fresh
        for this key because it carries the requester's Sender ID, never this
        sender's, and a responder answers each request once (its replay window
        refuses the request a second time; a cached answer is resent as is).
        """
        topic_b = topic.encode() if isinstance(topic, str) else topic
        piv = _piv_bytes(request_seq)
        flags = FLAG_RESPONSE | len(piv)
        ciphertext = self._aead.encrypt(
            _nonce(self._iv, request_kid, request_seq),
            body,
            _aad(request_kid, piv, topic_b, flags),
        )
        return bytes([flags]) + piv + ciphertext


def protect_with(
    aead: _AEAD,
    common_iv: bytes,
    sender_id: bytes,
    seq: int,
    body: bytes,
    topic: str | bytes,
    *,
    signer: crypto.SM2PrivateKey | None = None,
) -> bytes:
    """Protect ``body`` as message number ``seq`` (callers own the numbering)."""
    topic_b = topic.encode() if isinstance(topic, str) else topic
    piv = _piv_bytes(seq)
    flags = len(piv)
    plaintext = body
    if signer is not None:
        flags |= FLAG_SIGNED
        signature = signer.sign(batch_signing_input(topic_b, piv, body))
        plaintext = _SIG_LEN.pack(len(signature)) + signature + body
    ciphertext = aead.encrypt(
        _nonce(common_iv, sender_id, seq), plaintext, _aad(sender_id, piv, topic_b, flags)
    )
    return bytes([flags]) + piv + ciphertext


class ReplayWindow:
    """RFC 8613, 7.4: accept each sequence number once, and none left of the window."""

    __slots__ = ("high", "_seen", "size")

    def __init__(
        self, high: int = -1, size: int = REPLAY_WINDOW, *, edge_seen: bool = True
    ) -> None:
        # After a restart everything at or below the persisted high is taken as
        # seen (RFC 8613, 7.5.1: a recipient that lost its window must not accept
        # old numbers again). ``edge_seen=False`` is for a recipient that keeps
        # the numbers it accepted elsewhere (the ingest's ``telemetry_messages``
        # table): only numbers left of the window are refused here, and the
        # record decides about the rest.
        self.high = high
        self.size = size
        self._seen = (1 << size) - 1 if high >= 0 and edge_seen else 0

    def check(self, seq: int) -> None:
        if seq > self.high:
            return
        if seq <= self.high - self.size:
            raise Rejected("stale", f"sequence number {seq} is left of the replay window")
        if self._seen >> (self.high - seq) & 1:
            raise Rejected("replayed", f"sequence number {seq} was already received")

    def accept(self, seq: int) -> None:
        if seq > self.high:
            shift = seq - self.high
            self._seen = ((self._seen << shift) | 1) & ((1 << self.size) - 1)
            self.high = seq
        else:
            self._seen |= 1 << (self.high - seq)


@dataclass(slots=True)
class Unprotected:
    seq: int
    body: bytes
    signature: bytes | None


class RecipientContext:
    """Verifies incoming messages of one sender: decrypts, checks replay, then accepts."""

    def __init__(
        self,
        common: CommonContext,
        sender_id: bytes,
        *,
        window: ReplayWindow | None = None,
        signer_public_key: crypto.SM2PublicKey | None = None,
    ) -> None:
        self.sender_id = sender_id
        self._aead = _AEAD(common.key_for(sender_id))
        self._iv = common.common_iv
        self.window = window or ReplayWindow()
        self.signer_public_key = signer_public_key
        self._nonce_base = _nonce_base(self._iv, sender_id)

    def unprotect(self, data: bytes, topic: str | bytes) -> Unprotected:
        """Return the verified body, or raise :class:`Rejected` with the reason."""
        if len(data) < 2 + sm4.SM4_GCM_TAG_SIZE:
            raise Rejected("malformed", "payload shorter than a header and a tag")
        flags = data[0]
        n = flags & _FLAG_PIV_MASK
        if n == 0 or n > 5 or flags & ~(_FLAG_PIV_MASK | FLAG_SIGNED):
            raise Rejected("malformed", f"bad flag byte {flags:#04x}")
        piv = data[1 : 1 + n]
        seq = int.from_bytes(piv, "big")
        self.window.check(seq)
        topic_b = topic.encode() if isinstance(topic, str) else topic
        try:
            plaintext = self._aead.decrypt(
                (self._nonce_base ^ seq).to_bytes(NONCE_LENGTH, "big"),
                data[1 + n :],
                _aad(self.sender_id, piv, topic_b, flags),
            )
        except crypto.CryptoError:
            raise Rejected(
                "auth_failed", "forged or tampered: the SM4-GCM tag does not verify"
            ) from None
        signature = None
        body = plaintext
        if flags & FLAG_SIGNED:
            if len(plaintext) < 2:
                raise Rejected("malformed", "signed payload without a signature")
            (length,) = _SIG_LEN.unpack_from(plaintext)
            signature, body = plaintext[2 : 2 + length], plaintext[2 + length :]
            if self.signer_public_key is None:
                raise Rejected("bad_signature", "device has no registered SM2 public key")
            try:
                self.signer_public_key.verify(signature, batch_signing_input(topic_b, piv, body))
            except crypto.CryptoError:
                raise Rejected(
                    "bad_signature", "the batch's SM2 signature does not verify"
                ) from None
        self.window.accept(seq)
        return Unprotected(seq, body, signature)

    def unprotect_response(self, data: bytes, topic: str | bytes, *, request_kid: bytes) -> bytes:
        """Verify an answer to one of ``request_kid``'s requests; returns its body.

        The caller first looks the request up by :func:`response_request_seq` and
        accepts one answer per outstanding request: that is the replay protection
        of responses (RFC 8613, 7.4: a response is bound to its request).
        """
        request_seq = response_request_seq(data)
        piv = data[1 : 1 + (data[0] & _FLAG_PIV_MASK)]
        topic_b = topic.encode() if isinstance(topic, str) else topic
        try:
            return self._aead.decrypt(
                _nonce(self._iv, request_kid, request_seq),
                data[1 + len(piv) :],
                _aad(request_kid, piv, topic_b, data[0]),
            )
        except crypto.CryptoError:
            raise Rejected(
                "auth_failed", "forged or tampered: the SM4-GCM tag does not verify"
            ) from None


def response_request_seq(data: bytes) -> int:
    """The request sequence number a response answers (carried in clear, bound by the AAD)."""
    if len(data) < 2 + sm4.SM4_GCM_TAG_SIZE:
        raise Rejected("malformed", "payload shorter than a header and a tag")
    flags = data[0]
    n = flags & _FLAG_PIV_MASK
    if not flags & FLAG_RESPONSE or n == 0 or n > 5 or flags & ~(_FLAG_PIV_MASK | FLAG_RESPONSE):
        raise Rejected("malformed", f"not a response: flag byte {flags:#04x}")
    return int.from_bytes(data[1 : 1 + n], "big")


def platform_contexts(
    master_secret: bytes, code: str, *, next_seq: int = 0, window: ReplayWindow | None = None
) -> tuple[SenderContext, RecipientContext]:
    """The platform's side of a device: it sends commands, and receives telemetry and answers."""
    common = CommonContext(master_secret, code.encode())
    return (
        SenderContext(common, PLATFORM_SENDER_ID, next_seq=next_seq),
        RecipientContext(common, DEVICE_SENDER_ID, window=window),
    )


def device_contexts(
    master_secret: bytes, code: str, *, next_seq: int = 0
) -> tuple[SenderContext, RecipientContext]:
    """The device's side: it sends telemetry, and receives the platform's commands."""
    common = CommonContext(master_secret, code.encode())
    return (
        SenderContext(common, DEVICE_SENDER_ID, next_seq=next_seq),
        RecipientContext(common, PLATFORM_SENDER_ID),
    )
