"""Owners and ownerships: plain functions over a tenant-scoped session."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from wuye.platform.crud import flush_or_conflict, get_or_404
from wuye.platform.estates.service import get_unit
from wuye.platform.owners.models import (
    Owner,
    OwnerIn,
    OwnerOut,
    OwnerPatch,
    Ownership,
    OwnershipIn,
)
from wuye.platform.pii import PersonalDataCipher, mask_id_number, mask_phone

_PHONE_TAKEN = "another owner already has this phone number"


def get_owner(*, session: Session, owner_id: str) -> Owner:
    return get_or_404(session, Owner, owner_id, what="owner")


def _set_personal_data(
    owner: Owner, *, cipher: PersonalDataCipher, phone: str | None, id_number: str | None
) -> None:
    if phone is not None:
        owner.phone_encrypted = cipher.encrypt(phone, field="phone")
        owner.phone_index = cipher.index(phone, field="phone")
    if id_number is not None:
        owner.id_number_encrypted = cipher.encrypt(id_number, field="id_number")


def create_owner(
    *, session: Session, cipher: PersonalDataCipher, owner_in: OwnerIn, synthetic: bool = False
) -> Owner:
    owner = Owner(name=owner_in.name, kind=owner_in.kind, synthetic=synthetic)
    _set_personal_data(owner, cipher=cipher, phone=owner_in.phone, id_number=owner_in.id_number)
    session.add(owner)
    flush_or_conflict(session, _PHONE_TAKEN)
    return owner


def update_owner(
    *, session: Session, cipher: PersonalDataCipher, owner_id: str, patch: OwnerPatch
) -> Owner:
    owner = get_owner(session=session, owner_id=owner_id)
    if patch.name is not None:
        owner.name = patch.name
    _set_personal_data(owner, cipher=cipher, phone=patch.phone, id_number=patch.id_number)
    flush_or_conflict(session, _PHONE_TAKEN)
    return owner


def delete_owner(*, session: Session, owner_id: str) -> None:
    session.delete(get_owner(session=session, owner_id=owner_id))
    session.flush()


def find_by_phone(*, session: Session, cipher: PersonalDataCipher, phone: str) -> Owner | None:
    index = cipher.index(phone, field="phone")
    return session.scalars(select(Owner).where(Owner.phone_index == index)).one_or_none()


def owners_query(
    *,
    q: str | None = None,
    unit_id: str | None = None,
    estate_id: str | None = None,
    phone_index: str | None = None,
) -> Select[tuple[Owner]]:
    from wuye.platform.estates.models import Unit

    stmt = select(Owner)
    if q:
        stmt = stmt.where(Owner.name.contains(q, autoescape=True))
    if phone_index:
        stmt = stmt.where(Owner.phone_index == phone_index)
    if unit_id or estate_id:
        held = select(Ownership.owner_id).join(Unit, Unit.id == Ownership.unit_id)
        if unit_id:
            held = held.where(Ownership.unit_id == unit_id)
        if estate_id:
            held = held.where(Unit.estate_id == estate_id)
        stmt = stmt.where(Owner.id.in_(held))
    return stmt


def add_ownership(*, session: Session, unit_id: str, ownership_in: OwnershipIn) -> Ownership:
    unit = get_unit(session=session, unit_id=unit_id)
    owner = get_owner(session=session, owner_id=ownership_in.owner_id)
    ownership = Ownership(unit_id=unit.id, owner_id=owner.id, since=ownership_in.since)
    session.add(ownership)
    flush_or_conflict(session, "this owner already holds this unit")
    return ownership


def remove_ownership(*, session: Session, unit_id: str, owner_id: str) -> None:
    ownership = session.scalars(
        select(Ownership).where(Ownership.unit_id == unit_id, Ownership.owner_id == owner_id)
    ).one_or_none()
    if ownership is None:
        get_unit(session=session, unit_id=unit_id)  # 404 for the unit first
        get_owner(session=session, owner_id=owner_id)
        from wuye.platform.problems import NotFound

        raise NotFound("ownership", f"{unit_id}/{owner_id}")
    session.delete(ownership)
    session.flush()


def units_of(*, session: Session, owner_ids: list[str]) -> dict[str, list[str]]:
    """Unit ids held by each owner, in one query."""
    held: dict[str, list[str]] = defaultdict(list)
    if owner_ids:
        rows = session.execute(
            select(Ownership.owner_id, Ownership.unit_id)
            .where(Ownership.owner_id.in_(owner_ids))
            .order_by(Ownership.unit_id)
        )
        for owner_id, unit_id in rows:
            held[owner_id].append(unit_id)
    return held


def present(
    owners: list[Owner],
    *,
    session: Session,
    cipher: PersonalDataCipher,
    reveal: bool,
) -> list[OwnerOut]:
    """API view of owners: personal data decrypted, and masked unless ``reveal``."""
    held = units_of(session=session, owner_ids=[o.id for o in owners])
    out = []
    for owner in owners:
        phone = id_number = None
        if owner.phone_encrypted is not None:
            phone = cipher.decrypt(owner.phone_encrypted, field="phone")
            phone = phone if reveal else mask_phone(phone)
        if owner.id_number_encrypted is not None:
            id_number = cipher.decrypt(owner.id_number_encrypted, field="id_number")
            id_number = id_number if reveal else mask_id_number(id_number)
        out.append(
            OwnerOut(
                id=owner.id,
                name=owner.name,
                kind=owner.kind,
                phone=phone,
                id_number=id_number,
                synthetic=owner.synthetic,
                unit_ids=held.get(owner.id, []),
                created_at=owner.created_at,
            )
        )
    return out
