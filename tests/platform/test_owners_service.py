"""Owners: personal data encrypted at rest, masked unless revealed, co-ownership."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from tests.factories import make_tenant, make_unit
from wuye.platform.db import Scope
from wuye.platform.owners import service
from wuye.platform.owners.models import OwnerIn, OwnershipIn
from wuye.platform.pii import PersonalDataCipher, mask_id_number, mask_phone
from wuye.platform.problems import Conflict

CIPHER = PersonalDataCipher(b"unit-test-secret")
PHONE = "13912345678"
ID_NUMBER = "11010519491231002X"  # the GB 11643 example


def _owner(session, phone=PHONE, id_number=ID_NUMBER, name="王芳"):
    return service.create_owner(
        session=session,
        cipher=CIPHER,
        owner_in=OwnerIn(name=name, phone=phone, id_number=id_number),
    )


def test_phone_and_id_number_are_not_stored_in_clear(database):
    t = make_tenant(database)
    with database.transaction(Scope.tenant(t)) as s:
        _owner(s)
    with database.engine.connect() as conn:
        raw = conn.execute(text("SELECT * FROM owners")).one()
    assert PHONE.encode() not in b"".join(
        v if isinstance(v, bytes) else str(v).encode() for v in raw
    )
    assert ID_NUMBER not in str(raw)


def test_owner_is_shown_masked_without_pii_scope(database):
    t = make_tenant(database)
    with database.transaction(Scope.tenant(t)) as s:
        (out,) = service.present([_owner(s)], session=s, cipher=CIPHER, reveal=False)
    assert (out.phone, out.id_number) == ("139****5678", "110105********002X")


def test_owner_is_shown_in_full_with_pii_scope(database):
    t = make_tenant(database)
    with database.transaction(Scope.tenant(t)) as s:
        (out,) = service.present([_owner(s)], session=s, cipher=CIPHER, reveal=True)
    assert (out.phone, out.id_number) == (PHONE, ID_NUMBER)


def test_owner_is_found_by_phone_through_the_blind_index(database):
    t = make_tenant(database)
    with database.transaction(Scope.tenant(t)) as s:
        owner = _owner(s)
    with database.transaction(Scope.tenant(t)) as s:
        assert service.find_by_phone(session=s, cipher=CIPHER, phone=PHONE).id == owner.id


def test_the_same_phone_twice_in_one_tenant_is_a_conflict(database):
    t = make_tenant(database)
    with database.transaction(Scope.tenant(t)) as s:
        _owner(s)
    with pytest.raises(Conflict), database.transaction(Scope.tenant(t)) as s:
        _owner(s, name="李娜", id_number=None)


def test_a_unit_may_have_co_owners_and_an_owner_several_units(database):
    t = make_tenant(database)
    with database.transaction(Scope.tenant(t)) as s:
        u1, u2 = make_unit(s, number="101"), make_unit(s, number="102")
        a, b = _owner(s), _owner(s, phone="13900000001", id_number=None, name="张伟")
        for unit, owner in ((u1, a), (u1, b), (u2, a)):
            service.add_ownership(
                session=s, unit_id=unit.id, ownership_in=OwnershipIn(owner_id=owner.id)
            )
        held = service.units_of(session=s, owner_ids=[a.id, b.id])
    assert sorted(held[a.id]) == sorted([u1.id, u2.id])
    assert held[b.id] == [u1.id]


def test_id_number_with_a_wrong_check_character_is_rejected():
    with pytest.raises(ValidationError, match="GB 11643"):
        OwnerIn(name="x", id_number="110105194912310021")


def test_masks_keep_only_the_ends():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id_number("110105194912310021") == "110105********0021"


def test_cipher_repr_hides_its_keys():
    assert "hidden" in repr(CIPHER)
