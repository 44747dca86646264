"""Device telemetry: MQTT ingest, payload protection, vendor formats, thresholds, alarms.

Work orders and their dispatch live in :mod:`wuye.platform.workorders`.
"""

#: Messages the ingest stores in one transaction at most. Large enough that a busy ingest
#: writes each hot index page once for several messages (on SQLite each commit writes
#: every page it touched).
BATCH_SIZE = 5000
#: How long the ingest lets messages gather before it stores them (seconds).
BATCH_INTERVAL = 0.2
