"""SM4 block cipher (GB/T 32907-2016) in the modes the platform uses.

- SM4-GCM (NIST SP 800-38D with SM4 as the block cipher, as RFC 8998 profiles
  it for TLS): the default for anything new, including device payloads and
  personal data at rest (see :mod:`wuye.crypto.seal`).
- SM4-CBC with PKCS#7 padding (GB/T 17964-2021 CBC mode): only for exchanging
  data with older systems that know nothing else. CBC is not authenticated;
  pair it with HMAC-SM3 (encrypt-then-MAC) when the data can be tampered with.
- The bare block cipher, for conformance with the standard's examples.

Everything runs in OpenSSL through ``cryptography``.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from wuye.crypto._util import require_bytes, require_length
from wuye.crypto.errors import AuthenticationFailedError, MalformedInputError

__all__ = [
    "SM4_BLOCK_SIZE",
    "SM4_GCM_NONCE_SIZE",
    "SM4_GCM_TAG_SIZE",
    "SM4_KEY_SIZE",
    "SM4BlockCipher",
    "sm4_cbc_decrypt",
    "sm4_cbc_encrypt",
    "sm4_gcm_decrypt",
    "sm4_gcm_encrypt",
]

#: SM4 key length in bytes (GB/T 32907-2016, clause 5: a 128-bit key).
SM4_KEY_SIZE = 16
#: SM4 block length in bytes (GB/T 32907-2016, clause 5: 128-bit blocks).
SM4_BLOCK_SIZE = 16
#: GCM nonce length in bytes: 96 bits, the length SP 800-38D 5.2.1.1 recommends
#: and RFC 8998 section 3.1 mandates for SM4-GCM.
SM4_GCM_NONCE_SIZE = 12
#: GCM tag length in bytes: the full 128 bits (RFC 8998 section 3.1).
SM4_GCM_TAG_SIZE = 16


def _sm4(key: object) -> algorithms.SM4:
    return algorithms.SM4(require_length("SM4 key", key, SM4_KEY_SIZE))


def sm4_gcm_encrypt(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    """Encrypt and authenticate with SM4-GCM; return ciphertext followed by the 16-byte tag.

    ``nonce`` is 12 bytes and must never repeat under one key: a repeated GCM
    nonce reveals the XOR of the plaintexts and lets an attacker forge tags
    (SP 800-38D, 8.2). ``aad`` is authenticated but not encrypted.
    """
    algorithm = _sm4(key)
    nonce = require_length("SM4-GCM nonce", nonce, SM4_GCM_NONCE_SIZE)
    plaintext = require_bytes("plaintext", plaintext)
    aad = require_bytes("aad", aad)
    encryptor = Cipher(algorithm, modes.GCM(nonce)).encryptor()
    if aad:
        encryptor.authenticate_additional_data(aad)
    ciphertext = encryptor.update(plaintext) + encryptor.finalize()
    return ciphertext + encryptor.tag


def sm4_gcm_decrypt(key: bytes, nonce: bytes, data: bytes, aad: bytes = b"") -> bytes:
    """Check and decrypt SM4-GCM ``data`` (ciphertext followed by the 16-byte tag).

    Raises:
        AuthenticationFailedError: key, nonce, ``aad``, ciphertext or tag is wrong.
        MalformedInputError: wrong key or nonce length, or ``data`` shorter than a tag.
    """
    algorithm = _sm4(key)
    nonce = require_length("SM4-GCM nonce", nonce, SM4_GCM_NONCE_SIZE)
    data = require_bytes("data", data)
    aad = require_bytes("aad", aad)
    if len(data) < SM4_GCM_TAG_SIZE:
        raise MalformedInputError(
            f"SM4-GCM data is truncated: {len(data)} bytes, shorter than the "
            f"{SM4_GCM_TAG_SIZE}-byte tag"
        )
    ciphertext, tag = data[:-SM4_GCM_TAG_SIZE], data[-SM4_GCM_TAG_SIZE:]
    decryptor = Cipher(algorithm, modes.GCM(nonce, tag)).decryptor()
    if aad:
        decryptor.authenticate_additional_data(aad)
    plaintext = decryptor.update(ciphertext)
    try:
        return plaintext + decryptor.finalize()
    except InvalidTag:
        raise AuthenticationFailedError("SM4-GCM authentication failed") from None


def sm4_cbc_encrypt(key: bytes, iv: bytes, plaintext: bytes) -> bytes:
    """Encrypt with SM4-CBC after PKCS#7 padding (RFC 5652, 6.3), for older systems.

    ``iv`` is 16 bytes and must be unpredictable for every message (GB/T
    17964-2021, CBC mode); the output is always a whole number of blocks, one
    more than ``len(plaintext) // 16``.
    """
    algorithm = _sm4(key)
    iv = require_length("SM4-CBC IV", iv, SM4_BLOCK_SIZE)
    padder = padding.PKCS7(SM4_BLOCK_SIZE * 8).padder()
    padded = padder.update(require_bytes("plaintext", plaintext)) + padder.finalize()
    encryptor = Cipher(algorithm, modes.CBC(iv)).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


def sm4_cbc_decrypt(key: bytes, iv: bytes, ciphertext: bytes) -> bytes:
    """Decrypt SM4-CBC and strip PKCS#7 padding.

    CBC has no integrity: a wrong key usually, but not always, shows up as bad
    padding. Authenticate the ciphertext before decrypting it where it matters.

    Raises:
        MalformedInputError: wrong key or IV length, a ciphertext that is empty or
            not a whole number of blocks, or invalid padding.
    """
    algorithm = _sm4(key)
    iv = require_length("SM4-CBC IV", iv, SM4_BLOCK_SIZE)
    ciphertext = require_bytes("ciphertext", ciphertext)
    if not ciphertext or len(ciphertext) % SM4_BLOCK_SIZE:
        raise MalformedInputError(
            f"SM4-CBC ciphertext must be a non-zero multiple of {SM4_BLOCK_SIZE} bytes, "
            f"got {len(ciphertext)}"
        )
    decryptor = Cipher(algorithm, modes.CBC(iv)).decryptor()
    padded = decryptor.update(ciphertext) + decryptor.finalize()
    unpadder = padding.PKCS7(SM4_BLOCK_SIZE * 8).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise MalformedInputError("SM4-CBC plaintext has invalid PKCS#7 padding") from None


class SM4BlockCipher:
    """The bare SM4 block transformation of GB/T 32907-2016, clause 7, under one key.

    One 16-byte block in, one out: this is what the standard's examples (Annex A)
    exercise. It is a building block, not a way to encrypt data; use
    :func:`sm4_gcm_encrypt` for that.
    """

    __slots__ = ("_decryptor", "_encryptor")

    def __init__(self, key: bytes) -> None:
        cipher = Cipher(_sm4(key), modes.ECB())  # noqa: S305 - the bare block function
        self._encryptor = cipher.encryptor()
        self._decryptor = cipher.decryptor()

    def __repr__(self) -> str:
        return "SM4BlockCipher(<key hidden>)"

    def encrypt_block(self, block: bytes) -> bytes:
        """Encrypt one 16-byte block (GB/T 32907-2016, 7.1)."""
        return self._encryptor.update(require_length("SM4 block", block, SM4_BLOCK_SIZE))

    def decrypt_block(self, block: bytes) -> bytes:
        """Decrypt one 16-byte block (GB/T 32907-2016, 7.2: the round keys in reverse)."""
        return self._decryptor.update(require_length("SM4 block", block, SM4_BLOCK_SIZE))
