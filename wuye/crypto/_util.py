"""Input checks shared by the 国密 modules: one wording for one mistake."""

from __future__ import annotations

from wuye.crypto.errors import MalformedInputError

BytesLike = bytes | bytearray | memoryview


def require_bytes(name: str, value: object) -> bytes:
    """Return ``value`` as ``bytes``, or raise :class:`MalformedInputError` naming it."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    raise MalformedInputError(f"{name} must be bytes, not {type(value).__name__}")


def require_length(name: str, value: object, *lengths: int) -> bytes:
    """Return ``value`` as ``bytes`` of one of ``lengths``, or raise naming the mistake."""
    data = require_bytes(name, value)
    if len(data) not in lengths:
        expected = " or ".join(str(n) for n in lengths)
        raise MalformedInputError(f"{name} must be {expected} bytes long, got {len(data)}")
    return data
