"""SM4 block cipher (GB/T 32907-2016) in the modes the platform uses.

- SM4-GCM (NIST SP 800-38D with SM4 as the block cipher, as RFC 8998 profiles
  it for TLS): the default for anything new, including device payloads and
  personal data at rest (see :mod:`wuye.crypto.seal`).
- SM4-CBC with PKCS#7 padding (GB/T 17964-2021 CBC mode): only for exchanging
  data with older systems that know nothing else. CBC is not authenticated;
  pair it with HMAC-SM3 (encrypt-then-MAC) when the data can be tampered with.
- The bare block cipher, for conformance with the standard's examples.

SM4-GCM runs in Tongsuo (through tongsuopy's cffi binding), on one cipher
context per key that is reused for every message: :class:`SM4GCM` for a key
used many times (a device's telemetry key), and the one-shot
:func:`sm4_gcm_encrypt` / :func:`sm4_gcm_decrypt` over a small cache of such
objects. CBC and the bare block cipher run in OpenSSL through ``cryptography``.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from tongsuopy.backends.tongsuo import backend as _backend

from wuye.crypto._util import require_bytes, require_length
from wuye.crypto.errors import AuthenticationFailedError, CryptoError, MalformedInputError

__all__ = [
    "SM4_BLOCK_SIZE",
    "SM4_GCM_NONCE_SIZE",
    "SM4_GCM_TAG_SIZE",
    "SM4_KEY_SIZE",
    "SM4GCM",
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


_lib: Any = _backend._lib
_ffi: Any = _backend._ffi
_NULL = _ffi.NULL
_SM4_GCM = _lib.EVP_get_cipherbyname(b"sm4-gcm")
if _SM4_GCM == _NULL:  # pragma: no cover - every Tongsuo build has SM4-GCM
    raise ImportError("the Tongsuo library behind tongsuopy has no SM4-GCM")
_GET_TAG = _lib.EVP_CTRL_AEAD_GET_TAG
_SET_TAG = _lib.EVP_CTRL_AEAD_SET_TAG
# EVP_CipherUpdate takes an int length; longer inputs go through in slices.
_MAX_UPDATE = 2**30
# Keys whose contexts the one-shot SM4-GCM functions keep (see _gcm_for_key).
_ONE_SHOT_CACHE_SIZE = 64
# Bytes of output an SM4GCM object writes into its own buffer rather than a new one.
_SCRATCH_SIZE = 1024 + SM4_GCM_TAG_SIZE


def _sm4(key: object) -> algorithms.SM4:
    return algorithms.SM4(require_length("SM4 key", key, SM4_KEY_SIZE))


def _gcm_failure(what: str) -> CryptoError:
    errors = _backend._consume_errors()
    return CryptoError(f"SM4-GCM {what} failed in the crypto library: {errors!r}")


def _update(ctx: Any, out: Any, outlen: Any, data: bytes, size: int) -> None:
    """Run the first ``size`` bytes of ``data`` through ``ctx`` into ``out`` (NULL for AAD)."""
    if size <= _MAX_UPDATE:
        ok = _lib.EVP_CipherUpdate(ctx, out, outlen, data, size) == 1
    else:  # EVP_CipherUpdate takes an int length: go through in slices
        ok = all(
            _lib.EVP_CipherUpdate(
                ctx,
                _NULL if out == _NULL else out + start,
                outlen,
                data[start : min(start + _MAX_UPDATE, size)],
                min(_MAX_UPDATE, size - start),
            )
            == 1
            for start in range(0, size, _MAX_UPDATE)
        )
    if not ok:
        raise _gcm_failure("update")  # pragma: no cover - library failure


class SM4GCM:
    """SM4-GCM under one key, reusing one cipher context for every message.

    The SM4 key schedule and the GHASH key ``H = E(K, 0^128)`` (SP 800-38D,
    7.1) are computed once, here; each message only loads its nonce, which is
    what makes small messages cheap. Use one object per long-lived key, e.g.
    per device for telemetry payloads; the output is byte-for-byte that of
    :func:`sm4_gcm_encrypt`.

    ``nonce`` is 12 bytes and must never repeat under one key: a repeated GCM
    nonce reveals the XOR of the plaintexts and lets an attacker forge tags
    (SP 800-38D, 8.2).

    An object may be shared between threads: calls on it are serialised by a
    lock, so threads sealing under the same key queue for it (give each thread
    its own object if that matters). The context and its key schedule are
    wiped and freed when the object is collected.

    Raises:
        MalformedInputError: ``key`` is not 16 bytes.
    """

    __slots__ = ("__weakref__", "_ctx", "_lock", "_outlen", "_scratch", "_scratch_bytes")

    def __init__(self, key: bytes) -> None:
        key = require_length("SM4 key", key, SM4_KEY_SIZE)
        ctx = _lib.EVP_CIPHER_CTX_new()
        if ctx == _NULL:  # pragma: no cover - only on memory exhaustion
            raise CryptoError("out of memory allocating an SM4-GCM context")
        self._ctx = _ffi.gc(ctx, _lib.EVP_CIPHER_CTX_free)
        if _lib.EVP_CipherInit_ex(self._ctx, _SM4_GCM, _NULL, key, _NULL, 1) != 1:
            raise _gcm_failure("key setup")  # pragma: no cover - library failure
        self._outlen = _ffi.new("int *")
        # Output of small messages goes here (under the lock) and is copied out,
        # which is cheaper than a new buffer per message. It may hold the last
        # plaintext opened until the next call; whoever can read it can read the
        # key schedule in the context too.
        self._scratch = _ffi.new("unsigned char[]", _SCRATCH_SIZE)
        self._scratch_bytes = _ffi.buffer(self._scratch)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "SM4GCM(<key hidden>)"

    def encrypt(self, nonce: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
        """Encrypt and authenticate; return ciphertext followed by the 16-byte tag.

        ``aad`` is authenticated but not encrypted.

        Raises:
            MalformedInputError: ``nonce`` is not 12 bytes, or an argument is not bytes.
        """
        # The exact-type checks are the fast path; require_* convert bytes-like
        # arguments and word the errors.
        if nonce.__class__ is not bytes or len(nonce) != SM4_GCM_NONCE_SIZE:
            nonce = require_length("SM4-GCM nonce", nonce, SM4_GCM_NONCE_SIZE)
        if plaintext.__class__ is not bytes:
            plaintext = require_bytes("plaintext", plaintext)
        if aad.__class__ is not bytes:
            aad = require_bytes("aad", aad)
        size = len(plaintext)
        total = size + SM4_GCM_TAG_SIZE
        small = total <= _SCRATCH_SIZE
        out = self._scratch if small else _ffi.new("unsigned char[]", total)
        ctx, outlen = self._ctx, self._outlen
        with self._lock:
            if _lib.EVP_CipherInit_ex(ctx, _NULL, _NULL, _NULL, nonce, 1) != 1:
                raise _gcm_failure("nonce setup")  # pragma: no cover - library failure
            if aad:
                _update(ctx, _NULL, outlen, aad, len(aad))
            if size:
                _update(ctx, out, outlen, plaintext, size)
            if (
                _lib.EVP_CipherFinal_ex(ctx, out + size, outlen) != 1
                or _lib.EVP_CIPHER_CTX_ctrl(ctx, _GET_TAG, SM4_GCM_TAG_SIZE, out + size) != 1
            ):
                raise _gcm_failure("tag computation")  # pragma: no cover - library failure
            if small:
                return self._scratch_bytes[:total]
        return _ffi.buffer(out)[:]

    def decrypt(self, nonce: bytes, data: bytes, aad: bytes = b"") -> bytes:
        """Check and decrypt ``data`` (ciphertext followed by the 16-byte tag).

        No plaintext is returned unless the tag verifies (SP 800-38D, 7.2).

        Raises:
            AuthenticationFailedError: nonce, ``aad``, ciphertext or tag is wrong
                (or the data was sealed under another key).
            MalformedInputError: ``nonce`` is not 12 bytes, ``data`` is shorter than
                a tag, or an argument is not bytes.
        """
        if nonce.__class__ is not bytes or len(nonce) != SM4_GCM_NONCE_SIZE:
            nonce = require_length("SM4-GCM nonce", nonce, SM4_GCM_NONCE_SIZE)
        if data.__class__ is not bytes:
            data = require_bytes("data", data)
        if aad.__class__ is not bytes:
            aad = require_bytes("aad", aad)
        size = len(data) - SM4_GCM_TAG_SIZE
        if size < 0:
            raise MalformedInputError(
                f"SM4-GCM data is truncated: {len(data)} bytes, shorter than the "
                f"{SM4_GCM_TAG_SIZE}-byte tag"
            )
        small = size <= _SCRATCH_SIZE
        out = self._scratch if small else _ffi.new("unsigned char[]", size)
        ctx, outlen = self._ctx, self._outlen
        with self._lock:
            if (
                _lib.EVP_CipherInit_ex(ctx, _NULL, _NULL, _NULL, nonce, 0) != 1
                or _lib.EVP_CIPHER_CTX_ctrl(ctx, _SET_TAG, SM4_GCM_TAG_SIZE, data[size:]) != 1
            ):
                raise _gcm_failure("nonce and tag setup")  # pragma: no cover
            if aad:
                _update(ctx, _NULL, outlen, aad, len(aad))
            if size:
                _update(ctx, out, outlen, data, size)
            if _lib.EVP_CipherFinal_ex(ctx, out + size, outlen) != 1:
                _backend._consume_errors()
                _ffi.memmove(out, bytes(size), size)  # no unauthenticated plaintext kept
                raise AuthenticationFailedError("SM4-GCM authentication failed")
            if small:
                return self._scratch_bytes[:size]
        return _ffi.buffer(out, size)[:]


# A thread-safe LRU of SM4GCM objects by key, so repeated one-shot calls under
# one key (a device's payloads, the personal-data KEK) skip the key schedule and
# the context setup. It keeps the schedules of recently used keys in memory
# until they are evicted, as any long-lived SM4GCM object would.
_gcm_for_key = functools.lru_cache(maxsize=_ONE_SHOT_CACHE_SIZE)(SM4GCM)


def sm4_gcm_encrypt(key: bytes, nonce: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    """Encrypt and authenticate with SM4-GCM; return ciphertext followed by the 16-byte tag.

    ``nonce`` is 12 bytes and must never repeat under one key: a repeated GCM
    nonce reveals the XOR of the plaintexts and lets an attacker forge tags
    (SP 800-38D, 8.2). ``aad`` is authenticated but not encrypted.

    For many messages under one key, :class:`SM4GCM` skips the key lookup; this
    function reuses the context of any of the last 64 keys it saw.
    """
    if key.__class__ is not bytes or len(key) != SM4_KEY_SIZE:
        key = require_length("SM4 key", key, SM4_KEY_SIZE)
    return _gcm_for_key(key).encrypt(nonce, plaintext, aad)


def sm4_gcm_decrypt(key: bytes, nonce: bytes, data: bytes, aad: bytes = b"") -> bytes:
    """Check and decrypt SM4-GCM ``data`` (ciphertext followed by the 16-byte tag).

    Raises:
        AuthenticationFailedError: key, nonce, ``aad``, ciphertext or tag is wrong.
        MalformedInputError: wrong key or nonce length, or ``data`` shorter than a tag.
    """
    if key.__class__ is not bytes or len(key) != SM4_KEY_SIZE:
        key = require_length("SM4 key", key, SM4_KEY_SIZE)
    return _gcm_for_key(key).decrypt(nonce, data, aad)


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
