"""JOSE profile for SM2: JWS ``alg`` "SM2SM3" and JWKs with kty "EC", crv "SM2".

Federation signs tokens with ES256 by default, the interoperable choice; a
deployment that must use 国密 signs them with SM2 instead. This module plugs
that into Authlib's :mod:`authlib.jose`:

- ``alg`` "SM2SM3", the name Chinese JWT libraries use: an SM2 signature
  (GB/T 32918.2) with SM3 over the JWS signing input, with the default user ID
  ``1234567812345678`` in Z_A. Like ES256 (RFC 7518, 3.4) the JWS signature is
  the fixed-length ``r || s``, 32 bytes each, not DER.
- JWKs as for other curves (RFC 7518, 6.2): ``{"kty": "EC", "crv": "SM2", "x",
  "y"}`` with base64url 32-byte coordinates, plus ``"d"`` for a private key.

Call :func:`register_sm2_jose` once (it is idempotent); then
``JsonWebToken(["SM2SM3"])`` and ``JsonWebSignature(["SM2SM3"])`` accept
:class:`~wuye.crypto.SM2PrivateKey` / :class:`~wuye.crypto.SM2PublicKey`
objects, SM2 JWK dicts, or PEM keys.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from authlib.jose import JsonWebSignature
from authlib.jose.rfc7515 import JWSAlgorithm
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from wuye.crypto import _ec
from wuye.crypto.errors import CryptoError, MalformedInputError
from wuye.crypto.sm2 import SM2PrivateKey, SM2PublicKey

__all__ = [
    "SM2_JWS_ALGORITHM",
    "SM2SM3Algorithm",
    "load_sm2_jwk",
    "register_sm2_jose",
    "sm2_jwk",
]

#: The JWS ``alg`` value for SM2 signatures with SM3.
SM2_JWS_ALGORITHM = "SM2SM3"
_SIZE = _ec.COORDINATE_SIZE


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64url(value: object, name: str) -> bytes:
    if not isinstance(value, str):
        raise MalformedInputError(f"JWK member {name!r} must be a base64url string")
    try:
        data = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise MalformedInputError(f"JWK member {name!r} is not base64url") from None
    if len(data) != _SIZE:
        raise MalformedInputError(f"JWK member {name!r} must encode {_SIZE} bytes")
    return data


def sm2_jwk(key: SM2PublicKey | SM2PrivateKey, *, kid: str | None = None) -> dict[str, str]:
    """Return the JWK of an SM2 key (with ``d`` for a private key: keep that one secret)."""
    public = key.public_key if isinstance(key, SM2PrivateKey) else key
    if not isinstance(public, SM2PublicKey):
        raise MalformedInputError("key must be an SM2PublicKey or SM2PrivateKey")
    x, y = public.point.coordinates()
    jwk = {"kty": "EC", "crv": "SM2", "x": _b64url(x), "y": _b64url(y)}
    if isinstance(key, SM2PrivateKey):
        jwk["d"] = _b64url(bytes.fromhex(key.to_hex()))
    if kid is not None:
        jwk["kid"] = kid
    return jwk


def load_sm2_jwk(jwk: Mapping[str, Any]) -> SM2PublicKey | SM2PrivateKey:
    """Load an SM2 JWK: a private key if it has ``d`` (checked against x, y), else public.

    Raises:
        MalformedInputError: not an EC JWK on crv "SM2", bad members, a point not
            on the curve, or a ``d`` that does not match ``x`` and ``y``.
    """
    if not isinstance(jwk, Mapping):
        raise MalformedInputError("JWK must be a JSON object")
    if jwk.get("kty") != "EC" or jwk.get("crv") != "SM2":
        raise MalformedInputError('JWK must have kty "EC" and crv "SM2"')
    point = b"\x04" + _unb64url(jwk.get("x"), "x") + _unb64url(jwk.get("y"), "y")
    public = SM2PublicKey.from_bytes(point)
    if "d" not in jwk:
        return public
    private = SM2PrivateKey.from_int(int.from_bytes(_unb64url(jwk["d"], "d"), "big"))
    if private.public_key != public:
        raise MalformedInputError("JWK private key d does not match its x and y")
    return private


def _load_key(raw: object) -> SM2PublicKey | SM2PrivateKey:
    if isinstance(raw, SM2PublicKey | SM2PrivateKey):
        return raw
    if isinstance(raw, str) and raw.lstrip().startswith("{"):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise MalformedInputError("JWK is not valid JSON") from None
    if isinstance(raw, Mapping):
        return load_sm2_jwk(raw)
    if isinstance(raw, str):
        raw = raw.encode("ascii", "replace")
    if isinstance(raw, bytes) and b"PRIVATE KEY" in raw:
        return SM2PrivateKey.from_pem(raw)
    if isinstance(raw, bytes):
        return SM2PublicKey.from_pem(raw)
    raise MalformedInputError(f"cannot use {type(raw).__name__} as an SM2 key")


class SM2SM3Algorithm(JWSAlgorithm):  # type: ignore[misc]
    """The JWS algorithm "SM2SM3" for Authlib's :class:`~authlib.jose.JsonWebSignature`."""

    name = SM2_JWS_ALGORITHM
    description = "SM2 signature with SM3 (GB/T 32918.2), user ID 1234567812345678"

    def prepare_key(self, raw_data: object) -> SM2PublicKey | SM2PrivateKey:
        return _load_key(raw_data)

    def sign(self, msg: bytes, key: SM2PublicKey | SM2PrivateKey) -> bytes:
        if not isinstance(key, SM2PrivateKey):
            raise MalformedInputError("signing with SM2SM3 needs an SM2 private key")
        r, s = decode_dss_signature(key.sign(msg))
        return r.to_bytes(_SIZE, "big") + s.to_bytes(_SIZE, "big")

    def verify(self, msg: bytes, sig: bytes, key: SM2PublicKey | SM2PrivateKey) -> bool:
        # Authlib's contract: return False and let JsonWebSignature raise BadSignatureError.
        public = key.public_key if isinstance(key, SM2PrivateKey) else key
        if len(sig) != 2 * _SIZE:
            return False
        r = int.from_bytes(sig[:_SIZE], "big")
        s = int.from_bytes(sig[_SIZE:], "big")
        try:
            public.verify(encode_dss_signature(r, s), msg)
        except CryptoError:
            return False
        return True


def register_sm2_jose() -> None:
    """Register "SM2SM3" with Authlib's JWS (and so JWT) machinery; safe to call again."""
    if SM2_JWS_ALGORITHM not in JsonWebSignature.ALGORITHMS_REGISTRY:
        JsonWebSignature.register_algorithm(SM2SM3Algorithm())
