"""PostgreSQL row-level security: the second wall behind the ORM's tenant filter.

Every table with a ``tenant_id`` column gets a policy that shows a row only
when ``wuye.tenant_id`` (set per transaction by ``db.py``) equals the row's
tenant, or is ``*`` for the host firm's explicit host scope. ``FORCE`` makes
the table owner subject to it too; only superusers bypass it, so the platform
connects as an ordinary role in production.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from wuye.platform.db import RLS_HOST, Base

POLICY = "wuye_tenant_isolation"


def tenant_tables() -> list[str]:
    import wuye.platform.models  # noqa: F401 - registers every table

    return sorted(t.name for t in Base.metadata.sorted_tables if "tenant_id" in t.columns)


def enable_row_level_security(conn: Connection, tables: list[str] | None = None) -> None:
    check = (
        f"(current_setting('wuye.tenant_id', true) = '{RLS_HOST}' "
        "OR tenant_id = current_setting('wuye.tenant_id', true))"
    )
    for table in tables if tables is not None else tenant_tables():
        conn.execute(text(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY'))
        conn.execute(text(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY'))
        conn.execute(text(f'DROP POLICY IF EXISTS {POLICY} ON "{table}"'))
        conn.execute(text(f'CREATE POLICY {POLICY} ON "{table}" USING {check} WITH CHECK {check}'))
