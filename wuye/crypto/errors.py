"""The one exception family of :mod:`wuye.crypto`.

Every failure of a 国密 (SM2/SM3/SM4) operation surfaces as a :class:`CryptoError`,
so callers can handle "the cryptography said no" in one place, and tests can
assert that junk input never escapes as anything else.
"""

from __future__ import annotations

__all__ = [
    "AuthenticationFailedError",
    "CryptoError",
    "InvalidSignatureError",
    "MalformedInputError",
    "MalformedSignatureError",
]


class CryptoError(Exception):
    """Base class of every error raised by :mod:`wuye.crypto`."""


class InvalidSignatureError(CryptoError):
    """A signature does not verify under the given public key, message and user ID."""


class AuthenticationFailedError(CryptoError):
    """Authenticated decryption or a MAC/confirmation check failed.

    The message says only that authentication failed: which of key, nonce,
    associated data, ciphertext or tag was wrong is deliberately not revealed.
    """


class MalformedInputError(CryptoError):
    """Input is not well formed: a wrong key or nonce length, bad DER or PEM,
    a truncated ciphertext, a point not on the curve, an unknown blob version."""


class MalformedSignatureError(InvalidSignatureError, MalformedInputError):
    """A signature that cannot even be parsed (not DER, or r/s out of range).

    It is both an :class:`InvalidSignatureError` (the signature is not valid) and
    a :class:`MalformedInputError` (it was never well formed), so handlers of
    either catch it.
    """
