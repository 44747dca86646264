"""Database: engine, sessions, and tenant isolation enforced in one place.

Every tenant-owned table mixes in :class:`TenantScoped`. A session is opened
for a :class:`Scope` - one tenant, or the host firm explicitly - and two
SQLAlchemy events do the rest for every query of every route:

* ``do_orm_execute`` adds ``tenant_id = :scope`` to each SELECT, UPDATE and
  DELETE that touches a tenant-scoped entity (``with_loader_criteria``); a
  statement marked :func:`reusable` keeps its restricted form per tenant, so a
  hot list query is restricted without being rebuilt on every call, and
  :func:`plain_rows` applies the same restriction to plain-row reads that skip
  ORM loading;
* ``before_flush`` stamps new rows with the scope's tenant and refuses a row
  of another tenant.

A session without a scope refuses to run ORM statements at all (fail closed).
On PostgreSQL, row-level security is the second wall: each transaction sets
``wuye.tenant_id`` and the policies created by the migrations compare it.
"""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    Connection,
    DateTime,
    Engine,
    ForeignKey,
    MetaData,
    Select,
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
from sqlalchemy.sql.base import Executable

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

E = TypeVar("E", bound=Executable)
K = TypeVar("K")
V = TypeVar("V")

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


#: Execution option of a statement built once and executed again and again (a list
#: route's query for one shape of filters): its tenant-restricted form is remembered per
#: tenant, so a call neither rebuilds it nor computes its SQL cache key again.
REUSABLE = "wuye_reusable"


class Memo(Generic[K, V]):
    """A bounded map of things built once and kept (statements, plans), shared by every
    thread: reads take no lock; past ``size`` entries the oldest go first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K, default: Any = None) -> Any:
        return self._items.get(key, default)

    def put(self, key: K, value: V) -> V:
        with self._lock:
            self._items[key] = value
            if len(self._items) > self.size:
                self._items.popitem(last=False)
        return value


_restricted: Memo[tuple[Executable, str], Executable] = Memo(2048)


def reusable(stmt: E) -> E:
    """Mark ``stmt`` as built once and executed many times (see :data:`REUSABLE`).

    Only for statements kept for the life of the process (module constants, caches):
    each one is remembered, per tenant, in a bounded cache.
    """
    return stmt.execution_options(**{REUSABLE: True})


def _tenant_criteria(stmt: E, tenant_id: str) -> E:
    return stmt.options(
        with_loader_criteria(
            TenantScoped,
            lambda cls: cls.tenant_id == tenant_id,
            include_aliases=True,
            track_closure_variables=False,
        )
    )


def restricted(stmt: E, tenant_id: str) -> E:
    """``stmt`` limited to ``tenant_id``'s rows of every tenant-scoped entity in it."""
    if not stmt.get_execution_options().get(REUSABLE):
        return _tenant_criteria(stmt, tenant_id)
    key = (stmt, tenant_id)
    # The key holds the statement itself, never its id(): an id can be reused once a
    # statement is gone, a held statement cannot.
    found = _restricted.get(key)
    if found is None:
        found = _restricted.put(key, _tenant_criteria(stmt, tenant_id))
    return found  # type: ignore[no-any-return]


class DriverPlan:
    """A SELECT compiled once for one dialect and run on the driver's own cursor: its
    SQL, how its bound values are passed, the values bound in the statement itself,
    and the result processors of its columns.

    The rows are what ``Connection.execute`` would give (the same SQL, the same column
    types' processors) at a fraction of the cost - which matters on reads that every
    request makes. Statements whose SQL is only settled at execution (expanding ``IN``
    lists, literal-rendered values) are refused: :meth:`of` gives None for them.
    """

    __slots__ = ("sql", "positional", "names", "defaults", "binders", "processors", "converted")

    def __init__(self, stmt: Select[Any], dialect: Any) -> None:
        compiled = stmt.compile(dialect=dialect)
        self.sql = compiled.string
        self.positional = compiled.positional
        self.names = tuple(compiled.positiontup or ())
        self.defaults = dict(compiled.params)
        #: Bound values converted by their types as SQLAlchemy converts them (a date to
        #: SQLite's text form, say).
        self.binders = tuple(
            (name, binder)
            for name, bind in compiled.binds.items()
            if (binder := bind.type._cached_bind_processor(dialect)) is not None  # noqa: SLF001
        )
        self.processors = tuple(
            column.type._cached_result_processor(dialect, None)  # noqa: SLF001
            for column in stmt.selected_columns
        )
        #: The columns that need converting, and how.
        self.converted = tuple((i, p) for i, p in enumerate(self.processors) if p is not None)

    @classmethod
    def of(cls, stmt: Select[Any], dialect: Any) -> DriverPlan | None:
        plan = cls(stmt, dialect)
        return None if "POSTCOMPILE" in plan.sql or "__[" in plan.sql else plan

    def parameters(self, values: Mapping[str, Any]) -> tuple[Any, ...] | dict[str, Any]:
        merged = {**self.defaults, **values} if self.defaults else dict(values)
        for name, binder in self.binders:
            if merged.get(name) is not None:
                merged[name] = binder(merged[name])
        if self.positional:
            return tuple(merged[name] for name in self.names)
        return merged

    def convert(self, row: Sequence[Any]) -> tuple[Any, ...]:
        if not self.converted:
            return tuple(row)
        out = list(row)
        for index, process in self.converted:
            value = out[index]
            if value is not None:
                out[index] = process(value)
        return tuple(out)

    def rows(self, connection: Connection, values: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Every row of the statement with ``values`` bound, on ``connection``'s driver
        connection (inside its transaction)."""
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(self.sql, self.parameters(values))
            fetched = cursor.fetchall()
        finally:
            cursor.close()
        return [self.convert(row) for row in fetched]


#: The tenant a reusable statement's plan is compiled for; replaced at execution.
_PLAN_TENANT = "\x00wuye-tenant"
_plans: Memo[tuple[Executable, str], tuple[DriverPlan, tuple[str, ...]] | None] = Memo(1024)
_UNPLANNED = object()


def _tenant_plan(stmt: Select[Any], dialect: Any) -> tuple[DriverPlan, tuple[str, ...]] | None:
    """A reusable statement's driver plan, restricted to a tenant bound at execution:
    the plan and the names of the parameters that carry the tenant."""
    key = (stmt, dialect.name)
    known = _plans.get(key, _UNPLANNED)
    if known is not _UNPLANNED:
        return known  # type: ignore[return-value]
    plan = DriverPlan.of(restricted(stmt, _PLAN_TENANT), dialect)
    found = None
    if plan is not None:
        names = tuple(name for name, value in plan.defaults.items() if value == _PLAN_TENANT)
        # A plan whose SQL does not carry the tenant is never used: such a statement runs
        # the ordinary way, restricted by the ORM as every other statement is.
        if names:
            found = (plan, names)
    return _plans.put(key, found)


def plain_rows(
    session: Session, stmt: Select[Any], params: Mapping[str, Any] | None = None
) -> Sequence[Sequence[Any]]:
    """Run a SELECT of mapped columns for plain rows, with no ORM loading on the way.

    The rows are restricted exactly as ``session.execute`` would restrict them (the
    same :func:`restricted` form, on the session's own connection and transaction),
    and it fails closed the same way: no scope, no rows; and a statement that names
    no mapped entity, which the tenant criteria could not reach, is refused. On SQLite
    a :func:`reusable` statement runs by its :class:`DriverPlan`, compiled once.
    """
    scope = _scope_of(session)
    if stmt._propagate_attrs.get("compile_state_plugin") != "orm":
        raise TenantViolation("plain_rows needs a statement over mapped entities")
    connection = session.connection()
    # On SQLite, where the Python around a statement costs more than the statement. (On
    # PostgreSQL some column types are converted by the driver's type codes, known only
    # once a cursor has run.)
    reuse = stmt.get_execution_options().get(REUSABLE)
    if reuse and not scope.host and connection.dialect.name == "sqlite":
        found = _tenant_plan(stmt, connection.dialect)
        if found is not None:
            plan, tenant_names = found
            values = dict(params or {})
            for name in tenant_names:
                values[name] = str(scope.tenant_id)
            return plan.rows(connection, values)
    if not scope.host:
        stmt = restricted(stmt, str(scope.tenant_id))
    return connection.execute(stmt, params).all()


@event.listens_for(Session, "do_orm_execute")
def _restrict_to_tenant(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        return  # the criteria of the parent statement propagate to these
    scope = _scope_of(state.session)
    if scope.host:
        return
    state.statement = restricted(state.statement, str(scope.tenant_id))


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
            # Telemetry writes thousands of index entries a second: a page cache that holds
            # the hot index pages (SQLite's default is 2 MB) and checkpoints that copy a
            # page rewritten by many transactions once rather than each time.
            cur.execute("PRAGMA cache_size=-32768")
            cur.execute("PRAGMA wal_autocheckpoint=10000")
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
        #: The embedded database: SQLite, in this process, no network between.
        self.embedded = self.engine.dialect.name == "sqlite"
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
