"""Adapters: wuye calls an external system described by an OpenAPI document and imports
its records (or pushes wuye's) as a declarative YAML mapping says."""
