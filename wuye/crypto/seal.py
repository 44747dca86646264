"""Sealed blobs: SM4-GCM encryption at rest under a key-encryption key (KEK).

The platform keeps personal data (phone and ID card numbers, GB/T 35273) and
SM2 private keys encrypted with SM4 (GB/T 32907) under a KEK from settings.
A sealed blob is self-describing and versioned, so the format can change
without ambiguity:

    version 1:  0x01 || nonce (12 random bytes) || SM4-GCM ciphertext || tag (16)

The GCM associated data is the version byte followed by the caller's ``aad``,
which should name what the blob is and whom it belongs to (for example
``b"owner:42:phone"``), so a blob copied into another row or field fails to open.

Nonces are random; SP 800-38D, 8.3 limits one key to 2**32 random-nonce
encryptions, far beyond what one KEK seals before it is rotated.
"""

from __future__ import annotations

import os

from wuye.crypto._util import require_bytes, require_length
from wuye.crypto.errors import MalformedInputError
from wuye.crypto.sm2 import SM2PrivateKey
from wuye.crypto.sm4 import (
    SM4_GCM_NONCE_SIZE,
    SM4_GCM_TAG_SIZE,
    SM4_KEY_SIZE,
    sm4_gcm_decrypt,
    sm4_gcm_encrypt,
)

__all__ = [
    "SEAL_VERSION",
    "generate_kek",
    "open_private_key",
    "open_sealed",
    "seal",
    "seal_private_key",
]

#: The version byte :func:`seal` writes.
SEAL_VERSION = 1
_HEADER = bytes([SEAL_VERSION])
_MIN_LENGTH = len(_HEADER) + SM4_GCM_NONCE_SIZE + SM4_GCM_TAG_SIZE
_PRIVATE_KEY_AAD = b"wuye:sm2-private-key:pkcs8"


def generate_kek() -> bytes:
    """Return a fresh random 16-byte SM4 key, e.g. for a new KEK in settings."""
    return os.urandom(SM4_KEY_SIZE)


def seal(kek: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    """Encrypt ``plaintext`` under ``kek`` into a version-1 sealed blob.

    ``aad`` is authenticated, not stored: the same ``aad`` must be passed to
    :func:`open_sealed`.
    """
    kek = require_length("KEK", kek, SM4_KEY_SIZE)
    aad = require_bytes("aad", aad)
    nonce = os.urandom(SM4_GCM_NONCE_SIZE)
    return _HEADER + nonce + sm4_gcm_encrypt(kek, nonce, plaintext, _HEADER + aad)


def open_sealed(kek: bytes, blob: bytes, aad: bytes = b"") -> bytes:
    """Check and decrypt a sealed blob made by :func:`seal` with the same ``kek`` and ``aad``.

    Raises:
        MalformedInputError: wrong KEK length, a truncated blob or an unknown version.
        AuthenticationFailedError: wrong KEK or ``aad``, or the blob was altered.
    """
    kek = require_length("KEK", kek, SM4_KEY_SIZE)
    blob = require_bytes("sealed blob", blob)
    aad = require_bytes("aad", aad)
    if len(blob) < _MIN_LENGTH:
        raise MalformedInputError(
            f"sealed blob is truncated: {len(blob)} bytes, needs at least {_MIN_LENGTH}"
        )
    if blob[0] != SEAL_VERSION:
        raise MalformedInputError(f"sealed blob has unknown version {blob[0]}")
    header, nonce = blob[:1], blob[1 : 1 + SM4_GCM_NONCE_SIZE]
    return sm4_gcm_decrypt(kek, nonce, blob[1 + SM4_GCM_NONCE_SIZE :], header + aad)


def seal_private_key(key: SM2PrivateKey, kek: bytes) -> bytes:
    """Seal an SM2 private key (its PKCS#8 DER form) under ``kek`` for storage."""
    if not isinstance(key, SM2PrivateKey):
        raise MalformedInputError("key must be an SM2PrivateKey")
    return seal(kek, key.to_der(), _PRIVATE_KEY_AAD)


def open_private_key(blob: bytes, kek: bytes) -> SM2PrivateKey:
    """Open a blob made by :func:`seal_private_key` and load the key.

    Raises:
        AuthenticationFailedError: wrong KEK, or the blob is not a sealed private key.
        MalformedInputError: a truncated blob or an unknown version.
    """
    return SM2PrivateKey.from_der(open_sealed(kek, blob, _PRIVATE_KEY_AAD))
