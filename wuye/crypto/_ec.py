"""Point arithmetic on the SM2 recommended curve, in Tongsuo's libcrypto.

tongsuopy's public API covers SM2 keys and signatures. Encryption (GB/T
32918.4) and key agreement (GB/T 32918.3) also need bare scalar
multiplication and point addition; this module offers them over the same
library, through tongsuopy's cffi binding, so every SM2 operation shares one
constant-time implementation of the curve.
"""

from __future__ import annotations

from typing import Any

from tongsuopy.backends.tongsuo import backend as _backend

from wuye.crypto.errors import CryptoError, MalformedInputError

__all__ = [
    "A",
    "B",
    "COORDINATE_SIZE",
    "GX",
    "GY",
    "N",
    "P",
    "Point",
]

# GB/T 32918.5-2017, clause 4: the recommended 256-bit curve y^2 = x^3 + ax + b over F_p.
P = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF
A = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC
B = 0x28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93
N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
GX = 0x32C4AE2C1F1981195F9904466A39C9948FE30BBFF2660BE1715A4589334C74C7
GY = 0xBC3736A2F4F6779C59BDCEE36B692153D0A9877CC62A474002DF32E52139F0A0
#: Bytes in one field element or scalar.
COORDINATE_SIZE = 32

_lib: Any = _backend._lib
_ffi: Any = _backend._ffi
_GROUP = _lib.EC_GROUP_new_by_curve_name(_lib.OBJ_sn2nid(b"SM2"))
if _GROUP == _ffi.NULL:  # pragma: no cover - every Tongsuo build has SM2
    raise ImportError("the Tongsuo library behind tongsuopy has no SM2 curve")
_GROUP = _ffi.gc(_GROUP, _lib.EC_GROUP_free)


def _scalar_to_bn(k: int) -> Any:
    bn = _lib.BN_bin2bn(k.to_bytes(COORDINATE_SIZE, "big"), COORDINATE_SIZE, _ffi.NULL)
    if bn == _ffi.NULL:  # pragma: no cover - only on memory exhaustion
        raise CryptoError("out of memory converting a scalar")
    return _ffi.gc(bn, _lib.BN_clear_free)


def _new_point() -> Any:
    point = _lib.EC_POINT_new(_GROUP)
    if point == _ffi.NULL:  # pragma: no cover - only on memory exhaustion
        raise CryptoError("out of memory allocating a point")
    return _ffi.gc(point, _lib.EC_POINT_clear_free)


class Point:
    """A point of the SM2 curve group (never the point at infinity once decoded)."""

    __slots__ = ("_cdata",)

    def __init__(self, cdata: Any) -> None:
        self._cdata = cdata

    @classmethod
    def decode(cls, data: bytes, *, what: str = "point") -> Point:
        """Decode an uncompressed point ``04 || x || y`` (GB/T 32918.1-2016, 4.2.9).

        Raises:
            MalformedInputError: wrong length or prefix, coordinates out of range,
                not on the curve, or the point at infinity.
        """
        if len(data) != 1 + 2 * COORDINATE_SIZE or data[0] != 0x04:
            raise MalformedInputError(
                f"{what} must be an uncompressed SM2 point: 65 bytes starting with 04"
            )
        x = int.from_bytes(data[1 : 1 + COORDINATE_SIZE], "big")
        y = int.from_bytes(data[1 + COORDINATE_SIZE :], "big")
        if x >= P or y >= P:
            raise MalformedInputError(f"{what} has a coordinate outside the field")
        point = _new_point()
        with _backend._tmp_bn_ctx() as bn_ctx:
            ok = _lib.EC_POINT_oct2point(_GROUP, point, data, len(data), bn_ctx)
            if ok != 1 or _lib.EC_POINT_is_on_curve(_GROUP, point, bn_ctx) != 1:
                _backend._consume_errors()
                raise MalformedInputError(f"{what} is not on the SM2 curve")
        if _lib.EC_POINT_is_at_infinity(_GROUP, point):
            raise MalformedInputError(f"{what} is the point at infinity")
        return cls(point)

    @classmethod
    def from_cdata(cls, cdata: Any) -> Point:
        """Copy a point borrowed from another object (e.g. an ``EC_KEY``'s public key)."""
        point = _lib.EC_POINT_dup(cdata, _GROUP)
        if point == _ffi.NULL:  # pragma: no cover - only on memory exhaustion
            raise CryptoError("out of memory copying a point")
        return cls(_ffi.gc(point, _lib.EC_POINT_clear_free))

    @classmethod
    def generator_multiple(cls, k: int) -> Point:
        """Return ``[k]G`` for the curve's base point ``G``."""
        point = _new_point()
        with _backend._tmp_bn_ctx() as bn_ctx:
            ok = _lib.EC_POINT_mul(_GROUP, point, _scalar_to_bn(k), _ffi.NULL, _ffi.NULL, bn_ctx)
        _check(ok, "scalar multiplication")
        return cls(point)

    def multiply(self, k: int) -> Point:
        """Return ``[k]self`` (``0 <= k < n``)."""
        point = _new_point()
        with _backend._tmp_bn_ctx() as bn_ctx:
            ok = _lib.EC_POINT_mul(_GROUP, point, _ffi.NULL, self._cdata, _scalar_to_bn(k), bn_ctx)
        _check(ok, "scalar multiplication")
        return Point(point)

    def add(self, other: Point) -> Point:
        """Return ``self + other``."""
        point = _new_point()
        with _backend._tmp_bn_ctx() as bn_ctx:
            ok = _lib.EC_POINT_add(_GROUP, point, self._cdata, other._cdata, bn_ctx)
        _check(ok, "point addition")
        return Point(point)

    @property
    def is_infinity(self) -> bool:
        return bool(_lib.EC_POINT_is_at_infinity(_GROUP, self._cdata))

    def encode(self) -> bytes:
        """Encode as ``04 || x || y`` with 32-byte coordinates (GB/T 32918.1-2016, 4.2.9)."""
        if self.is_infinity:
            raise CryptoError("the point at infinity has no affine encoding")
        size = 1 + 2 * COORDINATE_SIZE
        buf = _ffi.new("unsigned char[]", size)
        with _backend._tmp_bn_ctx() as bn_ctx:
            written = _lib.EC_POINT_point2oct(
                _GROUP, self._cdata, _lib.POINT_CONVERSION_UNCOMPRESSED, buf, size, bn_ctx
            )
        _check(written == size, "point encoding")
        return bytes(_ffi.buffer(buf, size))

    def coordinates(self) -> tuple[bytes, bytes]:
        """Return the affine ``(x, y)`` as two 32-byte big-endian strings."""
        encoded = self.encode()
        return encoded[1 : 1 + COORDINATE_SIZE], encoded[1 + COORDINATE_SIZE :]


def _check(ok: object, what: str) -> None:
    if ok != 1 and ok is not True:
        errors = _backend._consume_errors()
        raise CryptoError(f"SM2 {what} failed in the crypto library: {errors!r}")
