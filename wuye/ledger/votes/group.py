"""The SM2 curve group as the votes need it: scalars, fixed bases, and fast public arithmetic.

Secret scalars (encryption randomness, proof nonces, trustee shares) go through
:class:`wuye.crypto._ec.Point`, whose single-scalar multiplications take
Tongsuo's constant-time ladder. Verification handles only public values, so it
may use Tongsuo's variable-time interleaved (wNAF) path for ``aG + bP`` and a
Pippenger multi-scalar multiplication built on in-place point additions.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from typing import Any

from wuye.crypto._ec import _GROUP, GX, GY, N, Point, _backend, _ffi, _lib, _new_point
from wuye.crypto.errors import CryptoError, MalformedInputError

__all__ = ["G", "N", "Point", "double_mul", "msm", "neg", "point_eq", "random_scalar"]

#: The SM2 base point G (GB/T 32918.5-2017, clause 4).
G: Point = Point.generator_multiple(1)
assert G.coordinates() == (GX.to_bytes(32, "big"), GY.to_bytes(32, "big"))

_ZERO_BN: Any = _ffi.gc(_lib.BN_new(), _lib.BN_free)
_lib.BN_set_word(_ZERO_BN, 0)


def random_scalar() -> int:
    """A uniformly random non-zero scalar mod n."""
    return 1 + secrets.randbelow(N - 1)


def _bn(k: int) -> Any:
    k %= N
    bn = _lib.BN_bin2bn(k.to_bytes(32, "big"), 32, _ffi.NULL)
    if bn == _ffi.NULL:  # pragma: no cover - only on memory exhaustion
        raise CryptoError("out of memory converting a scalar")
    return _ffi.gc(bn, _lib.BN_free)


def _check(ok: int, what: str) -> None:
    if ok != 1:
        _backend._consume_errors()
        raise CryptoError(f"SM2 {what} failed in the crypto library")


def double_mul(a: int, p: Point, b: int) -> Point:
    """``[a]G + [b]P`` for public scalars, in one variable-time interleaved multiplication.

    Tongsuo takes its constant-time ladder when only one of the two scalars is
    given; passing ``a = 0`` as an explicit zero keeps the faster wNAF path, which
    is safe here because every operand is public.
    """
    out = _new_point()
    with _backend._tmp_bn_ctx() as ctx:
        first = _bn(a) if a % N else _ZERO_BN
        ok = _lib.EC_POINT_mul(_GROUP, out, first, p._cdata, _bn(b), ctx)
    _check(ok, "double multiplication")
    return Point(out)


def neg(p: Point) -> Point:
    """``-P``."""
    out = _lib.EC_POINT_dup(p._cdata, _GROUP)
    if out == _ffi.NULL:  # pragma: no cover
        raise CryptoError("out of memory copying a point")
    out = _ffi.gc(out, _lib.EC_POINT_clear_free)
    with _backend._tmp_bn_ctx() as ctx:
        _check(_lib.EC_POINT_invert(_GROUP, out, ctx), "point negation")
    return Point(out)


def point_eq(p: Point, q: Point) -> bool:
    with _backend._tmp_bn_ctx() as ctx:
        return _lib.EC_POINT_cmp(_GROUP, p._cdata, q._cdata, ctx) == 0


def identity() -> Point:
    """The point at infinity (the group's neutral element)."""
    return Point(_new_point())


def sub(p: Point, q: Point) -> Point:
    return p.add(neg(q))


def decode(hex_or_bytes: str | bytes, *, what: str = "point") -> Point:
    """A curve point from its uncompressed encoding, given as bytes or hex."""
    if isinstance(hex_or_bytes, str):
        try:
            raw = bytes.fromhex(hex_or_bytes.removeprefix("0x"))
        except ValueError as exc:
            raise MalformedInputError(f"{what} is not hex") from exc
    else:
        raw = hex_or_bytes
    return Point.decode(raw, what=what)


def _window_bits(n: int) -> int:
    """Pippenger's bucket width for ``n`` points (about ln n, from measurements here)."""
    if n < 8:
        return 2
    if n < 64:
        return 4
    if n < 1024:
        return 7
    if n < 16384:
        return 10
    if n < 131072:
        return 12
    return 14


def msm(terms: Sequence[tuple[int, Point]]) -> Point:
    """``Σ [kᵢ]Pᵢ`` for public scalars and points: Pippenger's bucket method.

    Each window of ``c`` bits drops every point into the bucket of its digit with
    one in-place addition, then sums the buckets with 2·2^c more additions; a
    term costs one addition per window its scalar reaches, so short scalars (the
    64-bit coefficients of batch verification) cost proportionally less. The
    result may be the point at infinity.
    """
    items = [(k % N, p) for k, p in terms if k % N]
    if not items:
        return identity()
    if len(items) == 1:
        return double_mul(0, items[0][1], items[0][0])
    items.sort(key=lambda kp: kp[0].bit_length(), reverse=True)
    c = _window_bits(len(items))
    mask = (1 << c) - 1
    windows = -(-items[0][0].bit_length() // c)
    lengths = [k.bit_length() for k, _ in items]
    add, dbl, group = _lib.EC_POINT_add, _lib.EC_POINT_dbl, _GROUP
    result = _new_point()
    with _backend._tmp_bn_ctx() as ctx:
        for w in range(windows - 1, -1, -1):
            for _ in range(c):
                dbl(group, result, result, ctx)
            shift = w * c
            buckets: dict[int, Any] = {}
            for (k, p), bits in zip(items, lengths, strict=True):
                if bits <= shift:
                    break  # sorted by length: no later scalar reaches this window
                digit = (k >> shift) & mask
                if digit:
                    bucket = buckets.get(digit)
                    if bucket is None:
                        bucket = buckets[digit] = _new_point()
                    add(group, bucket, bucket, p._cdata, ctx)
            running = _new_point()
            total = _new_point()
            for digit in range(mask, 0, -1):
                bucket = buckets.get(digit)
                if bucket is not None:
                    add(group, running, running, bucket, ctx)
                if not _lib.EC_POINT_is_at_infinity(group, running):
                    add(group, total, total, running, ctx)
            add(group, result, result, total, ctx)
    return Point(result)
