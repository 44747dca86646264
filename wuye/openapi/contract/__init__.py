"""The platform's published OpenAPI contract: committed snapshots, the version, the changelog.

``openapi-v{major}.json`` is the document as last published for that major
version; ``version.txt`` holds the contract version (semantic versioning: a
breaking change needs a new major, an addition a new minor); ``CHANGELOG.md``
records every refresh. ``wuye openapi snapshot`` refreshes them.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from wuye.openapi.compat import breaking_changes, differs

HERE = Path(__file__).parent
VERSION_FILE = HERE / "version.txt"
CHANGELOG = HERE / "CHANGELOG.md"
REFRESH_COMMAND = "wuye openapi snapshot"


def contract_version() -> str:
    return VERSION_FILE.read_text().strip()


def major(version: str) -> int:
    return int(version.split(".", 1)[0])


def snapshot_path(version: str | None = None) -> Path:
    return HERE / f"openapi-v{major(version or contract_version())}.json"


def load_snapshot(version: str | None = None) -> dict[str, Any] | None:
    path = snapshot_path(version)
    return json.loads(path.read_text()) if path.exists() else None


def published(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` as the contract publishes it: with its contract version in ``info``."""
    info = {**doc.get("info", {}), "x-contract-version": contract_version()}
    return {**doc, "info": info}


def _operations(doc: dict[str, Any]) -> set[str]:
    return {
        f"{method.upper()} {path}"
        for path, item in doc.get("paths", {}).items()
        for method in item
        if method in ("get", "put", "post", "delete", "patch")
    }


def _bumped(version: str, part: str) -> str:
    ma, mi, pa = (int(x) for x in version.split("."))
    if part == "major":
        return f"{ma + 1}.0.0"
    if part == "minor":
        return f"{ma}.{mi + 1}.0"
    return f"{ma}.{mi}.{pa + 1}"


class IncompatibleChange(Exception):
    """The live document breaks the published one and the major version was not bumped."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def refresh(
    live: dict[str, Any], *, bump: str | None = None, note: str = "", today: str | None = None
) -> tuple[str, list[str]]:
    """Write ``live`` as the published contract; returns (version, changelog lines).

    Compatible changes bump the minor version unless ``bump`` says otherwise; a
    breaking change is refused unless ``bump == "major"``.
    """
    version = contract_version()
    old = load_snapshot(version)
    problems = breaking_changes(old, live) if old is not None else []
    if problems and bump != "major":
        raise IncompatibleChange(problems)
    if old is not None and not differs(old, published(live)) and bump is None:
        return version, []
    new_version = _bumped(version, bump or "minor") if old is not None else version
    lines = []
    if old is not None:
        added = sorted(_operations(live) - _operations(old))
        removed = sorted(_operations(old) - _operations(live))
        lines += [f"- 新增 / added: `{op}`" for op in added]
        lines += [f"- 移除 / removed: `{op}`" for op in removed]
        lines += [f"- 不兼容 / breaking: {p}" for p in problems]
        if not (added or removed or problems):
            lines.append("- 兼容的结构调整 / compatible schema changes")
    else:
        lines.append(f"- 首次发布 / first published: {len(_operations(live))} operations")
    if note:
        lines.append(f"- {note}")
    VERSION_FILE.write_text(new_version + "\n")
    snapshot_path(new_version).write_text(
        json.dumps(published(live), ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    )
    day = today or datetime.now(UTC).date().isoformat()
    head = CHANGELOG.read_text() if CHANGELOG.exists() else _CHANGELOG_HEAD
    head, _, rest = head.partition("\n## ")
    entry = f"## {new_version} — {day}\n\n" + "\n".join(lines) + "\n"
    CHANGELOG.write_text(head.rstrip() + "\n\n" + entry + ("\n## " + rest if rest else ""))
    return new_version, lines


_CHANGELOG_HEAD = """# wuye OpenAPI 契约变更记录 / contract changelog

The published contract of `/api/v1`. Compatible additions raise the minor
version; a breaking change needs a new major version (and `/api/v2` routes).
Refresh with `wuye openapi snapshot` (see `wuye openapi snapshot --help`).
"""
