"""A compact binary layout per device type, for constrained devices (NB-IoT meters).

Big-endian: ``u8 version (1) | u8 type code | u8 count | u64 base time (ms)``,
then ``count`` records of ``u32 offset (ms) | f32 × the type's metrics`` in
the catalogue's order. NaN marks a metric the device did not measure. A
water meter's single reading is 11 + 4 + 8 = 23 bytes, against ~60 in JSON.
"""

from __future__ import annotations

import math
import struct
from functools import lru_cache

from wuye.adapters.devices.types import DeviceType
from wuye.adapters.vendors.base import DecodeError, Reading, Sample, VendorFormat

VERSION = 1
_HEADER = struct.Struct(">BBBQ")


@lru_cache(maxsize=64)
def _record(n_metrics: int) -> struct.Struct:
    return struct.Struct(f">I{n_metrics}f")


class CompactFormat(VendorFormat):
    name = "compact"

    def decode(self, body: bytes, device_type: DeviceType) -> list[Reading]:
        if len(body) < _HEADER.size:
            raise DecodeError("shorter than the compact header")
        version, type_code, count, base = _HEADER.unpack_from(body)
        if version != VERSION:
            raise DecodeError(f"unknown compact version {version}")
        if type_code != device_type.code:
            raise DecodeError(f"type code {type_code} is not {device_type.name}'s")
        record = _record(len(device_type.metrics))
        if len(body) != _HEADER.size + count * record.size:
            raise DecodeError(f"{len(body)} bytes do not hold {count} records")
        metrics = device_type.metrics
        out: list[Reading] = []
        offset = _HEADER.size
        for _ in range(count):
            dt, *values = record.unpack_from(body, offset)
            offset += record.size
            ts = base + dt
            for metric, value in zip(metrics, values, strict=True):
                if math.isnan(value):
                    continue
                if math.isinf(value):
                    raise DecodeError(f"{metric.name}: infinite value")
                out.append(Reading(metric.name, metric.unit, value, ts))
        return out

    def encode(self, samples: list[Sample], device_type: DeviceType) -> bytes:
        if not samples or len(samples) > 255:
            raise ValueError("a compact payload holds 1 to 255 samples")
        base = min(s.ts_ms for s in samples)
        record = _record(len(device_type.metrics))
        parts = [_HEADER.pack(VERSION, device_type.code, len(samples), base)]
        for s in samples:
            values = [s.values.get(m.name, math.nan) for m in device_type.metrics]
            parts.append(record.pack(s.ts_ms - base, *values))
        return b"".join(parts)
