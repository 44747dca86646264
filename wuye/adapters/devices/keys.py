"""Device key material: sealed at rest under a KEK from the platform secret.

A device's master secret (the input of its RFC 8613-style security context,
see ``oscore.py``) and its vendor credentials are stored only sealed with
SM4-GCM; the sealing binds each blob to its device and key version, so a blob
copied onto another row does not open. The platform's own SM2 key for key
agreement is derived from the same secret, so every API process agrees on it.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from wuye import crypto
from wuye.crypto import _ec

_N = _ec.N


class DeviceKeyring:
    """Seals and opens device secrets; holds the platform's key-agreement key."""

    def __init__(self, secret: bytes) -> None:
        self._kek = crypto.hmac_sm3(secret, b"wuye/devices/kek")[:16]
        scalar = int.from_bytes(crypto.sm3_kdf(secret + b"wuye/devices/sm2", 40), "big")
        self.platform_key = crypto.SM2PrivateKey.from_int(scalar % (_N - 1) + 1)

    def __repr__(self) -> str:
        return "DeviceKeyring(<keys hidden>)"

    def seal_master_secret(self, device_id: str, key_version: int, secret: bytes) -> bytes:
        return crypto.seal(self._kek, secret, _aad("master", device_id, key_version))

    def open_master_secret(self, device_id: str, key_version: int, blob: bytes) -> bytes:
        return crypto.open_sealed(self._kek, blob, _aad("master", device_id, key_version))

    def seal_credentials(self, device_id: str, credentials: dict[str, Any]) -> bytes:
        data = json.dumps(credentials, ensure_ascii=False, sort_keys=True).encode()
        return crypto.seal(self._kek, data, _aad("vendor", device_id, 0))

    def open_credentials(self, device_id: str, blob: bytes) -> dict[str, Any]:
        return json.loads(crypto.open_sealed(self._kek, blob, _aad("vendor", device_id, 0)))


def _aad(kind: str, device_id: str, key_version: int) -> bytes:
    return f"wuye/devices/{kind}/{device_id}/{key_version}".encode()


@lru_cache(maxsize=8)
def keyring_for_secret(secret: bytes) -> DeviceKeyring:
    return DeviceKeyring(secret)
