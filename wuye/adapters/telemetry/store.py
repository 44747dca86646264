"""Bulk writes of readings: one driver-level ``executemany`` per batch.

The ingest writes thousands of rows a second; going through the driver with
plain tuples skips the per-row work of SQLAlchemy's parameter processing (the
rows are already exactly the column types). The session's own connection and
transaction are used, so the tenant scope (and on PostgreSQL, row-level
security set for this transaction) applies as to any other write.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

COLUMNS = ("tenant_id", "device_id", "metric", "unit", "value", "ts_ms")
_PLACEHOLDER = {"qmark": "?", "format": "%s", "pyformat": "%s"}


def insert_readings(session: Session, rows: list[tuple[str, str, str, str, float, int]]) -> None:
    """Insert ``rows`` of ``COLUMNS`` into ``readings``."""
    if not rows:
        return
    connection = session.connection()
    mark = _PLACEHOLDER.get(connection.dialect.paramstyle)
    if mark is None:  # pragma: no cover - every dialect wuye supports is covered above
        raise RuntimeError(f"unsupported paramstyle {connection.dialect.paramstyle}")
    marks = ", ".join([mark] * len(COLUMNS))
    sql = f"INSERT INTO readings ({', '.join(COLUMNS)}) VALUES ({marks})"  # noqa: S608 - constants
    connection.exec_driver_sql(sql, rows)
