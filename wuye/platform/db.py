"""Database: engine, sessions, and tenant isolation enforced in one place.

Every tenant-owned table mixes in :class:`TenantScoped`. A session is opened
for a :class:`Scope` - one tenant, or the host firm explicitly - and two
SQLAlchemy events do the rest for every query of every route:

* ``do_orm_execute`` adds ``tenant_id = :scope`` to each SELECT, UPDATE and
  DELETE that touches a tenant-scoped entity (``with_loader_criteria``);
* ``before_flush`` stamps new rows with the scope's tenant and refuses a row
  of another tenant.

A session without a scope refuses to run ORM statements at all (fail closed).
On PostgreSQL, row-level security is the second wall: each transaction sets
``wuye.tenant_id`` and the policies created by the migrations compare it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    DateTime,
    Engine,
    ForeignKey,
    MetaData,
    String,
    create_engine,
    event,
    text,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    ORMExecuteState,
    Session,
    mapped_column,
    sessionmaker,
    with_loader_criteria,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Value of ``wuye.tenant_id`` that row-level security reads as "the host firm".
RLS_HOST = "*"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def new_id() -> str:
    """An opaque, unguessable identifier (no counts leak across tenants)."""
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, nullable=False, index=True
    )


class TenantScoped:
    """Mixin for rows that belong to exactly one tenant."""

    tenant_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("tenants.id", ondelete="CASCADE"), index=True, nullable=False
    )


class TenantViolation(Exception):
    """A write would cross tenants, or a session has no scope."""


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose rows a session may see: one tenant's, or (explicitly) everyone's."""

    tenant_id: str | None
    host: bool = False

    @classmethod
    def tenant(cls, tenant_id: str) -> Scope:
        return cls(tenant_id=tenant_id)

    @classmethod
    def for_host(cls) -> Scope:
        return cls(tenant_id=None, host=True)

    @property
    def rls_value(self) -> str:
        return RLS_HOST if self.host else str(self.tenant_id)


def _scope_of(session: Session) -> Scope:
    scope = session.info.get("scope")
    if not isinstance(scope, Scope) or (not scope.host and not scope.tenant_id):
        raise TenantViolation("session has no tenant scope")
    return scope


@event.listens_for(Session, "do_orm_execute")
def _restrict_to_tenant(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        return  # the criteria of the parent statement propagate to these
    scope = _scope_of(state.session)
    if scope.host:
        return
    tenant_id = scope.tenant_id
    state.statement = state.statement.options(
        with_loader_criteria(
            TenantScoped,
            lambda cls: cls.tenant_id == tenant_id,
            include_aliases=True,
            track_closure_variables=False,
        )
    )


@event.listens_for(Session, "before_flush")
def _stamp_and_check_tenant(session: Session, flush_context: object, instances: object) -> None:
    scope = _scope_of(session)
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if not isinstance(obj, TenantScoped):
            continue
        if obj.tenant_id is None and obj in session.new and not scope.host:
            obj.tenant_id = scope.tenant_id  # type: ignore[assignment]
        if obj.tenant_id is None:
            raise TenantViolation(f"{type(obj).__name__} has no tenant")
        if not scope.host and obj.tenant_id != scope.tenant_id:
            raise TenantViolation(f"{type(obj).__name__} belongs to another tenant")


@event.listens_for(Session, "after_begin")
def _set_rls_tenant(session: Session, transaction: object, connection) -> None:  # noqa: ANN001
    if connection.dialect.name != "postgresql":
        return
    scope = session.info.get("scope")
    value = scope.rls_value if isinstance(scope, Scope) else ""
    connection.execute(text("SELECT set_config('wuye.tenant_id', :v, true)"), {"v": value})


def make_engine(url: str, **kwargs: object) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys, WAL and a busy timeout."""
    if url.startswith("sqlite"):
        kwargs.setdefault("connect_args", {"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    if "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
    return create_engine(url, **kwargs)


class Database:
    """An engine and the sessions made from it."""

    def __init__(self, url: str, **engine_kwargs: object) -> None:
        if url.startswith("sqlite:///"):
            from pathlib import Path

            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self._factory = sessionmaker(self.engine, expire_on_commit=False)

    def session(self, scope: Scope) -> Session:
        """A session limited to ``scope``; the caller owns its transaction."""
        session = self._factory()
        session.info["scope"] = scope
        return session

    @contextmanager
    def transaction(self, scope: Scope) -> Iterator[Session]:
        """One use case, one transaction: commit on success, roll back on any error."""
        session = self.session(scope)
        try:
            with session.begin():
                yield session
        finally:
            session.close()

    def create_all(self) -> None:
        """Create every table directly (tests); production uses `wuye db upgrade`."""
        import wuye.platform.models  # noqa: F401 - registers every table

        Base.metadata.create_all(self.engine)
        if self.engine.dialect.name == "postgresql":
            from wuye.platform.rls import enable_row_level_security

            with self.engine.begin() as conn:
                enable_row_level_security(conn)

    def dispose(self) -> None:
        self.engine.dispose()
