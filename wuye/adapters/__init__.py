"""Device telemetry: MQTT ingest, payload protection, vendor formats, thresholds, alarms.

Work orders and their dispatch live in :mod:`wuye.platform.workorders`.
"""
