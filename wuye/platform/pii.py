"""Personal data at rest: SM4-GCM encryption, blind indexes and masking (GB/T 35273).

Phone numbers and ID card numbers are stored only encrypted; a keyed SM3 HMAC
(a blind index) lets the platform find an owner by phone without decrypting.
Responses show them masked unless the caller holds the ``owners:pii`` scope.
"""

from __future__ import annotations

from wuye import crypto

_AAD = b"wuye/pii/v1"


class PersonalDataCipher:
    """Encrypts and indexes personal data under keys derived from the platform secret."""

    def __init__(self, secret: bytes) -> None:
        self._kek = crypto.hmac_sm3(secret, b"wuye/pii/kek")[:16]
        self._index_key = crypto.hmac_sm3(secret, b"wuye/pii/index")

    def __repr__(self) -> str:
        return "PersonalDataCipher(<keys hidden>)"

    def encrypt(self, value: str, *, field: str) -> bytes:
        return crypto.seal(self._kek, value.encode(), aad=_AAD + b"/" + field.encode())

    def decrypt(self, blob: bytes, *, field: str) -> str:
        return crypto.open_sealed(self._kek, blob, aad=_AAD + b"/" + field.encode()).decode()

    def index(self, value: str, *, field: str) -> str:
        """A deterministic keyed digest for equality lookups (never reversible)."""
        return crypto.hmac_sm3(self._index_key, field.encode() + b"\0" + value.encode()).hex()


def mask_phone(phone: str) -> str:
    """138****5678: keep the first three and last four digits."""
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_id_number(id_number: str) -> str:
    """110105********1234 style: keep the region code's first six and the last four."""
    if len(id_number) <= 10:
        return "*" * len(id_number)
    return id_number[:6] + "*" * (len(id_number) - 10) + id_number[-4:]
