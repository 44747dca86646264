"""wuye's side of a mapping: one small :class:`Entity` per kind of record an adapter can
import into (or push from), with its schema, how a row is created, and - for an entity
a mapping may *match* rather than create - how an existing row is found."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from wuye.platform.bills import service as bills
from wuye.platform.bills.models import BillIn, BillPaymentIn
from wuye.platform.estates import service as estates
from wuye.platform.estates.models import Building, BuildingIn, Estate, EstateIn, Unit, UnitIn
from wuye.platform.owners import service as owners
from wuye.platform.owners.models import OwnerIn, OwnershipIn
from wuye.platform.pii import PersonalDataCipher
from wuye.platform.workorders import service as workorders
from wuye.platform.workorders.models import WorkOrder, WorkOrderIn

ACTOR = "adapter"

#: ``create(session, cipher, model, data) -> (wuye id, created)``; ``created`` is false
#: when an equal row existed already and was linked instead (an idempotent import).
Creator = Callable[[Session, PersonalDataCipher, Any, dict[str, Any]], tuple[str, bool]]
#: ``find(session, data) -> wuye id`` of an existing row, or LookupError.
Finder = Callable[[Session, dict[str, Any]], str]


@dataclass(frozen=True)
class Entity:
    """wuye's side of a mapping: checked against the published contract, and each record
    validated by the schema the contract is generated from."""

    name: str
    schema: type[BaseModel]
    creator: Creator
    #: Required fields beyond the schema that place a record: refs to records imported
    #: before (a unit's building), or keys like a payment's billing period.
    parents: tuple[str, ...] = ()
    #: Optional fields (or refs) the entity understands beyond its schema.
    extra_refs: tuple[str, ...] = ()
    #: For ``action: match``: the fields that find an existing row (all required).
    lookup: tuple[str, ...] = ()
    finder: Finder | None = None

    def contract_schema(self) -> dict[str, Any]:
        """The request schema of this entity in the platform's published contract
        (``wuye/openapi/contract``), the document a mapping is checked against."""
        from wuye.openapi import contract

        schemas = (contract.load_snapshot() or {}).get("components", {}).get("schemas", {})
        qualified = f"{self.schema.__module__.replace('.', '__')}__{self.schema.__name__}"
        schema = schemas.get(qualified) or schemas.get(self.schema.__name__)
        if schema is None:
            raise LookupError(
                f"the published contract has no schema for {self.name} "
                "(refresh it: wuye openapi snapshot)"
            )
        return schema

    def required(self, action: str = "create") -> list[str]:
        if action == "match":
            return list(self.lookup)
        return [*self.parents, *self.contract_schema().get("required", [])]

    def known(self, action: str = "create") -> set[str]:
        if action == "match":
            return set(self.lookup)
        return {*self.contract_schema().get("properties", {}), *self.parents, *self.extra_refs}

    def prepare(self, data: dict[str, Any], *, issuer: str, key: str) -> dict[str, Any]:
        """``data`` with what the entity takes from the run itself (see :func:`_bill_defaults`)."""
        return _DEFAULTS.get(self.name, lambda d, _i, _k: d)(data, issuer, key)

    def validate(self, data: dict[str, Any]) -> BaseModel:
        return self.schema.model_validate(
            {k: v for k, v in data.items() if k in self.schema.model_fields}
        )

    def create(
        self, session: Session, cipher: PersonalDataCipher, data: dict[str, Any]
    ) -> tuple[str, bool]:
        return self.creator(session, cipher, self.validate(data), data)

    def find(self, session: Session, data: dict[str, Any]) -> str:
        if self.finder is None:
            raise LookupError(f"wuye cannot match {self.name}")
        return self.finder(session, data)


# --- creating ------------------------------------------------------------------------


def _estate(session, cipher, model, data):
    return estates.create_estate(session=session, estate_in=model).id, True


def _building(session, cipher, model, data):
    building = estates.create_building(
        session=session, estate_id=data["estate_id"], building_in=model
    )
    return building.id, True


def _unit(session, cipher, model, data):
    return estates.create_unit(
        session=session, building_id=data["building_id"], unit_in=model
    ).id, True


def _owner(session, cipher, model, data):
    owner = owners.create_owner(session=session, cipher=cipher, owner_in=model)
    for unit_id in data.get("unit_ids") or []:
        owners.add_ownership(
            session=session, unit_id=unit_id, ownership_in=OwnershipIn(owner_id=owner.id)
        )
    return owner.id, True


def _work_order(session, cipher, model, data):
    return workorders.create_work_order(session=session, order_in=model, actor=ACTOR).id, True


def _bill(session, cipher, model, data):
    bill, created = bills.import_bill(session=session, bill_in=model, actor=ACTOR)
    return bill.id, created


def _bill_payment(session, cipher, model, data):
    payment, recorded = bills.pay_for_period(
        session=session,
        unit_id=data["unit_id"],
        kind=data.get("kind", "property_fee"),
        period=str(data["period"]),
        payment_in=model,
        actor=ACTOR,
    )
    return payment.id, recorded


def _bill_defaults(data: dict[str, Any], issuer: str, key: str) -> dict[str, Any]:
    """An imported bill is issued by the external system - the mapping's ``issuer`` field,
    else the mapping's name - under its own key, unless the mapping says otherwise:
    (issuer, external reference) is what makes importing it twice harmless."""
    return {"issuer": issuer, "external_ref": key, **data}


def _payment_defaults(data: dict[str, Any], issuer: str, key: str) -> dict[str, Any]:
    """A payment imported from ``issuer`` carries its record's key as its reference, so a
    second import finds it instead of paying the bill twice."""
    return {"reference": f"{issuer}:{key}", **data}


_DEFAULTS: dict[str, Callable[[dict[str, Any], str, str], dict[str, Any]]] = {
    "bill": _bill_defaults,
    "bill_payment": _payment_defaults,
}


# --- matching --------------------------------------------------------------------------


def _find_unit(session: Session, data: dict[str, Any]) -> str:
    """The unit at ``number`` of building ``building`` (by name) of estate ``estate_code``:
    how an external system that knows houses by their address is linked to wuye's units."""
    found = session.scalars(
        select(Unit.id)
        .join(Building, Building.id == Unit.building_id)
        .join(Estate, Estate.id == Unit.estate_id)
        .where(
            Estate.code == str(data["estate_code"]),
            Building.name == str(data["building"]),
            Unit.number == str(data["number"]),
        )
    ).all()
    if len(found) != 1:
        raise LookupError(
            f"no unit {data['building']} {data['number']} in estate {data['estate_code']}"
        )
    return found[0]


ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        Entity("estate", EstateIn, _estate),
        Entity("building", BuildingIn, _building, parents=("estate_id",)),
        Entity(
            "unit",
            UnitIn,
            _unit,
            parents=("building_id",),
            lookup=("estate_code", "building", "number"),
            finder=_find_unit,
        ),
        Entity("owner", OwnerIn, _owner, extra_refs=("unit_ids",)),
        Entity("work_order", WorkOrderIn, _work_order),
        Entity("bill", BillIn, _bill),
        Entity(
            "bill_payment",
            BillPaymentIn,
            _bill_payment,
            parents=("unit_id", "period"),
            extra_refs=("kind",),
        ),
    )
}

#: Rows an adapter may push out, as plain dicts of their attributes (with the estate's name).
PUSHABLE = {"work_order"}


def rows_to_push(session: Session, entity: str) -> list[dict[str, Any]]:
    if entity != "work_order":
        raise ValueError(f"cannot push {entity}")

    out = []
    stmt = select(WorkOrder, Estate.name).join(Estate, Estate.id == WorkOrder.estate_id)
    for order, estate_name in session.execute(stmt.order_by(WorkOrder.created_at, WorkOrder.id)):
        row = {c.key: getattr(order, c.key) for c in WorkOrder.__table__.columns}
        row["estate_name"] = estate_name
        out.append(row)
    return out
