"""Listing collections: pagination, sorting and the envelope every list route returns."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

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


def paginate(
    session: Session,
    stmt: Select[Any],
    *,
    model: type,
    params: ListParams,
    sortable: frozenset[str],
    schema: type[BaseModel] | None = None,
    present: Callable[[Sequence[Any]], list[Any]] | None = None,
) -> dict[str, Any]:
    """Run ``stmt`` with the requested order and window, plus its total count.

    Rows become items through ``present`` (several rows at once, so it can batch
    look-ups) or else through ``schema``.
    """
    order = []
    for raw in (params.sort or "").split(","):
        field = raw.strip()
        if not field:
            continue
        name = field.lstrip("-")
        if name not in sortable:
            raise Problem(
                "validation-error",
                f"sort: cannot sort by {name!r}; sortable fields: {', '.join(sorted(sortable))}",
            )
        column = getattr(model, name)
        order.append(column.desc() if field.startswith("-") else column.asc())
    order.append(model.id.asc())  # a stable order, so pages never overlap
    # One round trip: the total rides along each row as a window function. Only a
    # page past the end (no rows to carry it) needs a separate count.
    if present is None:
        # Plain rows of the schema's columns: no ORM identity map or instances to build.
        columns = _columns(model, schema)
        names = [c.key for c in columns]
        stmt = stmt.with_only_columns(*columns)
    windowed = stmt.add_columns(func.count().over().label("_total"))
    page = session.execute(windowed.order_by(*order).limit(params.limit).offset(params.offset))
    rows, totals = [], []
    for row in page:
        rows.append(row[0] if present else dict(zip(names, row, strict=False)))
        totals.append(row[-1])
    if totals:
        total = totals[0]
    elif params.offset:
        total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    else:
        total = 0
    return {
        "items": present(rows) if present else [schema.model_validate(r) for r in rows],
        "total": total or 0,
        "limit": params.limit,
        "offset": params.offset,
    }


@cache
def _columns(model: type, schema: type[BaseModel]) -> tuple[Any, ...]:
    """The model's columns that ``schema`` shows (a list needs no others)."""
    return tuple(getattr(model, name) for name in schema.model_fields if hasattr(model, name))
