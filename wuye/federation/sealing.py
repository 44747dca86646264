"""Sealing small secrets at rest (signing keys, contact phone numbers) under a key-
encryption key derived from the platform secret.

New seals use SM4-GCM from :mod:`wuye.crypto` when that package provides
``seal``/``open_sealed``; until then AES-256-GCM from ``cryptography``. Every
sealed value starts with the name of its scheme, so values sealed under either
open again after the switch.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_AES = b"a256gcm:"
_SM4 = b"sm4gcm:"


def derive_key(secret: bytes, label: str, length: int = 32) -> bytes:
    """A purpose-bound key from the platform secret (HKDF-Expand, RFC 5869, one block)."""
    prk = hmac.new(b"wuye/federation", secret, hashlib.sha256).digest()
    return hmac.new(prk, label.encode() + b"\x01", hashlib.sha256).digest()[:length]


def _crypto() -> Any | None:
    try:
        import wuye.crypto as crypto
    except ImportError:
        return None
    if hasattr(crypto, "seal") and hasattr(crypto, "open_sealed"):
        return crypto
    return None


def seal(secret: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt and authenticate ``plaintext``, bound to ``aad`` (e.g. the row's id)."""
    crypto = _crypto()
    if crypto is not None:
        return _SM4 + crypto.seal(derive_key(secret, "kek/sm4", 16), plaintext, aad)
    nonce = os.urandom(12)
    box = AESGCM(derive_key(secret, "kek/aes")).encrypt(nonce, plaintext, aad)
    return _AES + nonce + box


def open_sealed(secret: bytes, sealed: bytes, aad: bytes) -> bytes:
    """The plaintext of :func:`seal`; raises if the value or ``aad`` was tampered with."""
    if sealed.startswith(_SM4):
        crypto = _crypto()
        if crypto is None:
            raise RuntimeError("value sealed with SM4-GCM but wuye.crypto.seal is unavailable")
        return crypto.open_sealed(derive_key(secret, "kek/sm4", 16), sealed[len(_SM4) :], aad)
    if sealed.startswith(_AES):
        body = sealed[len(_AES) :]
        return AESGCM(derive_key(secret, "kek/aes")).decrypt(body[:12], body[12:], aad)
    raise ValueError("unknown sealing scheme")
