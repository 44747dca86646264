"""OpenAPI documents of external systems: loading, operations by id, and schema validation.

Instances are checked with the OpenAPI 3.1 dialect of JSON Schema (2020-12 plus
OpenAPI's vocabulary), references resolved against the document's components.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate as validate_spec

_METHODS = ("get", "put", "post", "delete", "patch")


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str
    spec: dict[str, Any]
    parameters: tuple[dict[str, Any], ...]

    @property
    def request_schema(self) -> dict[str, Any] | None:
        content = self.spec.get("requestBody", {}).get("content", {})
        return content.get("application/json", {}).get("schema")

    def response_schema(self, status: int) -> dict[str, Any] | None:
        responses = self.spec.get("responses", {})
        resp = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
        if resp is None:
            return None
        return resp.get("content", {}).get("application/json", {}).get("schema")


class Document:
    """One OpenAPI document, checked against the OpenAPI specification on load."""

    def __init__(self, doc: dict[str, Any], *, source: str = "<memory>") -> None:
        validate_spec(doc)
        self.doc = doc
        self.source = source

    @classmethod
    def load(cls, path: Path | str) -> Document:
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        doc = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        return cls(doc, source=str(path))

    @cached_property
    def operations(self) -> dict[str, Operation]:
        out = {}
        for path, item in self.doc.get("paths", {}).items():
            shared = item.get("parameters", [])
            for method in _METHODS:
                if method in item:
                    op = item[method]
                    params = tuple(self.resolve(p) for p in [*shared, *op.get("parameters", [])])
                    oid = op.get("operationId") or f"{method} {path}"
                    out[oid] = Operation(oid, method, path, op, params)
        return out

    def operation(self, operation_id: str) -> Operation:
        try:
            return self.operations[operation_id]
        except KeyError:
            raise KeyError(f"{self.source}: no operation {operation_id!r}") from None

    def resolve(self, node: dict[str, Any] | None) -> dict[str, Any]:
        node = node or {}
        for _ in range(32):
            ref = node.get("$ref")
            if not ref:
                return node
            target: Any = self.doc
            for part in ref.removeprefix("#/").split("/"):
                target = target[part]
            node = target
        raise ValueError("reference loop")

    def errors(self, schema: dict[str, Any] | None, instance: Any) -> list[str]:
        """Every way ``instance`` fails ``schema`` ('' when none), as ``path: message``."""
        if not schema:
            return []
        root = {**schema, "components": self.doc.get("components", {})}
        validator = OAS31Validator(root)
        out = []
        for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.path)):
            where = ".".join(str(p) for p in error.absolute_path) or "(root)"
            out.append(f"{where}: {error.message}")
        return out

    def object_schema(self, schema: dict[str, Any] | None) -> dict[str, Any]:
        """The object alternative of ``schema`` (through ``$ref``/``anyOf``/``allOf``)."""
        schema = self.resolve(schema)
        for key in ("anyOf", "oneOf", "allOf"):
            for alt in schema.get(key, []):
                found = self.object_schema(alt)
                if found:
                    return found
        return schema if schema.get("type") == "object" or "properties" in schema else {}

    def at_path(self, schema: dict[str, Any] | None, dotted: str) -> dict[str, Any] | None:
        """The sub-schema at ``a.b.c`` of an object schema, or None if it has no such field."""
        node: dict[str, Any] | None = self.resolve(schema)
        for part in [p for p in dotted.split(".") if p]:
            obj = self.object_schema(node)
            props = obj.get("properties", {})
            if part not in props:
                return None
            node = self.resolve(props[part])
        return node
