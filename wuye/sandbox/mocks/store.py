"""Where a mock platform keeps what callers changed: in memory for a mock served alone,
in the database when the platform serves it (shared by every worker)."""

from __future__ import annotations

from typing import Any, Protocol

from sqlalchemy import select

from wuye.platform.db import Database, Scope


class MockStore(Protocol):
    def get(self, key: str) -> dict[str, Any] | None: ...

    def put(self, key: str, value: dict[str, Any]) -> None: ...


class MemoryStore:
    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}

    def get(self, key: str) -> dict[str, Any] | None:
        return self.rows.get(key)

    def put(self, key: str, value: dict[str, Any]) -> None:
        self.rows[key] = value


class DatabaseStore:
    def __init__(self, database: Database, platform: str) -> None:
        self.database = database
        self.platform = platform

    def get(self, key: str) -> dict[str, Any] | None:
        from wuye.sandbox.models import MockRecord

        with self.database.transaction(Scope.for_host()) as session:
            row = session.scalars(
                select(MockRecord).where(
                    MockRecord.platform == self.platform, MockRecord.key == key
                )
            ).first()
            return dict(row.data) if row else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        from wuye.sandbox.models import MockRecord

        with self.database.transaction(Scope.for_host()) as session:
            session.merge(MockRecord(platform=self.platform, key=key, data=value))
