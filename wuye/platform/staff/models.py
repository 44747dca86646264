"""Staff table and schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from wuye.platform.db import Base, TenantScoped, Timestamped, new_id

#: Skills a work order can ask for (工种).
SKILLS = (
    "general",  # 综合维修
    "electrical",  # 电工
    "plumbing",  # 水暖
    "elevator",  # 电梯
    "fire",  # 消防
    "hvac",  # 暖通
    "security",  # 安防
    "gas",  # 燃气
    "cleaning",  # 保洁
    "greening",  # 绿化
)


class Staff(Base, TenantScoped, Timestamped):
    """A member of a firm's staff; technicians carry skills and a location."""

    __tablename__ = "staff"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(100), nullable=False, default="")
    skills: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    estate_id: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("estates.id", ondelete="SET NULL"), index=True
    )
    latitude: Mapped[float | None] = mapped_column()
    longitude: Mapped[float | None] = mapped_column()
    on_duty: Mapped[bool] = mapped_column(default=True, nullable=False)


Skill = Annotated[str, Field(pattern=f"^({'|'.join(SKILLS)})$")]


class StaffIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=100)]
    title: Annotated[str, Field(max_length=100)] = ""
    skills: Annotated[list[Skill], Field(max_length=len(SKILLS))] = []
    estate_id: str | None = None
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None
    on_duty: bool = True


class StaffPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=100)] | None = None
    title: Annotated[str, Field(max_length=100)] | None = None
    skills: Annotated[list[Skill], Field(max_length=len(SKILLS))] | None = None
    estate_id: str | None = None
    latitude: Annotated[float, Field(ge=-90, le=90)] | None = None
    longitude: Annotated[float, Field(ge=-180, le=180)] | None = None
    on_duty: bool | None = None


class StaffOut(StaffIn):
    model_config = ConfigDict(from_attributes=True)

    id: str
    created_at: datetime
