"""Vendor payload formats, registered in one table.

Adding a vendor is one small module (a :class:`VendorFormat` subclass) and
one line here, plus a test under ``tests/adapters/vendors``.
"""

from __future__ import annotations

from wuye.adapters.vendors.base import DecodeError, Reading, Sample, VendorFormat
from wuye.adapters.vendors.compact import CompactFormat
from wuye.adapters.vendors.json_v1 import JsonFormat
from wuye.adapters.vendors.modbus import ModbusFormat

VENDORS: dict[str, VendorFormat] = {
    vendor.name: vendor for vendor in (JsonFormat(), CompactFormat(), ModbusFormat())
}

__all__ = ["VENDORS", "DecodeError", "Reading", "Sample", "VendorFormat"]
