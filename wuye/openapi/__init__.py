"""The published OpenAPI contract, and adapters for external systems described by OpenAPI."""
