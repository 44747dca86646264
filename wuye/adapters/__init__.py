"""Device telemetry: MQTT ingest, payload protection, vendor formats, thresholds, alarms, dispatch."""
