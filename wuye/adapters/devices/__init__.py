"""Devices (设备): the registry of an estate's devices, their types and their keys."""
