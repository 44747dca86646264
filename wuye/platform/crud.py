"""The small pieces every domain service shares: fetch-or-404, patch, flush-or-409."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wuye.platform.problems import Conflict, NotFound

M = TypeVar("M")


def get_or_404(session: Session, model: type[M], ident: str, *, what: str | None = None) -> M:
    """The row with primary key ``ident`` in the session's tenant, or a 404 problem.

    Another tenant's row is indistinguishable from a missing one.
    """
    row = session.scalars(select(model).where(model.id == ident)).one_or_none()  # type: ignore[attr-defined]
    if row is None:
        raise NotFound(what or model.__name__.lower(), ident)
    return row


def apply_patch(row: Any, patch: BaseModel) -> Any:
    """Set the fields the client sent (and only those)."""
    for field, value in patch.model_dump(exclude_unset=True).items():
        setattr(row, field, value)
    return row


def flush_or_conflict(session: Session, detail: str) -> None:
    """Flush now so that a unique-key clash becomes a 409 problem, not a 500."""
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict(detail) from exc
