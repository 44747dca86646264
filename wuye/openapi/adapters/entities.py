"""wuye's side of a mapping: one small :class:`Entity` per kind of record an adapter can
import into (or push from), with its schema and how a row is created."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from wuye.platform.estates import service as estates
from wuye.platform.estates.models import BuildingIn, EstateIn, UnitIn
from wuye.platform.owners import service as owners
from wuye.platform.owners.models import OwnerIn, OwnershipIn
from wuye.platform.pii import PersonalDataCipher
from wuye.platform.workorders import service as workorders
from wuye.platform.workorders.models import WorkOrder, WorkOrderIn

ACTOR = "adapter"
#: wuye's side of a mapping: checked against the published contract, and each record
#: validated by the schema the contract is generated from.


@dataclass(frozen=True)
class Entity:
    name: str
    schema: type[BaseModel]
    #: Fields that come from refs to other imported records, not from the schema.
    parents: tuple[str, ...] = ()
    #: Optional refs the entity understands beyond its schema.
    extra_refs: tuple[str, ...] = ()

    def contract_schema(self) -> dict[str, Any]:
        """The request schema of this entity in the platform's published contract
        (``wuye/openapi/contract``), the document a mapping is checked against."""
        from wuye.openapi import contract

        schemas = (contract.load_snapshot() or {}).get("components", {}).get("schemas", {})
        qualified = f"{self.schema.__module__.replace('.', '__')}__{self.schema.__name__}"
        schema = schemas.get(qualified) or schemas.get(self.schema.__name__)
        if schema is None:
            raise LookupError(f"the contract has no schema for {self.name}")
        return schema

    def required(self) -> list[str]:
        return [*self.parents, *self.contract_schema().get("required", [])]

    def known(self) -> set[str]:
        return {*self.contract_schema().get("properties", {}), *self.parents, *self.extra_refs}

    def create(self, session: Session, cipher: PersonalDataCipher, data: dict[str, Any]) -> str:
        values = {k: v for k, v in data.items() if k in self.schema.model_fields}
        model = self.schema.model_validate(values)
        if self.name == "estate":
            return estates.create_estate(session=session, estate_in=model).id
        if self.name == "building":
            return estates.create_building(
                session=session, estate_id=data["estate_id"], building_in=model
            ).id
        if self.name == "unit":
            return estates.create_unit(
                session=session, building_id=data["building_id"], unit_in=model
            ).id
        if self.name == "owner":
            owner = owners.create_owner(session=session, cipher=cipher, owner_in=model)
            for unit_id in data.get("unit_ids") or []:
                owners.add_ownership(
                    session=session, unit_id=unit_id, ownership_in=OwnershipIn(owner_id=owner.id)
                )
            return owner.id
        if self.name == "work_order":
            return workorders.create_work_order(session=session, order_in=model, actor=ACTOR).id
        raise ValueError(f"cannot create {self.name}")


ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        Entity("estate", EstateIn),
        Entity("building", BuildingIn, parents=("estate_id",)),
        Entity("unit", UnitIn, parents=("building_id",)),
        Entity("owner", OwnerIn, extra_refs=("unit_ids",)),
        Entity("work_order", WorkOrderIn),
    )
}

#: Rows an adapter may push out, as plain dicts of their attributes (with the estate's name).
PUSHABLE = {"work_order"}


def rows_to_push(session: Session, entity: str) -> list[dict[str, Any]]:
    if entity != "work_order":
        raise ValueError(f"cannot push {entity}")
    from wuye.platform.estates.models import Estate

    out = []
    stmt = select(WorkOrder, Estate.name).join(Estate, Estate.id == WorkOrder.estate_id)
    for order, estate_name in session.execute(stmt.order_by(WorkOrder.created_at, WorkOrder.id)):
        row = {c.key: getattr(order, c.key) for c in WorkOrder.__table__.columns}
        row["estate_name"] = estate_name
        out.append(row)
    return out
