"""Listing collections: pagination, sorting and the envelope every list route returns.

A list runs as one statement: the requested window of rows with their total riding
along as a window function. A route whose base query is :func:`~wuye.platform.db.reusable`
(built once per shape of filters, the filter values bound at execution) gets its ordered,
windowed statement built once too, and can answer with :func:`page_response`: the page
validated against ``Page[schema]`` and serialised in one pass, with nothing left for
FastAPI to do.

On SQLite, where a statement costs no round trip, a reusable list runs as two: the page
alone (which an index can answer without reading the rest of the tenant's rows) and,
only when the page does not already tell the total, a count.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import cache
from typing import Any, Generic, TypeVar

from fastapi import Query
from fastapi.responses import Response
from pydantic import BaseModel, TypeAdapter
from sqlalchemy import Integer, Select, bindparam, func, select
from sqlalchemy.orm import Session

from wuye.platform.db import REUSABLE, Memo, plain_rows
from wuye.platform.problems import Problem

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a collection."""

    items: list[T]
    total: int
    limit: int
    offset: int


class ListParams:
    """``?limit=&offset=&sort=`` - sort is a comma list of fields, ``-`` for descending."""

    __slots__ = ("limit", "offset", "sort")

    def __init__(self, limit: int = 50, offset: int = 0, sort: str | None = None) -> None:
        self.limit = limit
        self.offset = offset
        self.sort = sort


async def list_params(
    limit: int = Query(50, ge=1, le=500, description="每页条数 / page size"),
    offset: int = Query(0, ge=0, description="偏移量 / offset"),
    sort: str | None = Query(
        None, description="排序字段，逗号分隔，前缀 - 表示降序 / e.g. `-created_at,name`"
    ),
) -> ListParams:
    """Dependency reading the list parameters (async: no thread-pool hop for plain values)."""
    return ListParams(limit, offset, sort)


def _sort_fields(sort: str | None, sortable: frozenset[str]) -> tuple[str, ...]:
    """The requested sort as ``("name", "-created_at")``, every field checked."""
    fields = []
    for raw in (sort or "").split(","):
        field = raw.strip()
        if not field:
            continue
        name = field.lstrip("-")
        if name in (f.lstrip("-") for f in fields):
            raise Problem("validation-error", f"sort: {name!r} is named twice")
        if name not in sortable:
            raise Problem(
                "validation-error",
                f"sort: cannot sort by {name!r}; sortable fields: {', '.join(sorted(sortable))}",
            )
        fields.append(("-" + name) if field.startswith("-") else name)
    return tuple(fields)


def _order(model: type, fields: tuple[str, ...]) -> list[Any]:
    order = []
    for field in fields:
        column = getattr(model, field.lstrip("-"))
        order.append(column.desc() if field.startswith("-") else column.asc())
    order.append(model.id.asc())  # type: ignore[attr-defined]  # a stable order: pages never overlap
    return order


#: Execution parameters of the window of a reusable list statement.
_LIMIT, _OFFSET = "_page_limit", "_page_offset"
_Built = tuple[Select[Any], tuple[str, ...] | None, Select[Any] | None]
_windowed: Memo[tuple[Any, ...], _Built] = Memo(1024)


def _windowed_statement(
    stmt: Select[Any],
    model: type,
    fields: tuple[str, ...],
    schema: type[BaseModel] | None,
    reuse: bool,
    split: bool = False,
) -> _Built:
    """``stmt`` ordered, windowed and counted; the column names when rows are plain; and,
    when ``split``, the page without its total and a statement counting it apart.

    For a reusable ``stmt`` the result is built once per sort and kept: its limit and
    offset are bound at execution (``_page_limit``, ``_page_offset``).
    """
    key = (stmt, model, fields, schema, split)
    if reuse:
        found = _windowed.get(key)
        if found is not None:
            return found
    names = None
    counted = None
    if split:
        counted = stmt.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)
    if schema is not None:
        # Plain rows of the schema's columns: no ORM identity map or instances to build.
        columns = _columns(model, schema)
        names = tuple(c.key for c in columns)
        stmt = stmt.with_only_columns(*columns)
    if not split:
        stmt = stmt.add_columns(func.count().over().label("_total"))
    windowed = stmt.order_by(*_order(model, fields))
    if not reuse:
        return windowed, names, counted
    windowed = windowed.limit(bindparam(_LIMIT, type_=Integer)).offset(
        bindparam(_OFFSET, type_=Integer)
    )
    return _windowed.put(key, (windowed, names, counted))


def _rows(
    session: Session,
    stmt: Select[Any],
    *,
    model: type,
    params: ListParams,
    sortable: frozenset[str],
    schema: type[BaseModel] | None,
    values: Mapping[str, Any] | None,
) -> tuple[list[Any], int]:
    """The page's rows (plain dicts of ``schema``'s fields, or entities) and the total."""
    fields = _sort_fields(params.sort, sortable)
    reuse = bool(stmt.get_execution_options().get(REUSABLE))
    split = reuse and schema is not None and session.get_bind().dialect.name == "sqlite"
    windowed, names, counted = _windowed_statement(stmt, model, fields, schema, reuse, split)
    if reuse:
        bound: Mapping[str, Any] | None = {
            **(values or {}),
            _LIMIT: params.limit,
            _OFFSET: params.offset,
        }
    else:
        windowed = windowed.limit(params.limit).offset(params.offset)
        bound = values
    # Plain rows skip ORM loading; they are restricted to the tenant all the same.
    page = (
        session.execute(windowed, bound) if names is None else plain_rows(session, windowed, bound)
    )
    rows, total = [], None
    if names is None:
        for row in page:
            rows.append(row[0])
            total = row[-1]
    elif counted is not None:
        rows = [dict(zip(names, row, strict=True)) for row in page]
        if rows and len(rows) < params.limit:
            total = params.offset + len(rows)  # the last page: the total is in sight
        elif rows or params.offset:
            total = plain_rows(session, counted, values)[0][0]
    else:
        for row in page:
            rows.append(dict(zip(names, row, strict=False)))
            total = row[-1]
    if total is None:
        # One round trip: the total rides along each row. Only a page past the end (no
        # rows to carry it) needs a separate count; an empty first page has none.
        if params.offset:
            total = session.scalar(
                select(func.count()).select_from(stmt.order_by(None).subquery()), values
            )
        else:
            total = 0
    return rows, total or 0


def paginate(
    session: Session,
    stmt: Select[Any],
    *,
    model: type,
    params: ListParams,
    sortable: frozenset[str],
    schema: type[BaseModel] | None = None,
    present: Callable[[Sequence[Any]], list[Any]] | None = None,
    values: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Run ``stmt`` with the requested order and window, plus its total count.

    Rows become items through ``present`` (several rows at once, so it can batch
    look-ups) or else through ``schema``. ``values`` are the statement's bound
    parameters (a reusable statement binds its filters' values).
    """
    rows, total = _rows(
        session,
        stmt,
        model=model,
        params=params,
        sortable=sortable,
        schema=None if present else schema,
        values=values,
    )
    assert present is not None or schema is not None
    return {
        "items": present(rows) if present else [schema.model_validate(r) for r in rows],  # type: ignore[union-attr]
        "total": total,
        "limit": params.limit,
        "offset": params.offset,
    }


def page_response(
    session: Session,
    stmt: Select[Any],
    *,
    model: type,
    params: ListParams,
    sortable: frozenset[str],
    schema: type[BaseModel],
    values: Mapping[str, Any] | None = None,
) -> Response:
    """:func:`paginate`'s page as the response itself: validated against ``Page[schema]``
    and serialised to JSON in one pass of pydantic-core, exactly as FastAPI would for a
    route with ``response_model=Page[schema]`` - without building a model per row first
    and walking the result again. Declare that ``response_model`` on the route all the
    same: it documents the response."""
    rows, total = _rows(
        session, stmt, model=model, params=params, sortable=sortable, schema=schema, values=values
    )
    adapter = _page_adapter(schema)
    page = adapter.validate_python(
        {"items": rows, "total": total, "limit": params.limit, "offset": params.offset}
    )
    return Response(adapter.dump_json(page, by_alias=True), media_type="application/json")


@cache
def _page_adapter(schema: type[BaseModel]) -> TypeAdapter[Any]:
    return TypeAdapter(Page[schema])  # type: ignore[valid-type]


@cache
def _columns(model: type, schema: type[BaseModel]) -> tuple[Any, ...]:
    """The model's columns that ``schema`` shows (a list needs no others)."""
    return tuple(getattr(model, name) for name in schema.model_fields if hasattr(model, name))
