"""Telemetry (运行数据): stored readings, their latest values, downsampled history, profiles."""
