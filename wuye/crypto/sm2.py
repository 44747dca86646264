"""SM2 public-key cryptography (GB/T 32918.1..5-2016/2017): keys, signatures, encryption.

- Keys on the recommended curve of GB/T 32918.5-2017, exchanged as Chinese
  libraries do (uncompressed ``04 || x || y`` hex) or as PKCS#8 /
  SubjectPublicKeyInfo PEM and DER with the SM2 curve OID 1.2.156.10197.1.301.
- Digital signatures (GB/T 32918.2-2016) over ``e = SM3(Z_A || M)``, with the
  signer's user ID inside ``Z_A`` (clause 5.5); DER ``SEQUENCE { r, s }``
  signatures (GM/T 0009-2012, 7.3).
- Public-key encryption (GB/T 32918.4-2016) with the ``C1 || C3 || C2`` layout.

Signing and verification run in Tongsuo (through tongsuopy); encryption uses
the same library's point arithmetic (:mod:`wuye.crypto._ec`). Key agreement
(GB/T 32918.3) is in :mod:`wuye.crypto.sm2_key_exchange`.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from tongsuopy.backends.tongsuo import backend as _backend
from tongsuopy.crypto import serialization
from tongsuopy.crypto.asymciphers import ec
from tongsuopy.crypto.exceptions import InternalError, UnsupportedAlgorithm

from wuye.crypto import _ec
from wuye.crypto._util import require_bytes
from wuye.crypto.errors import (
    AuthenticationFailedError,
    CryptoError,
    InvalidSignatureError,
    MalformedInputError,
    MalformedSignatureError,
)
from wuye.crypto.sm3 import SM3_DIGEST_SIZE, sm3_hash, sm3_kdf

__all__ = [
    "DEFAULT_UID",
    "SM2_CIPHERTEXT_OVERHEAD",
    "SM2PrivateKey",
    "SM2PublicKey",
]

#: The user ID that GB/T 32918.2 implementations put into ``Z_A`` when the
#: parties agreed on none (GM/T 0009-2012, 10: "1234567812345678").
DEFAULT_UID = b"1234567812345678"

#: Bytes an SM2 ciphertext adds to its plaintext: C1 (65) and C3 (32).
SM2_CIPHERTEXT_OVERHEAD = 1 + 2 * _ec.COORDINATE_SIZE + SM3_DIGEST_SIZE

# GB/T 32918.2-2016, 5.5: ENTL_A is two bytes holding the ID's length in bits.
_MAX_UID_LENGTH = (2**16 - 1) // 8
_CURVE_PARAMETERS = b"".join(
    value.to_bytes(_ec.COORDINATE_SIZE, "big") for value in (_ec.A, _ec.B, _ec.GX, _ec.GY)
)
_lib: Any = _backend._lib
_ffi: Any = _backend._ffi
# A DER SM2 signature is at most SEQUENCE(2) + 2 * INTEGER(2 + 33).
_MAX_DER_SIGNATURE = 72
_KEY_LOAD_ERRORS = (ValueError, TypeError, UnsupportedAlgorithm, InternalError)


def _require_uid(uid: object) -> bytes:
    uid = require_bytes("uid", uid)
    if len(uid) > _MAX_UID_LENGTH:
        raise MalformedInputError(f"SM2 user ID must be at most {_MAX_UID_LENGTH} bytes")
    return uid


def _check_private_scalar(d: int) -> None:
    # GB/T 32918.1-2016, 6.1: the private key d is in [1, n-2] (n-1 has no (1+d)^-1).
    if not 1 <= d <= _ec.N - 2:
        raise MalformedInputError("SM2 private key must be an integer in [1, n-2]")


def _evp_pkey_ctx(evp_pkey: Any) -> Any:
    ctx = _lib.EVP_PKEY_CTX_new(evp_pkey, _ffi.NULL)
    if ctx == _ffi.NULL:  # pragma: no cover - only on memory exhaustion
        raise CryptoError("out of memory creating an SM2 context")
    return _ffi.gc(ctx, _lib.EVP_PKEY_CTX_free)


class SM2PublicKey:
    """An SM2 public key: verifies signatures, encrypts, takes part in key agreement."""

    __slots__ = ("__weakref__", "_encoded", "_key", "_point", "_z_default")

    def __init__(self, _key: ec.EllipticCurvePublicKey) -> None:
        """Wrap a tongsuopy key; use :meth:`from_hex`, :meth:`from_pem`... instead."""
        self._key = _key
        self._encoded = _key.public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        self._point: _ec.Point | None = None
        self._z_default: bytes | None = None

    # -- encodings ---------------------------------------------------------------

    @classmethod
    def from_bytes(cls, data: bytes) -> SM2PublicKey:
        """Load an uncompressed point ``04 || x || y`` (65 bytes, GB/T 32918.1-2016, 4.2.9).

        Raises:
            MalformedInputError: wrong length or prefix, or a point not on the curve.
        """
        point = _ec.Point.decode(require_bytes("public key", data), what="SM2 public key")
        key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SM2(), point.encode())
        public = cls(key)
        public._point = point
        return public

    @classmethod
    def from_hex(cls, text: str) -> SM2PublicKey:
        """Load the hex form Chinese libraries exchange: ``04`` then x then y (130 digits).

        The 128-digit form without the ``04`` prefix, as gmssl prints it, is
        accepted too.
        """
        if not isinstance(text, str):
            raise MalformedInputError(f"public key hex must be str, not {type(text).__name__}")
        text = text.strip()
        if len(text) == 4 * _ec.COORDINATE_SIZE:
            text = "04" + text
        try:
            data = bytes.fromhex(text)
        except ValueError:
            raise MalformedInputError("SM2 public key is not valid hex") from None
        return cls.from_bytes(data)

    @classmethod
    def from_der(cls, data: bytes) -> SM2PublicKey:
        """Load a DER SubjectPublicKeyInfo (RFC 5480 with the SM2 curve OID)."""
        data = require_bytes("DER public key", data)
        try:
            key = serialization.load_der_public_key(data)
        except _KEY_LOAD_ERRORS:
            _backend._consume_errors()
            raise MalformedInputError("not a DER SubjectPublicKeyInfo SM2 public key") from None
        return cls._from_loaded(key)

    @classmethod
    def from_pem(cls, data: bytes | str) -> SM2PublicKey:
        """Load a PEM ``PUBLIC KEY`` (SubjectPublicKeyInfo with the SM2 curve OID)."""
        if isinstance(data, str):
            data = data.encode("ascii", "replace")
        data = require_bytes("PEM public key", data)
        try:
            key = serialization.load_pem_public_key(data)
        except _KEY_LOAD_ERRORS:
            _backend._consume_errors()
            raise MalformedInputError("not a PEM SubjectPublicKeyInfo SM2 public key") from None
        return cls._from_loaded(key)

    @classmethod
    def _from_loaded(cls, key: object) -> SM2PublicKey:
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "SM2":
            raise MalformedInputError("the key is not an SM2 public key")
        return cls(key)

    def to_bytes(self) -> bytes:
        """Return the uncompressed point ``04 || x || y`` (65 bytes)."""
        return self._encoded

    def to_hex(self) -> str:
        """Return ``04 || x || y`` as 130 lower-case hex digits."""
        return self._encoded.hex()

    def to_der(self) -> bytes:
        """Return the DER SubjectPublicKeyInfo (id-ecPublicKey, curve 1.2.156.10197.1.301)."""
        return self._key.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def to_pem(self) -> bytes:
        """Return the PEM ``PUBLIC KEY`` block of :meth:`to_der`."""
        return self._key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    @property
    def point(self) -> _ec.Point:
        """The public point, for the arithmetic of encryption and key agreement."""
        if self._point is None:
            self._point = _ec.Point.decode(self._encoded)
        return self._point

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SM2PublicKey):
            return NotImplemented
        return self._encoded == other._encoded

    def __hash__(self) -> int:
        return hash(self._encoded)

    def __repr__(self) -> str:
        return f"SM2PublicKey.from_hex({self.to_hex()!r})"

    # -- GB/T 32918.2: signatures ------------------------------------------------

    def z_value(self, uid: bytes = DEFAULT_UID) -> bytes:
        """Return ``Z_A = SM3(ENTL_A || ID_A || a || b || x_G || y_G || x_A || y_A)``.

        GB/T 32918.2-2016, 5.5: the hash of the signer's identity and public key
        that both signing and verification prefix to the message.
        """
        uid = _require_uid(uid)
        if uid == DEFAULT_UID and self._z_default is not None:
            return self._z_default
        entl = (len(uid) * 8).to_bytes(2, "big")
        z = sm3_hash(entl + uid + _CURVE_PARAMETERS + self._encoded[1:])
        if uid == DEFAULT_UID:
            self._z_default = z
        return z

    def message_digest(self, data: bytes, uid: bytes = DEFAULT_UID) -> bytes:
        """Return ``e = SM3(Z_A || M)`` (GB/T 32918.2-2016, 6.1 steps A1-A2)."""
        return sm3_hash(self.z_value(uid) + require_bytes("data", data))

    def verify(self, signature: bytes, data: bytes, uid: bytes = DEFAULT_UID) -> None:
        """Verify a DER SM2 signature of ``data`` made with user ID ``uid``.

        GB/T 32918.2-2016, clause 7. Returns nothing when the signature is valid.

        Raises:
            InvalidSignatureError: the signature does not match.
            MalformedSignatureError: the signature is not DER, or r or s is outside
                [1, n-1] (clause 7.1, B1-B2); also an :class:`InvalidSignatureError`.
        """
        signature = require_bytes("signature", signature)
        digest = self.message_digest(data, uid)
        if len(signature) > _MAX_DER_SIGNATURE:
            raise MalformedSignatureError("SM2 signature is longer than any DER SM2 signature")
        try:
            r, s = decode_dss_signature(signature)
        except ValueError:
            raise MalformedSignatureError("SM2 signature is not a DER SEQUENCE of r, s") from None
        if not (1 <= r < _ec.N and 1 <= s < _ec.N):
            raise MalformedSignatureError("SM2 signature r or s is outside [1, n-1]")
        if encode_dss_signature(r, s) != signature:
            raise MalformedSignatureError("SM2 signature is not in canonical DER")
        ctx = _evp_pkey_ctx(self._key._evp_pkey)  # type: ignore[attr-defined]
        if _lib.EVP_PKEY_verify_init(ctx) != 1:  # pragma: no cover - library failure
            _backend._consume_errors()
            raise CryptoError("SM2 verification could not start")
        result = _lib.EVP_PKEY_verify(ctx, signature, len(signature), digest, len(digest))
        if result != 1:
            _backend._consume_errors()
            raise InvalidSignatureError("SM2 signature does not verify")

    # -- GB/T 32918.4: encryption ------------------------------------------------

    def encrypt(self, plaintext: bytes) -> bytes:
        """Encrypt ``plaintext`` to this key; return ``C1 || C3 || C2``.

        GB/T 32918.4-2016, 6.1, with the C1 || C3 || C2 order of the 2016
        standard (and GM/T 0009). C1 is the uncompressed ephemeral point (65
        bytes), C3 the SM3 check value (32 bytes), C2 the masked message, so the
        ciphertext is :data:`SM2_CIPHERTEXT_OVERHEAD` bytes longer than the
        plaintext. Meant for short secrets such as session keys.

        Raises:
            MalformedInputError: ``plaintext`` is empty (its KDF output would be
                the empty, all-zero string of step A5, so no ciphertext exists).
        """
        plaintext = require_bytes("plaintext", plaintext)
        if not plaintext:
            raise MalformedInputError("SM2 encryption needs a non-empty plaintext")
        while True:
            k = secrets.randbelow(_ec.N - 1) + 1  # A1: k in [1, n-1]
            ciphertext = _encrypt_with_ephemeral_scalar(self, plaintext, k)
            if ciphertext is not None:
                return ciphertext


def _encrypt_with_ephemeral_scalar(
    public_key: SM2PublicKey, plaintext: bytes, k: int
) -> bytes | None:
    """GB/T 32918.4-2016, 6.1 steps A2-A8 for a given ``k``; ``None`` if A5 says retry."""
    c1 = _ec.Point.generator_multiple(k).encode()  # A2: C1 = [k]G
    # A3: S = [h]P_B is not infinity, as h = 1 and P_B was decoded as a finite point.
    x2, y2 = public_key.point.multiply(k).coordinates()  # A4
    t = sm3_kdf(x2 + y2, len(plaintext))  # A5
    if not any(t):
        return None
    c2 = (int.from_bytes(plaintext, "big") ^ int.from_bytes(t, "big")).to_bytes(
        len(plaintext), "big"
    )  # A6
    c3 = sm3_hash(x2 + plaintext + y2)  # A7
    return c1 + c3 + c2  # A8


class SM2PrivateKey:
    """An SM2 private key. Its ``repr`` shows only the public key; it is never logged.

    Keep it at rest sealed under a key-encryption key (:func:`wuye.crypto.seal_private_key`).
    """

    __slots__ = ("__weakref__", "_key", "_public")

    def __init__(self, _key: ec.EllipticCurvePrivateKey) -> None:
        """Wrap a tongsuopy key; use :meth:`generate`, :meth:`from_pem`... instead."""
        self._key = _key
        self._public = SM2PublicKey(_key.public_key())

    @classmethod
    def generate(cls) -> SM2PrivateKey:
        """Generate a fresh key pair (GB/T 32918.1-2016, 6.1) from the OS random source."""
        while True:
            key = cls(ec.generate_private_key(ec.SM2()))
            # Tongsuo draws d from [1, n-1]; GB/T 32918.1 excludes n-1.
            if key._scalar() <= _ec.N - 2:
                return key

    @classmethod
    def from_int(cls, d: int) -> SM2PrivateKey:
        """Load the private scalar ``d`` (an integer in [1, n-2])."""
        if not isinstance(d, int) or isinstance(d, bool):
            raise MalformedInputError(f"SM2 private key must be an int, not {type(d).__name__}")
        _check_private_scalar(d)
        return cls(ec.derive_private_key(d, ec.SM2()))

    @classmethod
    def from_hex(cls, text: str) -> SM2PrivateKey:
        """Load the 64-hex-digit private scalar, as Chinese libraries exchange it."""
        if not isinstance(text, str):
            raise MalformedInputError(f"private key hex must be str, not {type(text).__name__}")
        text = text.strip()
        if len(text) != 2 * _ec.COORDINATE_SIZE:
            raise MalformedInputError("SM2 private key hex must be 64 hex digits")
        try:
            d = int(text, 16)
        except ValueError:
            raise MalformedInputError("SM2 private key is not valid hex") from None
        return cls.from_int(d)

    @classmethod
    def from_der(cls, data: bytes) -> SM2PrivateKey:
        """Load an unencrypted DER PKCS#8 (or SEC 1) SM2 private key."""
        data = require_bytes("DER private key", data)
        try:
            key = serialization.load_der_private_key(data, password=None)
        except _KEY_LOAD_ERRORS:
            _backend._consume_errors()
            raise MalformedInputError("not an unencrypted DER PKCS#8 SM2 private key") from None
        return cls._from_loaded(key)

    @classmethod
    def from_pem(cls, data: bytes | str) -> SM2PrivateKey:
        """Load an unencrypted PEM ``PRIVATE KEY`` (PKCS#8) or ``EC PRIVATE KEY`` block."""
        if isinstance(data, str):
            data = data.encode("ascii", "replace")
        data = require_bytes("PEM private key", data)
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except _KEY_LOAD_ERRORS:
            _backend._consume_errors()
            raise MalformedInputError("not an unencrypted PEM PKCS#8 SM2 private key") from None
        return cls._from_loaded(key)

    @classmethod
    def _from_loaded(cls, key: object) -> SM2PrivateKey:
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "SM2":
            raise MalformedInputError("the key is not an SM2 private key")
        private = cls(key)
        _check_private_scalar(private._scalar())
        return private

    def _scalar(self) -> int:
        return self._key.private_numbers().private_value

    def to_int(self) -> int:
        """Return the private scalar ``d``. Secret: never log it."""
        return self._scalar()

    def to_hex(self) -> str:
        """Return ``d`` as 64 hex digits, as Chinese libraries exchange it. Secret."""
        return self._scalar().to_bytes(_ec.COORDINATE_SIZE, "big").hex()

    def to_der(self) -> bytes:
        """Return the unencrypted DER PKCS#8 form (curve OID 1.2.156.10197.1.301). Secret."""
        return self._key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    def to_pem(self) -> bytes:
        """Return the unencrypted PEM ``PRIVATE KEY`` form. Secret: seal it before storing."""
        return self._key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )

    @property
    def public_key(self) -> SM2PublicKey:
        """The matching public key ``P = [d]G``."""
        return self._public

    def __repr__(self) -> str:
        return f"<SM2PrivateKey for public key {self._public.to_hex()[:18]}...>"

    def __reduce__(self) -> Any:
        raise TypeError("SM2PrivateKey cannot be pickled; seal it with seal_private_key()")

    def sign(self, data: bytes, uid: bytes = DEFAULT_UID) -> bytes:
        """Sign ``data`` as the user ``uid``; return the DER ``SEQUENCE { r, s }``.

        GB/T 32918.2-2016, clause 6: ``e = SM3(Z_A || M)`` is computed here and
        signed by Tongsuo with a fresh random k for every signature.
        """
        digest = self._public.message_digest(data, uid)
        ctx = _evp_pkey_ctx(self._key._evp_pkey)  # type: ignore[attr-defined]
        if _lib.EVP_PKEY_sign_init(ctx) != 1:  # pragma: no cover - library failure
            _backend._consume_errors()
            raise CryptoError("SM2 signing could not start")
        buf = _ffi.new("unsigned char[]", _MAX_DER_SIGNATURE)
        length = _ffi.new("size_t *", _MAX_DER_SIGNATURE)
        if _lib.EVP_PKEY_sign(ctx, buf, length, digest, len(digest)) != 1:  # pragma: no cover
            _backend._consume_errors()
            raise CryptoError("SM2 signing failed in the crypto library")
        return bytes(_ffi.buffer(buf, length[0]))

    def decrypt(self, ciphertext: bytes) -> bytes:
        """Decrypt a ``C1 || C3 || C2`` ciphertext made for this key (GB/T 32918.4-2016, 7.1).

        Raises:
            MalformedInputError: shorter than C1 and C3 plus one byte, or C1 is not
                a point on the curve (step B1).
            AuthenticationFailedError: the check value C3 does not match (step B6),
                i.e. the ciphertext was altered or made for another key.
        """
        ciphertext = require_bytes("ciphertext", ciphertext)
        if len(ciphertext) <= SM2_CIPHERTEXT_OVERHEAD:
            raise MalformedInputError(
                f"SM2 ciphertext is truncated: {len(ciphertext)} bytes, needs more than "
                f"{SM2_CIPHERTEXT_OVERHEAD} (C1 and C3) plus the message"
            )
        c1_end = 1 + 2 * _ec.COORDINATE_SIZE
        c1 = _ec.Point.decode(ciphertext[:c1_end], what="SM2 ciphertext C1")  # B1
        c3 = ciphertext[c1_end : c1_end + SM3_DIGEST_SIZE]
        c2 = ciphertext[c1_end + SM3_DIGEST_SIZE :]
        x2, y2 = c1.multiply(self._scalar()).coordinates()  # B2 (h = 1), B3
        t = sm3_kdf(x2 + y2, len(c2))  # B4
        if not any(t):
            raise AuthenticationFailedError("SM2 decryption failed")
        plaintext = (int.from_bytes(c2, "big") ^ int.from_bytes(t, "big")).to_bytes(
            len(c2), "big"
        )  # B5
        if not hmac.compare_digest(sm3_hash(x2 + plaintext + y2), c3):  # B6
            raise AuthenticationFailedError("SM2 decryption failed: C3 check value mismatch")
        return plaintext
