"""Commands from the platform to devices, protected like telemetry, with a lifecycle."""
