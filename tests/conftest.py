"""Shared fixtures: a database on each backend (SQLite, PostgreSQL), the app, factories.

PostgreSQL is the machine's server (``WUYE_TEST_POSTGRES_URL``, default
127.0.0.1:5432 database ``test``); each test session gets a database of its
own, created and dropped here. Without a server the PostgreSQL half of the
suite is skipped with the reason shown.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from wuye.platform.db import Base, Database
from wuye.platform.settings import Settings

PG_ADMIN_URL = os.environ.get(
    "WUYE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means no server to test against
        admin.dispose()
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(exc).__name__}")
    name = f"wuye_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_database(postgres_url: str) -> Iterator[Database]:
    database = Database(postgres_url)
    database.create_all()
    yield database
    database.dispose()


def _truncate(database: Database) -> None:
    tables = [t.name for t in Base.metadata.sorted_tables]
    with database.engine.begin() as conn:
        if database.engine.dialect.name == "postgresql":
            quoted = ", ".join(f'"{t}"' for t in tables)
            conn.execute(text(f"TRUNCATE {quoted} CASCADE"))
        else:
            for table in reversed(Base.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A database with every table, empty, on each backend in turn."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'wuye.db'}")
        db.create_all()
        yield db
        db.dispose()
    else:
        db = request.getfixturevalue("postgres_database")
        _truncate(db)
        yield db


@pytest.fixture
def sqlite_database(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'wuye.db'}")
    db.create_all()
    yield db
    db.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(var_dir=tmp_path / "var", secret_key="test-secret-key-0123456789")


@pytest.fixture
def app(settings: Settings, database: Database):
    from wuye.platform.app import create_app

    return create_app(settings, database)


@pytest.fixture
def client(app):
    from fastapi.testclient import TestClient

    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def token_for(settings: Settings, database: Database):
    """``token_for(tenant_id, *scopes, role=...)``: a real signed access token."""
    from wuye.federation.models import Role
    from wuye.federation.scopes import ROLE_SCOPES
    from wuye.federation.tokens import issue_access_token

    def issue(tenant_id: str, *scopes: str, role: Role = Role.TENANT_ADMIN) -> dict[str, str]:
        token = issue_access_token(
            settings=settings,
            database=database,
            tenant_id=tenant_id,
            subject=f"test-{tenant_id[:8]}",
            client_id="test-client",
            scopes=scopes or sorted(ROLE_SCOPES[role]),
            role=role,
        )
        return {"Authorization": f"Bearer {token}"}

    return issue
