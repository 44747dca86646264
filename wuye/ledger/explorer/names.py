"""Names for the references the ledger stores, when the platform's database is at hand.

The contracts keep SM3 digests, not names: an estate is ``SM3("wuye-estate:" + id)``, a
unit ``wuye.ledger.votes.service.unit_ref(id)``, a rated firm or staff member
``SM3("wuye/credit/<firm|staff>/" + id)``. With the database the explorer shows the
estate's name, the unit's building and number and the firm's name beside the digest;
without it (a regulator reading a remote node) it shows the digests alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from wuye.crypto import sm3_hash

if TYPE_CHECKING:
    from wuye.platform.db import Database


def short(value: str) -> str:
    """0x-hex shortened for display: 0x1234…abcd."""
    text = str(value)
    if text.startswith("0x") and len(text) > 14:
        return f"{text[:6]}…{text[-4:]}"
    return text


def estate_ref(estate_id: str) -> str:
    return "0x" + sm3_hash(b"wuye-estate:" + estate_id.encode()).hex()


def unit_ref(unit_id: str) -> str:
    from wuye.ledger.votes.service import unit_ref as ref

    return "0x" + ref(unit_id).hex()


def project_ref(project_id: str) -> str:
    """A repair project of the maintenance fund (its row in ``fund_projects``)."""
    return "0x" + sm3_hash(b"wuye-fund-project:" + project_id.encode()).hex()


def credit_subject_ref(kind: str, subject_id: str) -> str:
    """The CreditRegistry subject of a firm (``kind='firm'``) or staff member (``'staff'``)."""
    return "0x" + sm3_hash(f"wuye/credit/{kind}/{subject_id}".encode()).hex()


@dataclass(frozen=True)
class Named:
    """A reference the database can name: what it is, its name, and its database id."""

    kind: str  # "estate" | "unit" | "firm" | "staff" | "project"
    name: str
    id: str
    estate_ref: str | None = None


@dataclass
class Names:
    """Reference (0x-hex, lower case) -> what it names; empty without a database."""

    refs: dict[str, Named] = field(default_factory=dict)
    firm_of_estate: dict[str, str] = field(default_factory=dict)  # estate ref -> firm ref

    def named(self, ref: str | None) -> Named | None:
        return self.refs.get(str(ref).lower()) if ref else None

    def label(self, ref: str) -> str:
        named = self.named(ref)
        return f"{named.name}（{short(ref)}）" if named else short(ref)

    def estate(self, ref: str) -> str:
        named = self.named(ref)
        return f"小区 {named.name}" if named else f"小区 {short(ref)}"

    def unit(self, ref: str) -> str:
        named = self.named(ref)
        return f"单元 {named.name}" if named else f"单元 {short(ref)}"

    def subject(self, ref: str) -> str:
        return self.label(ref)

    def account(self, address: str) -> str:
        return short(address)

    def search(
        self, text: str, kinds: tuple[str, ...] = ("estate", "unit", "firm", "staff")
    ) -> list[str]:
        """References whose name contains ``text`` (case-insensitive)."""
        needle = text.strip().lower()
        if not needle:
            return []
        return [
            ref
            for ref, named in self.refs.items()
            if named.kind in kinds and (needle in named.name.lower() or needle == named.id)
        ]

    def of_kind(self, kind: str) -> dict[str, Named]:
        return {ref: named for ref, named in self.refs.items() if named.kind == kind}

    @classmethod
    def from_database(cls, database: Database) -> Names:
        """Every estate, unit, firm and staff member of every tenant (the host's view).

        Reads with the host scope: regulators audit all firms; only names and ids
        are read, never personal data.
        """
        from sqlalchemy import select

        from wuye.federation.models import Tenant
        from wuye.platform.db import Scope
        from wuye.platform.estates.models import Building, Estate, Unit
        from wuye.platform.staff.models import Staff

        names = cls()
        with database.transaction(Scope.for_host()) as session:
            estates = {}
            for estate in session.scalars(select(Estate)):
                ref = estate_ref(estate.id)
                estates[estate.id] = (ref, estate.name)
                names.refs[ref] = Named("estate", estate.name, estate.id, ref)
                names.firm_of_estate[ref] = credit_subject_ref("firm", estate.tenant_id)
            buildings = {b.id: b.name for b in session.scalars(select(Building))}
            for unit in session.scalars(select(Unit)):
                e_ref, e_name = estates.get(unit.estate_id, (None, "?"))
                label = f"{e_name} {buildings.get(unit.building_id, '')} {unit.number}"
                names.refs[unit_ref(unit.id)] = Named("unit", label, unit.id, e_ref)
            for tenant in session.scalars(select(Tenant)):
                ref = credit_subject_ref("firm", tenant.id)
                names.refs[ref] = Named("firm", tenant.name, tenant.id)
            for staff in session.scalars(select(Staff)):
                ref = credit_subject_ref("staff", staff.id)
                names.refs[ref] = Named("staff", staff.name, staff.id)
            names._add_projects(session, estates)
        return names

    def _add_projects(self, session: Any, estates: dict[str, tuple[str, str]]) -> None:
        """Repair projects of the maintenance fund: title, common part and contractor."""
        from sqlalchemy import select
        from sqlalchemy.exc import SQLAlchemyError

        try:
            from wuye.ledger.fund.models import FundProject

            projects = list(session.scalars(select(FundProject)))
        except (ImportError, SQLAlchemyError):
            return  # a database without the fund's tables still names estates and firms
        for project in projects:
            label = f"{project.title}（{project.common_part}，{project.contractor}）"
            e_ref = estates.get(project.estate_id, (None, ""))[0]
            self.refs[project_ref(project.id)] = Named("project", label, project.id, e_ref)
