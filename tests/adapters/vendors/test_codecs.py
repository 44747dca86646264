"""Every vendor format decodes what it encodes, and rejects garbage with DecodeError."""

from __future__ import annotations

import json
import math
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wuye.adapters.devices.types import DEVICE_TYPES
from wuye.adapters.vendors import VENDORS, DecodeError, Sample
from wuye.adapters.vendors.modbus import register_map

TYPES = st.sampled_from(sorted(DEVICE_TYPES))
TS = st.integers(0, 2**48)


def _f32(x: float) -> float:
    return struct.unpack(">f", struct.pack(">f", x))[0]


@st.composite
def samples(draw, device_type, n=st.integers(1, 5)):
    base = draw(TS)
    out = []
    for _ in range(draw(n)):
        values = {
            m.name: draw(st.floats(-1e6, 1e6, allow_nan=False, width=32))
            for m in device_type.metrics
        }
        out.append(Sample(base + draw(st.integers(0, 2**31)), values))
    return out


@given(data=st.data(), type_name=TYPES)
@settings(max_examples=150, deadline=None)
def test_compact_round_trips_float32_values(data, type_name):
    device_type = DEVICE_TYPES[type_name]
    batch = data.draw(samples(device_type))
    readings = VENDORS["compact"].decode(VENDORS["compact"].encode(batch, device_type), device_type)
    expected = [
        (m.name, m.unit, _f32(s.values[m.name]), s.ts_ms)
        for s in batch
        for m in device_type.metrics
    ]
    assert [tuple(r) for r in readings] == expected


@given(data=st.data(), type_name=TYPES)
@settings(max_examples=150, deadline=None)
def test_json_round_trips_exactly(data, type_name):
    device_type = DEVICE_TYPES[type_name]
    batch = data.draw(samples(device_type))
    readings = VENDORS["json"].decode(VENDORS["json"].encode(batch, device_type), device_type)
    assert [(r.metric, r.value, r.ts_ms) for r in readings] == [
        (name, value, s.ts_ms) for s in batch for name, value in s.values.items()
    ]


@given(data=st.data(), type_name=TYPES)
@settings(max_examples=150, deadline=None)
def test_modbus_round_trips_within_one_register_count(data, type_name):
    device_type = DEVICE_TYPES[type_name]
    values = {}
    for metric, _unit, _address, kind, scale in register_map(device_type):
        top = {"u16": 0xFFFF, "i16": 0x7FFF, "u32": 0xFFFFFFFF, "f32": 1e6}[kind]
        bottom = -0x8000 if kind == "i16" else 0
        values[metric] = data.draw(st.floats(bottom * scale, top * scale, allow_nan=False))
    ts = data.draw(TS)
    body = VENDORS["modbus"].encode([Sample(ts, values)], device_type)
    readings = VENDORS["modbus"].decode(body, device_type)
    for r, (metric, _u, _a, kind, scale) in zip(readings, register_map(device_type), strict=True):
        assert r.metric == metric and r.ts_ms == ts
        tolerance = scale / 2 + 1e-9 if kind != "f32" else abs(values[metric]) * 1e-6 + 1e-6
        assert math.isclose(r.value, values[metric], abs_tol=tolerance * 1.0001)


def test_modbus_reads_only_the_registers_in_the_polled_window():
    device_type = DEVICE_TYPES["water_pump"]
    # registers 2..3: current_a (u16 x 0.01) and vibration_mm_s (u16 x 0.01)
    body = struct.pack(">BQHB", 1, 1_700_000_000_000, 1, 2) + struct.pack(">HH", 2150, 310)
    readings = VENDORS["modbus"].decode(body, device_type)
    assert [(r.metric, r.value) for r in readings] == [
        ("current_a", pytest.approx(21.5)),
        ("vibration_mm_s", pytest.approx(3.1)),
    ]


def test_json_converts_a_known_unit_into_the_catalogues():
    device_type = DEVICE_TYPES["gas_meter"]
    body = json.dumps({"ts": 5, "values": {"pressure_kpa": {"v": 2300, "unit": "Pa"}}}).encode()
    (reading,) = VENDORS["json"].decode(body, device_type)
    assert (reading.unit, reading.value) == ("kPa", pytest.approx(2.3))


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"ts": 1}',
        b'{"ts": "1", "values": {}}',
        b'{"ts": 1, "values": {"no_such_metric": 1}}',
        b'{"ts": 1, "values": {"flow_m3h": "high"}}',
        b'{"ts": 1, "values": {"flow_m3h": {"v": 1, "unit": "furlong"}}}',
    ],
)
def test_json_rejects_malformed_bodies(body):
    with pytest.raises(DecodeError):
        VENDORS["json"].decode(body, DEVICE_TYPES["water_meter"])


def test_compact_rejects_another_types_payload():
    body = VENDORS["compact"].encode([Sample(1, {})], DEVICE_TYPES["elevator"])
    with pytest.raises(DecodeError, match="type code"):
        VENDORS["compact"].decode(body, DEVICE_TYPES["water_meter"])


@given(body=st.binary(max_size=64), type_name=TYPES, vendor=st.sampled_from(sorted(VENDORS)))
@settings(max_examples=300, deadline=None)
def test_arbitrary_bytes_decode_or_raise_decode_error_only(body, type_name, vendor):
    try:
        readings = VENDORS[vendor].decode(body, DEVICE_TYPES[type_name])
    except DecodeError:
        return
    assert all(math.isfinite(r.value) for r in readings)
