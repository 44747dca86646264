"""The device types the platform knows, their metrics, units and static limits.

One table: a type names the metrics it reports (each with a normalised unit,
static alarm limits and the severity of crossing them), the skill a repair
needs, and a typical daily profile the simulator draws from. Static limits
follow the usual engineering norms (supply voltage 220 V ±10 %, GB/T 12325;
sprinkler end pressure at least 0.05 MPa, GB 50084, here 0.10 MPa with
margin; pump vibration 7.1 mm/s, ISO 10816 class II "unsatisfactory").
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Alarm severities, least to most urgent.
SEVERITIES = ("info", "minor", "major", "critical")


def severity_rank(severity: str) -> int:
    return SEVERITIES.index(severity)


@dataclass(frozen=True, slots=True)
class Metric:
    """One measured quantity of a device type."""

    name: str
    unit: str
    low: float | None = None
    high: float | None = None
    severity: str = "major"
    #: Simulator profile: typical value, relative daily swing, relative noise.
    nominal: float = 1.0
    swing: float = 0.0
    noise: float = 0.02
    #: Modbus register encoding: "u16", "i16", "u32" or "f32", and the scale of one count.
    modbus: tuple[str, float] = ("f32", 1.0)


@dataclass(frozen=True, slots=True)
class DeviceType:
    """A kind of device: what it measures and who repairs it."""

    name: str
    code: int  # one byte, identifies the type in compact binary payloads
    label: str  # Chinese / English
    skill: str  # the staff skill a repair needs (see wuye.platform.staff.models.SKILLS)
    metrics: tuple[Metric, ...] = field(default_factory=tuple)

    _index: dict[str, Metric] = field(
        init=False, repr=False, compare=False, hash=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        self._index.update((m.name, m) for m in self.metrics)

    def metric(self, name: str) -> Metric | None:
        return self._index.get(name)


M = Metric
DEVICE_TYPES: dict[str, DeviceType] = {
    t.name: t
    for t in (
        DeviceType(
            "water_meter",
            1,
            "水表 / water meter",
            "plumbing",
            (
                M("flow_m3h", "m3/h", 0, 40, "major", 6, 0.8, 0.05, ("u16", 0.01)),
                M("pressure_mpa", "MPa", 0.15, 0.6, "major", 0.35, 0.1, 0.02, ("u16", 0.001)),
            ),
        ),
        DeviceType(
            "power_meter",
            2,
            "电表 / power meter",
            "electrical",
            (
                M("power_kw", "kW", 0, 400, "major", 120, 0.6, 0.03, ("u32", 0.01)),
                M("voltage_v", "V", 198, 242, "major", 220, 0.01, 0.005, ("u16", 0.1)),
                M("current_a", "A", 0, 600, "major", 180, 0.6, 0.03, ("u16", 0.1)),
            ),
        ),
        DeviceType(
            "gas_meter",
            3,
            "燃气表 / gas meter",
            "gas",
            (
                M("flow_m3h", "m3/h", 0, 60, "major", 8, 0.9, 0.05, ("u16", 0.01)),
                M("pressure_kpa", "kPa", 1.5, 3.5, "critical", 2.3, 0.05, 0.02, ("u16", 0.001)),
            ),
        ),
        DeviceType(
            "heat_meter",
            4,
            "热量表 / heat meter",
            "hvac",
            (
                M("supply_temp_c", "°C", 40, 95, "major", 70, 0.05, 0.01, ("i16", 0.1)),
                M("return_temp_c", "°C", 30, 70, "major", 50, 0.05, 0.01, ("i16", 0.1)),
                M("flow_m3h", "m3/h", 0, 80, "minor", 20, 0.3, 0.03, ("u16", 0.01)),
            ),
        ),
        DeviceType(
            "elevator",
            5,
            "电梯 / elevator",
            "elevator",
            (
                M("speed_ms", "m/s", 0, 2.0, "critical", 1.5, 0.0, 0.01, ("u16", 0.001)),
                M("load_pct", "%", 0, 100, "major", 40, 0.5, 0.1, ("u16", 0.1)),
                M("door_faults", "count", 0, 0.5, "major", 0, 0.0, 0.0, ("u16", 1.0)),
                M("fault", "flag", 0, 0.5, "critical", 0, 0.0, 0.0, ("u16", 1.0)),
            ),
        ),
        DeviceType(
            "fire_alarm",
            6,
            "火灾报警 / fire alarm",
            "fire",
            (
                M("smoke_pct_m", "%/m", 0, 4, "critical", 0.1, 0.0, 0.2, ("u16", 0.01)),
                M("battery_pct", "%", 20, 100, "minor", 90, 0.0, 0.002, ("u16", 0.1)),
            ),
        ),
        DeviceType(
            "sprinkler_pressure",
            7,
            "喷淋压力 / sprinkler pressure",
            "fire",
            (M("pressure_mpa", "MPa", 0.10, 1.20, "critical", 0.5, 0.05, 0.01, ("u16", 0.001)),),
        ),
        DeviceType(
            "water_pump",
            8,
            "水泵 / water pump",
            "plumbing",
            (
                M("outlet_pressure_mpa", "MPa", 0.2, 0.8, "major", 0.45, 0.1, 0.02, ("u16", 0.001)),
                M("current_a", "A", 0, 50, "major", 20, 0.5, 0.03, ("u16", 0.01)),
                M("vibration_mm_s", "mm/s", 0, 7.1, "major", 2.5, 0.1, 0.05, ("u16", 0.01)),
                M("flow_m3h", "m3/h", 0, 120, "minor", 30, 0.8, 0.05, ("u16", 0.01)),
            ),
        ),
        DeviceType(
            "lighting",
            9,
            "照明 / lighting",
            "electrical",
            (
                M("lux", "lx", None, None, "info", 300, 1.0, 0.05, ("u16", 1.0)),
                M("power_w", "W", 0, 2000, "minor", 400, 1.0, 0.03, ("u16", 1.0)),
            ),
        ),
        DeviceType(
            "pipeline_pressure",
            10,
            "管网压力 / pipeline pressure",
            "plumbing",
            (M("pressure_mpa", "MPa", 0.15, 0.6, "major", 0.35, 0.1, 0.02, ("u16", 0.001)),),
        ),
        DeviceType(
            "transformer",
            11,
            "变压器 / transformer",
            "electrical",
            (
                M("oil_temp_c", "°C", -20, 85, "critical", 55, 0.1, 0.01, ("i16", 0.1)),
                M("load_pct", "%", 0, 100, "major", 55, 0.5, 0.03, ("u16", 0.1)),
                M("voltage_v", "V", 360, 440, "major", 400, 0.01, 0.005, ("u16", 0.1)),
            ),
        ),
        DeviceType(
            "manhole_cover",
            12,
            "井盖 / manhole cover",
            "general",
            (
                M("tilt_deg", "°", 0, 15, "major", 1, 0.0, 0.1, ("u16", 0.01)),
                M("water_level_m", "m", 0, 1.5, "minor", 0.3, 0.2, 0.05, ("u16", 0.001)),
            ),
        ),
        DeviceType(
            "camera",
            13,
            "摄像头 / camera",
            "security",
            (M("online", "flag", 0.5, 1, "minor", 1, 0.0, 0.0, ("u16", 1.0)),),
        ),
        DeviceType(
            "barrier_gate",
            14,
            "道闸 / barrier gate",
            "security",
            (
                M("online", "flag", 0.5, 1, "minor", 1, 0.0, 0.0, ("u16", 1.0)),
                M("fault", "flag", 0, 0.5, "major", 0, 0.0, 0.0, ("u16", 1.0)),
            ),
        ),
        DeviceType(
            "ev_charger",
            15,
            "充电桩 / EV charger",
            "electrical",
            (
                M("power_kw", "kW", 0, 60, "major", 20, 0.8, 0.05, ("u16", 0.01)),
                M("temp_c", "°C", -30, 70, "major", 35, 0.2, 0.02, ("i16", 0.1)),
                M("fault", "flag", 0, 0.5, "major", 0, 0.0, 0.0, ("u16", 1.0)),
            ),
        ),
    )
}
del M

DEVICE_TYPES_BY_CODE: dict[int, DeviceType] = {t.code: t for t in DEVICE_TYPES.values()}
