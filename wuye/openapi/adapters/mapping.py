"""The declarative mapping file: which external operations, and how their records map to
wuye's estates, buildings, units, owners, work orders and bills (or wuye's rows to theirs).

``${NAME}`` anywhere in the file is replaced by the environment variable ``NAME``,
so credentials never live in the mapping.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_VAR = re.compile(r"\$\{(\w+)\}")


class MappingError(ValueError):
    """The mapping file is malformed."""


@dataclass(frozen=True)
class Ref:
    """A wuye field filled with the wuye id of a record imported earlier."""

    entity: str
    source: str  # field of the external record holding the other record's key
    many: bool = False


@dataclass(frozen=True)
class Resource:
    entity: str
    operation: str
    key: str
    fields: dict[str, Any]
    refs: dict[str, Ref] = field(default_factory=dict)
    records: str = ""  # dotted path of the record array in the response
    page_param: str | None = None
    size_param: str | None = None
    page_size: int = 50
    total: str | None = None  # dotted path of the total count in the response
    response_key: str | None = None  # push: field of the response naming the created record
    #: import: ``create`` a wuye row per record, or ``match`` a row wuye has already
    #: (linking their key to it, so later resources can refer to it).
    action: str = "create"


@dataclass(frozen=True)
class Mapping:
    name: str
    direction: str  # import | push
    document: Path
    base_url: str
    auth: dict[str, Any]
    resources: tuple[Resource, ...]
    source: Path


def _expand(value: Any, env: dict[str, str]) -> Any:
    if isinstance(value, str):
        return _VAR.sub(lambda m: env.get(m.group(1), ""), value)
    if isinstance(value, dict):
        return {k: _expand(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, env) for v in value]
    return value


def load(path: Path | str, *, env: dict[str, str] | None = None) -> Mapping:
    path = Path(path)
    try:
        raw = _expand(yaml.safe_load(path.read_text(encoding="utf-8")), env or dict(os.environ))
        system = raw["system"]
        resources = []
        for r in raw["resources"]:
            paging = r.get("paging") or {}
            refs = {
                name: Ref(entity=spec["entity"], source=spec["from"], many=bool(spec.get("many")))
                for name, spec in (r.get("refs") or {}).items()
            }
            resources.append(
                Resource(
                    entity=r["entity"],
                    operation=r["operation"],
                    key=r["key"],
                    fields=dict(r.get("fields") or {}),
                    refs=refs,
                    records=r.get("records", ""),
                    page_param=paging.get("page"),
                    size_param=paging.get("size"),
                    page_size=int(paging.get("per_page", 50)),
                    total=paging.get("total"),
                    response_key=r.get("response_key"),
                    action=_action(r.get("action", "create")),
                )
            )
        direction = raw.get("direction", "import")
        if direction not in ("import", "push"):
            raise MappingError(f"direction: {direction!r} is neither import nor push")
        return Mapping(
            name=raw["name"],
            direction=direction,
            document=(path.parent / system["document"]).resolve(),
            base_url=system.get("base_url", ""),
            auth=dict(system.get("auth") or {"type": "none"}),
            resources=tuple(resources),
            source=path,
        )
    except (KeyError, TypeError) as exc:
        raise MappingError(f"{path}: missing or malformed {exc}") from exc


def _action(value: str) -> str:
    if value not in ("create", "match"):
        raise MappingError(f"action: {value!r} is neither create nor match")
    return value


def dig(value: Any, dotted: str) -> Any:
    for part in [p for p in dotted.split(".") if p]:
        value = value.get(part) if isinstance(value, dict) else None
    return value
