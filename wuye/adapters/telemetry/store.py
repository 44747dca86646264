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


MESSAGE_COLUMNS = ("tenant_id", "device_id", "key_version", "seq", "received_ms")
#: Rows per multi-row INSERT (5 parameters each, well under every driver's limit).
_CLAIM_CHUNK = 500


def claim_messages(
    session: Session, rows: list[tuple[str, str, int, int, int]]
) -> set[tuple[str, int, int]]:
    """Record ``rows`` of ``MESSAGE_COLUMNS``; returns the (device, key version, seq) that are new.

    ``INSERT ... ON CONFLICT DO NOTHING RETURNING`` (SQLite 3.35+, PostgreSQL):
    a message already recorded, by this process or another, is not returned.
    On PostgreSQL a concurrent transaction claiming the same message waits for
    the first to commit, then finds the row, so exactly one of them wins.
    """
    new: set[tuple[str, int, int]] = set()
    if not rows:
        return new
    connection = session.connection()
    mark = _PLACEHOLDER[connection.dialect.paramstyle]
    one = "(" + ", ".join([mark] * len(MESSAGE_COLUMNS)) + ")"
    for start in range(0, len(rows), _CLAIM_CHUNK):
        chunk = rows[start : start + _CLAIM_CHUNK]
        sql = (
            f"INSERT INTO telemetry_messages ({', '.join(MESSAGE_COLUMNS)}) "  # noqa: S608
            f"VALUES {', '.join([one] * len(chunk))} "
            "ON CONFLICT DO NOTHING RETURNING device_id, key_version, seq"
        )
        params = tuple(value for row in chunk for value in row)
        new.update((d, k, s) for d, k, s in connection.exec_driver_sql(sql, params).fetchall())
    return new


def prune_messages(session: Session, *, received_before_ms: int) -> int:
    """Forget accepted messages received before ``received_before_ms``; returns how many.

    Safe once that is further back than the ingest's ``MAX_AGE_MS`` (plus the
    allowed clock skew): a replay of such a message carries readings that old
    in its authenticated body, and is refused as stale without the record.
    """
    from sqlalchemy import delete

    from wuye.adapters.telemetry.models import TelemetryMessage as M

    result = session.execute(
        delete(M)
        .where(M.received_ms < received_before_ms)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
