"""What every vendor format does: bytes in, normalised readings out (and back, for simulators)."""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import NamedTuple

from wuye.adapters.devices.types import DeviceType


class Reading(NamedTuple):
    """One normalised reading of a device: metric, unit of the catalogue, value, time (ms)."""

    metric: str
    unit: str
    value: float
    ts_ms: int


class Sample(NamedTuple):
    """What a device measured at one instant: metric -> value in the catalogue's units."""

    ts_ms: int
    values: dict[str, float]


class DecodeError(ValueError):
    """The payload does not follow the vendor's format."""


class VendorFormat(ABC):
    """A payload format. Subclass, give it a ``name``, and add it to ``VENDORS``."""

    name: str

    @abstractmethod
    def decode(self, body: bytes, device_type: DeviceType) -> list[Reading]:
        """The readings in ``body``; raises :class:`DecodeError` on any malformed input."""

    @abstractmethod
    def encode(self, samples: list[Sample], device_type: DeviceType) -> bytes:
        """``samples`` as this vendor's devices would send them."""


def reading(device_type: DeviceType, metric: str, value: float, ts_ms: int) -> Reading:
    """A checked reading: the metric must be the type's and the value finite."""
    known = device_type.metric(metric)
    if known is None:
        raise DecodeError(f"{device_type.name} has no metric {metric!r}")
    if not math.isfinite(value):
        raise DecodeError(f"{metric}: value {value!r} is not finite")
    if not 0 <= ts_ms < 2**63:
        raise DecodeError(f"timestamp {ts_ms} out of range")
    return Reading(metric, known.unit, float(value), int(ts_ms))
