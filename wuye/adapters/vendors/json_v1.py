"""JSON payloads: ``{"ts": ms, "values": {"metric": value}}`` or a list of such objects.

A value may also be ``{"v": value, "unit": "kPa"}`` in a unit other than the
catalogue's, when a factor between the two is known (kPa and MPa, W and kW, ...).
"""

from __future__ import annotations

import json
from typing import Any

from wuye.adapters.devices.types import DeviceType
from wuye.adapters.vendors.base import DecodeError, Reading, Sample, VendorFormat, reading

#: (from unit, to unit) -> factor.
CONVERSIONS: dict[tuple[str, str], float] = {
    ("kPa", "MPa"): 1e-3,
    ("MPa", "kPa"): 1e3,
    ("Pa", "kPa"): 1e-3,
    ("W", "kW"): 1e-3,
    ("kW", "W"): 1e3,
    ("mA", "A"): 1e-3,
    ("L/h", "m3/h"): 1e-3,
    ("mm", "m"): 1e-3,
}


class JsonFormat(VendorFormat):
    name = "json"

    def decode(self, body: bytes, device_type: DeviceType) -> list[Reading]:
        try:
            doc = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise DecodeError(f"not JSON: {exc}") from None
        items = doc if isinstance(doc, list) else [doc]
        out: list[Reading] = []
        for item in items:
            if not isinstance(item, dict) or not isinstance(item.get("values"), dict):
                raise DecodeError('each sample needs an object "values"')
            ts = item.get("ts")
            if not isinstance(ts, int) or isinstance(ts, bool):
                raise DecodeError('each sample needs an integer "ts" in milliseconds')
            for metric, raw in item["values"].items():
                out.append(reading(device_type, metric, _value(device_type, metric, raw), ts))
        return out

    def encode(self, samples: list[Sample], device_type: DeviceType) -> bytes:
        docs = [{"ts": s.ts_ms, "values": s.values} for s in samples]
        return json.dumps(docs[0] if len(docs) == 1 else docs, separators=(",", ":")).encode()


def _value(device_type: DeviceType, metric: str, raw: Any) -> float:
    unit = None
    if isinstance(raw, dict):
        unit, raw = raw.get("unit"), raw.get("v")
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise DecodeError(f"{metric}: value must be a number")
    known = device_type.metric(metric)
    if unit is None or known is None or unit == known.unit:
        return float(raw)
    factor = CONVERSIONS.get((unit, known.unit))
    if factor is None:
        raise DecodeError(f"{metric}: cannot convert {unit!r} to {known.unit!r}")
    return float(raw) * factor
