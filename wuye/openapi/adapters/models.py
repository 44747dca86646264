"""What an adapter remembers: which external record became which wuye row (so a
re-run never duplicates), and each run's outcome with its per-record errors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from wuye.platform.db import Base, TenantScoped, Timestamped, new_id


class AdapterLink(Base, TenantScoped, Timestamped):
    """External record ``source_key`` of ``entity`` is wuye row ``target_id`` (or, when
    pushing, wuye row ``source_key`` is the external record ``target_id``)."""

    __tablename__ = "adapter_links"
    __table_args__ = (UniqueConstraint("tenant_id", "mapping", "entity", "source_key"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    mapping: Mapped[str] = mapped_column(String(100), nullable=False)
    entity: Mapped[str] = mapped_column(String(32), nullable=False)
    source_key: Mapped[str] = mapped_column(String(200), nullable=False)
    target_id: Mapped[str] = mapped_column(String(200), nullable=False)


class AdapterRun(Base, TenantScoped, Timestamped):
    """One run of a mapping: counts per entity and every record (or page) that failed."""

    __tablename__ = "adapter_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    mapping: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="running")
    counts: Mapped[dict[str, dict[str, int]]] = mapped_column(JSON, default=dict, nullable=False)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list, nullable=False)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
