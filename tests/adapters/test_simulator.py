"""The simulator's devices behave like field devices, faults included."""

from __future__ import annotations

import statistics

from wuye.adapters import oscore, simulator
from wuye.adapters.devices.types import DEVICE_TYPES
from wuye.adapters.thresholds import HOUR_MS
from wuye.adapters.vendors import VENDORS

DAY_START = 1_700_000_000_000 - (1_700_000_000_000 + 8 * HOUR_MS) % (24 * HOUR_MS)  # local 0:00


def _device(fault=None, type_name="power_meter", vendor="compact"):
    sender, _ = oscore.device_contexts(b"s" * 16, "SIM-1")
    return simulator.SimulatedDevice(
        code="SIM-1",
        topic="wuye/t/e/SIM-1/telemetry",
        device_type=DEVICE_TYPES[type_name],
        vendor=vendor,
        sender=sender,
        fault=fault,
    )


def _power(device, hour, n=50):
    return [device.sample(DAY_START + hour * HOUR_MS).values["power_kw"] for _ in range(n)]


def test_demand_peaks_in_the_evening_and_dips_at_night():
    device = _device()
    assert statistics.mean(_power(device, 19)) > 1.5 * statistics.mean(_power(device, 3))


def test_a_stuck_device_repeats_its_first_sample():
    device = _device("stuck")
    first = device.sample(DAY_START).values
    assert all(device.sample(DAY_START + i).values == first for i in range(20))


def test_a_drifting_device_drifts_upwards():
    device = _device("drift")
    early = statistics.mean(_power(device, 12, n=20))
    device.sent = 2000
    assert statistics.mean(_power(device, 12, n=20)) > early + 100


def test_a_spiking_device_sometimes_reads_several_times_normal():
    values = _power(_device("spike"), 12, n=1000)
    median = statistics.median(values)
    assert 0 < sum(v > 3 * median for v in values) < 60


def test_a_silent_device_stops_after_a_tenth_of_its_share():
    talking, silent = _device(), _device("silence")
    messages = list(simulator.stream([talking, silent], count=200))
    assert (talking.sent, silent.sent) == (190, 10)
    assert len(messages) == 200


def test_messages_are_protected_and_decode_with_the_devices_vendor():
    device = _device(vendor="modbus", type_name="transformer")
    topic, payload = device.message(DAY_START)
    recipient = oscore.RecipientContext(
        oscore.CommonContext(b"s" * 16, b"SIM-1"), oscore.DEVICE_SENDER_ID
    )
    readings = VENDORS["modbus"].decode(
        recipient.unprotect(payload, topic).body, DEVICE_TYPES["transformer"]
    )
    assert [r.metric for r in readings] == ["oil_temp_c", "load_pct", "voltage_v"]
