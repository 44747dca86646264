"""`wuye db upgrade` builds exactly the schema the models describe, on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import wuye.platform.models  # noqa: F401
from wuye.platform import migrate
from wuye.platform.db import Base, make_engine
from wuye.platform.rls import POLICY, tenant_tables


def _diff(url: str) -> list:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        engine.dispose()


def test_sqlite_migrations_match_the_models(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate.upgrade(url)
    assert _diff(url) == []
    assert migrate.current(url) is not None


def test_upgrade_twice_is_harmless(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    migrate.upgrade(url)
    first = migrate.current(url)
    migrate.upgrade(url)
    assert migrate.current(url) == first


@pytest.fixture
def empty_postgres(postgres_url: str):
    admin_url = make_url(postgres_url)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    name = admin_url.database + "_mig"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres
def test_postgres_migrations_match_the_models_and_enable_rls(empty_postgres: str):
    migrate.upgrade(empty_postgres)
    assert _diff(empty_postgres) == []
    engine = make_engine(empty_postgres)
    with engine.connect() as conn:
        protected = set(
            conn.execute(
                text("SELECT tablename FROM pg_policies WHERE policyname = :p"), {"p": POLICY}
            ).scalars()
        )
    engine.dispose()
    assert protected == set(tenant_tables())
