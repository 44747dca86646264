"""A Modbus-style register map: an image of holding registers, as a gateway polls them.

Big-endian: ``u8 unit id | u64 time (ms) | u16 start address | u8 register count``,
then the 16-bit registers. Each device type's metrics occupy registers in the
catalogue's order, each with its encoding (``u16``, ``i16``, ``u32`` or
``f32`` — two registers, high word first) and the scale of one count, as a
vendor's register table would list them (e.g. pressure u16 × 0.001 MPa).
"""

from __future__ import annotations

import math
import struct
from functools import lru_cache

from wuye.adapters.devices.types import DeviceType
from wuye.adapters.vendors.base import DecodeError, Reading, Sample, VendorFormat

_HEADER = struct.Struct(">BQHB")
_WIDTH = {"u16": 1, "i16": 1, "u32": 2, "f32": 2}
_CODEC = {
    "u16": struct.Struct(">H"),
    "i16": struct.Struct(">h"),
    "u32": struct.Struct(">I"),
    "f32": struct.Struct(">f"),
}
_LIMITS = {"u16": (0, 0xFFFF), "i16": (-0x8000, 0x7FFF), "u32": (0, 0xFFFFFFFF)}


@lru_cache(maxsize=64)
def register_map(device_type: DeviceType) -> tuple[tuple[str, str, int, str, float], ...]:
    """(metric, unit, address, encoding, scale) per metric, addresses from 0."""
    out, address = [], 0
    for metric in device_type.metrics:
        kind, scale = metric.modbus
        out.append((metric.name, metric.unit, address, kind, scale))
        address += _WIDTH[kind]
    return tuple(out)


def _raw(kind: str, scale: float, value: float) -> bytes:
    if kind == "f32":
        return _CODEC[kind].pack(value / scale)
    low, high = _LIMITS[kind]
    return _CODEC[kind].pack(min(high, max(low, round(value / scale))))


class ModbusFormat(VendorFormat):
    name = "modbus"

    def decode(self, body: bytes, device_type: DeviceType) -> list[Reading]:
        if len(body) < _HEADER.size:
            raise DecodeError("shorter than the register header")
        _unit, ts, start, count = _HEADER.unpack_from(body)
        registers = body[_HEADER.size :]
        if len(registers) != 2 * count:
            raise DecodeError(f"{len(registers)} bytes are not {count} registers")
        out: list[Reading] = []
        for metric, unit, address, kind, scale in register_map(device_type):
            first = address - start
            if first < 0 or first + _WIDTH[kind] > count:
                continue  # not in this poll's window
            (raw,) = _CODEC[kind].unpack_from(registers, 2 * first)
            value = raw * scale
            if not math.isfinite(value):
                raise DecodeError(f"{metric}: register value is not finite")
            out.append(Reading(metric, unit, value, ts))
        return out

    def encode(self, samples: list[Sample], device_type: DeviceType) -> bytes:
        if len(samples) != 1:
            raise ValueError("a register image holds one sample")
        sample = samples[0]
        regs = b"".join(
            _raw(kind, scale, sample.values[metric])
            for metric, _u, _a, kind, scale in register_map(device_type)
        )
        return _HEADER.pack(1, sample.ts_ms, 0, len(regs) // 2) + regs
