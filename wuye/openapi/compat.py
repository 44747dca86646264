"""Compatibility of two versions of an OpenAPI 3.1 document, as a client sees it.

A change breaks existing clients when a request they send today is refused
tomorrow, or a response they read today lacks what they read. Concretely:

* a path or an operation disappears;
* a parameter or a request-body field becomes required, or a new required one appears;
* a request field or parameter accepts fewer types or enum values than before
  (narrowed), or an accepted request field is removed from a closed schema;
* a response field disappears, stops being required, or may carry a type it did not.

Descriptions, summaries, examples and new optional things are compatible.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]
_MAX_DEPTH = 12
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


class _Doc:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc

    def resolve(self, schema: Schema | None) -> Schema:
        seen = 0
        schema = schema or {}
        while "$ref" in schema and seen < 32:
            node: Any = self.doc
            for part in schema["$ref"].removeprefix("#/").split("/"):
                node = node.get(part.replace("~1", "/").replace("~0", "~"), {})
            schema = node
            seen += 1
        return schema

    def variants(self, schema: Schema | None) -> list[Schema]:
        """The alternatives of ``anyOf``/``oneOf`` (or the schema itself), resolved."""
        schema = self.resolve(schema)
        alts = schema.get("anyOf") or schema.get("oneOf")
        if alts:
            return [v for alt in alts for v in self.variants(alt)]
        if "allOf" in schema and len(schema["allOf"]) == 1:
            return self.variants(schema["allOf"][0])
        return [schema]

    def types(self, schema: Schema | None) -> set[str]:
        """The JSON types a schema admits; ``{"any"}`` when it says nothing."""
        out: set[str] = set()
        for v in self.variants(schema):
            t = v.get("type")
            if t is None:
                if "properties" in v:
                    out.add("object")
                elif "const" in v or "enum" in v:
                    out.update(_json_type(x) for x in v.get("enum", [v.get("const")]))
                else:
                    return {"any"}
            elif isinstance(t, list):
                out.update(t)
            else:
                out.add(t)
        if "number" in out:
            out.add("integer")  # every integer is a number
        return out

    def enum(self, schema: Schema | None) -> set[Any] | None:
        values: set[Any] = set()
        for v in self.variants(schema):
            if "enum" in v:
                values.update(_hashable(x) for x in v["enum"])
            elif "const" in v:
                values.add(_hashable(v["const"]))
            elif v.get("type") == "null":
                values.add(None)
            else:
                return None  # an open alternative: no closed set
        return values

    def object_of(self, schema: Schema | None) -> Schema | None:
        for v in self.variants(schema):
            if v.get("type") == "object" or "properties" in v:
                return v
        return None

    def items_of(self, schema: Schema | None) -> Schema | None:
        for v in self.variants(schema):
            if v.get("type") == "array":
                return v.get("items", {})
        return None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object" if isinstance(value, dict) else "array"


def _hashable(value: Any) -> Any:
    return repr(value) if isinstance(value, dict | list) else value


def _request(old: _Doc, new: _Doc, a: Schema, b: Schema, where: str, depth: int) -> list[str]:
    """What a client could send under ``a`` that ``b`` refuses."""
    if depth > _MAX_DEPTH:
        return []
    problems = []
    ta, tb = old.types(a), new.types(b)
    if "any" not in tb and ("any" in ta or not ta <= tb):
        problems.append(f"{where}: request type narrowed {sorted(ta)} -> {sorted(tb)}")
        return problems
    ea, eb = old.enum(a), new.enum(b)
    if eb is not None and (ea is None or not ea <= eb):
        lost = sorted(map(str, (ea or set()) - eb)) if ea is not None else ["(any value)"]
        problems.append(f"{where}: request values no longer accepted: {', '.join(lost)}")
    oa, ob = old.object_of(a), new.object_of(b)
    if oa is not None and ob is not None:
        pa, pb = oa.get("properties", {}), ob.get("properties", {})
        ra, rb = set(oa.get("required", [])), set(ob.get("required", []))
        for name in sorted(rb - ra):
            problems.append(f"{where}.{name}: newly required in the request")
        closed = ob.get("additionalProperties") is False
        for name, sa in pa.items():
            if name in pb:
                problems += _request(old, new, sa, pb[name], f"{where}.{name}", depth + 1)
            elif closed:
                problems.append(f"{where}.{name}: request field removed (now refused)")
    ia, ib = old.items_of(a), new.items_of(b)
    if ia is not None and ib is not None:
        problems += _request(old, new, ia, ib, f"{where}[]", depth + 1)
    return problems


def _response(old: _Doc, new: _Doc, a: Schema, b: Schema, where: str, depth: int) -> list[str]:
    """What a client reads under ``a`` that ``b`` no longer promises."""
    if depth > _MAX_DEPTH:
        return []
    problems = []
    ta, tb = old.types(a), new.types(b)
    if "any" not in ta and ("any" in tb or not tb <= ta):
        problems.append(f"{where}: response type widened {sorted(ta)} -> {sorted(tb)}")
        return problems
    oa, ob = old.object_of(a), new.object_of(b)
    if oa is not None and ob is not None:
        pa, pb = oa.get("properties", {}), ob.get("properties", {})
        ra, rb = set(oa.get("required", [])), set(ob.get("required", []))
        for name, sa in pa.items():
            if name not in pb:
                problems.append(f"{where}.{name}: response field removed")
                continue
            if name in ra and name not in rb:
                problems.append(f"{where}.{name}: response field no longer required")
            problems += _response(old, new, sa, pb[name], f"{where}.{name}", depth + 1)
    ia, ib = old.items_of(a), new.items_of(b)
    if ia is not None and ib is not None:
        problems += _response(old, new, ia, ib, f"{where}[]", depth + 1)
    return problems


def _params(doc: _Doc, path_item: dict[str, Any], op: dict[str, Any]) -> dict[tuple, Schema]:
    out = {}
    for p in [*path_item.get("parameters", []), *op.get("parameters", [])]:
        p = doc.resolve(p)
        out[(p.get("in"), p.get("name"))] = p
    return out


def _json_body(doc: _Doc, op: dict[str, Any]) -> tuple[Schema | None, bool]:
    body = doc.resolve(op.get("requestBody"))
    content = body.get("content", {})
    media = content.get("application/json") or next(iter(content.values()), None)
    return (media or {}).get("schema") if media else None, bool(body.get("required"))


def _success(doc: _Doc, op: dict[str, Any]) -> dict[str, Schema]:
    out = {}
    for status, resp in op.get("responses", {}).items():
        if str(status).startswith("2"):
            content = doc.resolve(resp).get("content", {})
            media = content.get("application/json")
            if media and "schema" in media:
                out[str(status)] = media["schema"]
    return out


def breaking_changes(old_doc: dict[str, Any], new_doc: dict[str, Any]) -> list[str]:
    """Every change from ``old_doc`` to ``new_doc`` that breaks an existing client."""
    old, new = _Doc(old_doc), _Doc(new_doc)
    problems: list[str] = []
    new_paths = new_doc.get("paths", {})
    for path, item_a in old_doc.get("paths", {}).items():
        item_b = new_paths.get(path)
        if item_b is None:
            problems.append(f"{path}: path removed")
            continue
        for method in _METHODS:
            if method not in item_a:
                continue
            where = f"{method.upper()} {path}"
            op_a, op_b = item_a[method], item_b.get(method)
            if op_b is None:
                problems.append(f"{where}: operation removed")
                continue
            pa, pb = _params(old, item_a, op_a), _params(new, item_b, op_b)
            for key, param_b in pb.items():
                name = f"{where} {key[0]} parameter {key[1]}"
                param_a = pa.get(key)
                if param_a is None:
                    if param_b.get("required"):
                        problems.append(f"{name}: new required parameter")
                    continue
                if param_b.get("required") and not param_a.get("required"):
                    problems.append(f"{name}: parameter became required")
                problems += _request(
                    old, new, param_a.get("schema", {}), param_b.get("schema", {}), name, 0
                )
            body_a, req_a = _json_body(old, op_a)
            body_b, req_b = _json_body(new, op_b)
            if body_b is not None and req_b and (body_a is None or not req_a):
                problems.append(f"{where}: request body became required")
            if body_a is not None and body_b is not None:
                problems += _request(old, new, body_a, body_b, f"{where} body", 0)
            ra, rb = _success(old, op_a), _success(new, op_b)
            for status, schema_a in ra.items():
                if status not in rb:
                    if not rb:
                        problems.append(f"{where} {status}: response no longer JSON")
                    continue
                problems += _response(old, new, schema_a, rb[status], f"{where} {status}", 0)
    return problems


def differs(old_doc: dict[str, Any], new_doc: dict[str, Any]) -> bool:
    """Whether the documents differ beyond ``info.version`` (the package's release)."""

    def strip(doc: dict[str, Any]) -> dict[str, Any]:
        info = {k: v for k, v in doc.get("info", {}).items() if k != "version"}
        return {**doc, "info": info}

    return strip(old_doc) != strip(new_doc)
