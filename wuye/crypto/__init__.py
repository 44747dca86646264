"""国密 (SM2 / SM3 / SM4) for the whole platform: the one place these algorithms live.

The ledger seals blocks with SM2 over SM3, telemetry protects device payloads
with SM4-GCM (one :class:`SM4GCM` per device key) and derives per-device
session keys by SM2 key agreement, federation can sign tokens with SM2
("SM2SM3"), and personal data is sealed at rest with SM4. Use it as ``from wuye import crypto``.

The JOSE profile (:mod:`wuye.crypto.jose`) is loaded on first use, so importing
this package does not import Authlib.

Every failure raises :class:`CryptoError` (or a subclass); nothing returns a
silent ``False``.
"""

from typing import Any

from wuye.crypto.errors import (
    AuthenticationFailedError,
    CryptoError,
    InvalidSignatureError,
    MalformedInputError,
    MalformedSignatureError,
)
from wuye.crypto.seal import (
    SEAL_VERSION,
    generate_kek,
    open_private_key,
    open_sealed,
    seal,
    seal_private_key,
)
from wuye.crypto.sm2 import (
    DEFAULT_UID,
    SM2_CIPHERTEXT_OVERHEAD,
    SM2PrivateKey,
    SM2PublicKey,
)
from wuye.crypto.sm2_key_exchange import SM2AgreedKey, SM2KeyExchange
from wuye.crypto.sm3 import (
    SM3_BLOCK_SIZE,
    SM3_DIGEST_SIZE,
    SM3Hasher,
    hmac_sm3,
    hmac_sm3_verify,
    sm3_hash,
    sm3_hasher,
    sm3_kdf,
)
from wuye.crypto.sm4 import (
    SM4_BLOCK_SIZE,
    SM4_GCM_NONCE_SIZE,
    SM4_GCM_TAG_SIZE,
    SM4_KEY_SIZE,
    SM4GCM,
    SM4BlockCipher,
    sm4_cbc_decrypt,
    sm4_cbc_encrypt,
    sm4_gcm_decrypt,
    sm4_gcm_encrypt,
)

__all__ = [
    "DEFAULT_UID",
    "SEAL_VERSION",
    "SM2_CIPHERTEXT_OVERHEAD",
    "SM2_JWS_ALGORITHM",
    "SM3_BLOCK_SIZE",
    "SM3_DIGEST_SIZE",
    "SM4_BLOCK_SIZE",
    "SM4_GCM_NONCE_SIZE",
    "SM4_GCM_TAG_SIZE",
    "SM4_KEY_SIZE",
    "AuthenticationFailedError",
    "CryptoError",
    "InvalidSignatureError",
    "MalformedInputError",
    "MalformedSignatureError",
    "SM2AgreedKey",
    "SM2KeyExchange",
    "SM2PrivateKey",
    "SM2PublicKey",
    "SM2SM3Algorithm",
    "SM3Hasher",
    "SM4GCM",
    "SM4BlockCipher",
    "generate_kek",
    "hmac_sm3",
    "hmac_sm3_verify",
    "load_sm2_jwk",
    "open_private_key",
    "open_sealed",
    "register_sm2_jose",
    "seal",
    "seal_private_key",
    "sm2_jwk",
    "sm3_hash",
    "sm3_hasher",
    "sm3_kdf",
    "sm4_cbc_decrypt",
    "sm4_cbc_encrypt",
    "sm4_gcm_decrypt",
    "sm4_gcm_encrypt",
]

_JOSE_NAMES = frozenset(
    {"SM2_JWS_ALGORITHM", "SM2SM3Algorithm", "load_sm2_jwk", "register_sm2_jose", "sm2_jwk"}
)


def __getattr__(name: str) -> Any:
    if name in _JOSE_NAMES:
        from wuye.crypto import jose

        return getattr(jose, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
