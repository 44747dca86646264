"""SM3 cryptographic hash (GB/T 32905-2016), HMAC-SM3 and the SM3 key derivation function.

SM3 is the hash under every other 国密 construction here: the SM2 Z value and
message digest (GB/T 32918.2), SM2 encryption's C3 and KDF (GB/T 32918.4), and
the ledger's block digests. The compression function runs in OpenSSL: through
:mod:`hashlib` when the interpreter's OpenSSL offers SM3 (the cheapest call from
Python), otherwise through ``cryptography``'s bundled OpenSSL.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import Any, Protocol

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac

from wuye.crypto._util import require_bytes
from wuye.crypto.errors import AuthenticationFailedError, MalformedInputError

__all__ = [
    "SM3_BLOCK_SIZE",
    "SM3_DIGEST_SIZE",
    "SM3Hasher",
    "hmac_sm3",
    "hmac_sm3_verify",
    "sm3_hash",
    "sm3_hasher",
    "sm3_kdf",
]

#: Length of an SM3 digest in bytes (GB/T 32905-2016, 5.5: a 256-bit hash value).
SM3_DIGEST_SIZE = 32
#: Length of an SM3 message block in bytes (GB/T 32905-2016, 5.2: 512-bit blocks).
SM3_BLOCK_SIZE = 64

# GB/T 32918.4-2016, 5.4.3: the KDF's counter is 32 bits, so at most
# (2**32 - 1) digests of output.
_KDF_MAX_LENGTH = (2**32 - 1) * SM3_DIGEST_SIZE


class SM3Hasher(Protocol):
    """An incremental SM3 computation (``update`` any number of times, then ``digest``)."""

    def update(self, data: bytes, /) -> None: ...

    def digest(self) -> bytes: ...


class _CryptographyHasher:
    """:class:`SM3Hasher` over ``cryptography`` when :mod:`hashlib` lacks SM3."""

    __slots__ = ("_ctx",)

    def __init__(self) -> None:
        self._ctx = _CRYPTOGRAPHY_PROTOTYPE.copy()

    def update(self, data: bytes, /) -> None:
        self._ctx.update(data)

    def digest(self) -> bytes:
        return self._ctx.copy().finalize()


def _hashlib_sm3_prototype() -> Any:
    """An empty :mod:`hashlib` SM3 object if the interpreter's OpenSSL offers SM3, else None."""
    try:
        prototype = hashlib.new("sm3")
    except ValueError:  # OpenSSL built without SM3, or a FIPS-only provider
        return None
    check = prototype.copy()
    check.update(b"abc")
    if check.digest() != _ABC_DIGEST:  # pragma: no cover - a broken provider
        return None
    return prototype


# Every computation starts from a copy of an empty, initialised context: looking
# SM3 up by name and setting up a context costs more than hashing a short
# message, and a copy skips both. The prototypes are never updated, so copying
# them from several threads is safe.
_CRYPTOGRAPHY_PROTOTYPE = hashes.Hash(hashes.SM3())
_ABC_DIGEST = bytes.fromhex("66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0")
_HASHLIB_PROTOTYPE = _hashlib_sm3_prototype()
_HASHLIB_SM3 = _HASHLIB_PROTOTYPE is not None


def _sm3_hash_hashlib(data: bytes) -> bytes:
    hasher = _HASHLIB_PROTOTYPE.copy()
    hasher.update(data)
    return hasher.digest()  # type: ignore[no-any-return]


def _sm3_hash_cryptography(data: bytes) -> bytes:
    ctx = _CRYPTOGRAPHY_PROTOTYPE.copy()
    ctx.update(data)
    return ctx.finalize()


def _sm3_hasher_hashlib() -> SM3Hasher:
    return _HASHLIB_PROTOTYPE.copy()  # type: ignore[no-any-return]


def _sm3_hasher_cryptography() -> SM3Hasher:
    return _CryptographyHasher()


_hash: Callable[[bytes], bytes] = _sm3_hash_hashlib if _HASHLIB_SM3 else _sm3_hash_cryptography
_new_hasher: Callable[[], SM3Hasher] = (
    _sm3_hasher_hashlib if _HASHLIB_SM3 else _sm3_hasher_cryptography
)


def sm3_hash(data: bytes) -> bytes:
    """Return the 32-byte SM3 digest of ``data`` (GB/T 32905-2016, clause 5)."""
    if data.__class__ is not bytes:  # the fast path; require_bytes converts or words the error
        data = require_bytes("data", data)
    return _hash(data)


def sm3_hasher(data: bytes = b"") -> SM3Hasher:
    """Start an incremental SM3 computation, optionally fed with ``data`` first.

    ``sm3_hasher(a)`` then ``.update(b)`` gives the same ``.digest()`` as
    ``sm3_hash(a + b)``; use it for data that arrives in pieces.
    """
    hasher = _new_hasher()
    if data:
        hasher.update(require_bytes("data", data))
    return hasher


def hmac_sm3(key: bytes, data: bytes) -> bytes:
    """Return HMAC-SM3 of ``data`` under ``key`` (RFC 2104 / GB/T 15852.2 with SM3).

    Any key length is allowed, as HMAC defines it; keys longer than the 64-byte
    block are hashed first. A key shorter than 32 bytes is weaker than SM3 itself.
    """
    key = require_bytes("key", key)
    data = require_bytes("data", data)
    if _HASHLIB_SM3:
        return hmac.digest(key, data, "sm3")
    ctx = crypto_hmac.HMAC(key, hashes.SM3())
    ctx.update(data)
    return ctx.finalize()


def hmac_sm3_verify(key: bytes, data: bytes, tag: bytes) -> None:
    """Check an HMAC-SM3 ``tag`` in constant time; raise on mismatch.

    Raises:
        AuthenticationFailedError: the tag does not match.
    """
    tag = require_bytes("tag", tag)
    if not hmac.compare_digest(hmac_sm3(key, data), tag):
        raise AuthenticationFailedError("HMAC-SM3 tag does not match")


def sm3_kdf(z: bytes, length: int) -> bytes:
    """Derive ``length`` bytes from the shared secret ``z`` with the SM3 KDF.

    GB/T 32918.4-2016, 5.4.3 (the same KDF is used by GB/T 32918.3 key
    agreement): ``K = H(Z || ct) || H(Z || ct+1) || ...`` with a 32-bit
    big-endian counter starting at 1, truncated to ``length`` bytes.
    """
    z = require_bytes("z", z)
    if not isinstance(length, int) or isinstance(length, bool):
        raise MalformedInputError(f"length must be an int, not {type(length).__name__}")
    if length < 0 or length > _KDF_MAX_LENGTH:
        raise MalformedInputError(f"KDF length must be between 0 and {_KDF_MAX_LENGTH} bytes")
    blocks = -(-length // SM3_DIGEST_SIZE)
    out = b"".join(_hash(z + counter.to_bytes(4, "big")) for counter in range(1, blocks + 1))
    return out[:length]
