"""Alarms (告警): raised when a reading crosses a limit, acknowledged, cleared with hysteresis."""
