"""Elections and ballots: plain functions over a tenant-scoped session (one use case each).

The service never sees a plaintext vote: a ballot arrives encrypted with its
proofs and signed with the unit's voting credential, is checked, recorded on the
ledger and stored; the tally is computed on ciphertexts and decrypted only by the
trustees' shares. It never sees a credential's private half either: owners make
theirs on their own device, and a credential authority issues letters for the
others (see :mod:`wuye.ledger.votes.credentials`). A unit may vote again until the
vote closes; only its last ballot counts.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from wuye.crypto import sm3_hash
from wuye.crypto.errors import CryptoError
from wuye.ledger.votes.ballot import EncryptedBallot
from wuye.ledger.votes.chain import ElectionRef, Officer
from wuye.ledger.votes.civil_code import head_groups
from wuye.ledger.votes.credentials import (
    Credential,
    SimulatedOwner,
    check_public_key,
    decode_credentials,
    encode_credentials,
    verify_ballot_signature,
)
from wuye.ledger.votes.elgamal import Ciphertext
from wuye.ledger.votes.models import (
    Ballot,
    CastIn,
    ConfirmIn,
    CoOwnerOut,
    CredentialIn,
    CredentialOut,
    CredentialsIn,
    CredentialSource,
    Election,
    ElectionIn,
    ElectionStatus,
    MyUnitOut,
    NominateIn,
    Nomination,
    NominationOut,
    ProxyCastIn,
    SharesIn,
    VoteCredential,
)
from wuye.ledger.votes.receipts import build_receipt
from wuye.ledger.votes.tally import (
    Cast,
    Endorsement,
    Manifest,
    Result,
    UnitWeight,
    decode_units,
    decrypt_tally,
    encode_units,
    last_ballots,
    tally_ciphertexts,
    tally_context,
    valid_endorsers,
)
from wuye.ledger.votes.trustees import Dealing, DecryptionShare, verification_key
from wuye.ledger.votes.zkp import ProofError
from wuye.platform.crud import flush_or_conflict, get_or_404
from wuye.platform.estates.models import Unit
from wuye.platform.estates.service import get_estate
from wuye.platform.owners.models import Owner, OwnerKind, Ownership
from wuye.platform.problems import Conflict, Problem
from wuye.platform.security import Principal


@dataclass
class VotesLedger:
    """The ballot officer's account and the ElectionRecord contract it casts through."""

    officer: Officer
    record_address: str


def unit_ref(unit_id: str) -> bytes:
    """A unit's public reference on the roll and the ledger."""
    return sm3_hash(b"wuye-unit:" + unit_id.encode())


def get_election(*, session: Session, election_id: str) -> Election:
    return get_or_404(session, Election, election_id, what="election")


def elections_query(
    *, estate_id: str | None = None, status: ElectionStatus | None = None
) -> Select[Any]:
    stmt = select(Election)
    if estate_id:
        stmt = stmt.where(Election.estate_id == estate_id)
    if status:
        stmt = stmt.where(Election.status == status)
    return stmt


def owner_elections(stmt: Select[Any], *, owner_id: str) -> Select[Any]:
    """Only the elections of estates where ``owner_id`` holds a unit."""
    held = (
        select(Unit.estate_id)
        .join(Ownership, Ownership.unit_id == Unit.id)
        .where(Ownership.owner_id == owner_id)
    )
    return stmt.where(Election.estate_id.in_(held))


def create_election(*, session: Session, election_in: ElectionIn) -> Election:
    """Fix the roll: every unit of the estate, its area, and its headcount group."""
    if election_in.threshold > election_in.trustees:
        raise Problem("validation-error", "threshold: cannot exceed the number of trustees")
    if election_in.credential_endorsements > election_in.trustees:
        raise Problem(
            "validation-error",
            "credential_endorsements: 背书人数不能超过计票监督人数 / cannot exceed the number "
            "of trustees",
        )
    estate = get_estate(session=session, estate_id=election_in.estate_id)
    units = session.scalars(select(Unit).where(Unit.estate_id == estate.id).order_by(Unit.id)).all()
    if not units:
        raise Problem("validation-error", "estate_id: the estate has no units to vote")
    held = session.execute(
        select(Ownership.unit_id, Owner.id, Owner.kind)
        .join(Owner, Owner.id == Ownership.owner_id)
        .join(Unit, Unit.id == Ownership.unit_id)
        .where(Unit.estate_id == estate.id)
    ).all()
    owners_of: dict[str, set[str]] = {}
    developers = set()
    for unit_id, owner_id, kind in held:
        owners_of.setdefault(unit_id, set()).add(owner_id)
        if kind == OwnerKind.DEVELOPER:
            developers.add(owner_id)
    groups = head_groups([u.id for u in units], owners_of, developers)
    index = {u.id: i for i, u in enumerate(units)}
    roll = [
        UnitWeight(unit_ref(u.id), int(round(u.floor_area_m2 * 100)), index[groups[u.id]])
        for u in units
    ]
    election = Election(
        estate_id=estate.id,
        title=election_in.title,
        description=election_in.description,
        matter=election_in.matter,
        threshold=election_in.threshold,
        trustee_count=election_in.trustees,
        spend_limit_fen=election_in.spend_limit_fen,
        credential_endorsements=election_in.credential_endorsements,
        roll=encode_units(roll),
        unit_refs=json.dumps({u.id: unit_ref(u.id).hex() for u in units}),
    )
    session.add(election)
    session.flush()
    return election


def manifest_of(election: Election) -> Manifest:
    """The election's manifest: its credential list is the one frozen at open (empty
    before), with the trustees' endorsements of that list if the election requires them."""
    dealings = [Dealing.from_json(d) for d in json.loads(election.dealings)]
    listed = decode_credentials(election.credential_list or b"")
    return Manifest(
        election=election.id,
        title=election.title,
        matter=election.matter,
        threshold=election.threshold,
        dealings=dealings,
        units=decode_units(election.roll),
        credentials=listed,
        endorsements_required=election.credential_endorsements or 0,
        endorsements=_endorsements_for(election, credentials_digest(listed)) if listed else [],
    )


def credentials_digest(listed: list[Credential]) -> bytes:
    """SM3 of a credential list, as the manifest's ``credentials_digest``."""
    return sm3_hash(encode_credentials(listed))


def current_credentials(session: Session, election: Election) -> list[Credential]:
    """The credential list as it stands: frozen on the election once open; before that,
    the registered credentials in roll order, exactly as :func:`open_election` freezes it."""
    if election.status not in (ElectionStatus.DRAFT, ElectionStatus.READY):
        return decode_credentials(election.credential_list or b"")
    refs = json.loads(election.unit_refs)
    order = {unit_id: i for i, unit_id in enumerate(refs)}
    rows = sorted(_credential_rows(session, election.id), key=lambda r: order[r.unit_id])
    return [Credential(bytes.fromhex(refs[r.unit_id]), bytes.fromhex(r.public_key)) for r in rows]


def _endorsements_for(election: Election, digest: bytes) -> list[Endorsement]:
    """The stored endorsements made for the list whose digest is ``digest``, by index."""
    stored: dict[str, dict[str, Any]] = json.loads(election.endorsements or "{}")
    return [
        Endorsement(int(index), entry["proof"])
        for index, entry in sorted(stored.items(), key=lambda item: int(item[0]))
        if entry.get("digest") == digest.hex()
    ]


def valid_endorsements(election: Election) -> list[Endorsement]:
    """The trustees' endorsements of the election's current credential list (each was
    checked when it arrived; one made for an earlier list no longer counts)."""
    from sqlalchemy.orm import object_session

    session = object_session(election)  # none once the route's transaction is over
    if session is None:
        listed = decode_credentials(election.credential_list or b"")
    else:
        listed = current_credentials(session, election)
    return _endorsements_for(election, credentials_digest(listed)) if listed else []


def _expect(election: Election, *statuses: ElectionStatus) -> None:
    if election.status not in statuses:
        wanted = " or ".join(s.value for s in statuses)
        raise Conflict(f"election is {election.status.value}, must be {wanted}")


def set_trustees(*, session: Session, election_id: str, dealings: list[dict[str, Any]]) -> Election:
    """Accept the trustees' public dealings: each proven, one per trustee index."""
    from wuye.ledger.votes.tally import ceremony_context

    election = get_election(session=session, election_id=election_id)
    _expect(election, ElectionStatus.DRAFT)
    try:
        parsed = [Dealing.from_json(d) for d in dealings]
        for d in parsed:
            d.verify(ceremony_context(election.id))
    except (ProofError, CryptoError, KeyError, TypeError, ValueError) as exc:
        raise Problem("validation-error", f"dealings: {exc}") from exc
    if sorted(d.index for d in parsed) != list(range(1, election.trustee_count + 1)):
        raise Problem("validation-error", "dealings: need exactly one from each trustee 1..n")
    if any(len(d.commitments) != election.threshold for d in parsed):
        raise Problem("validation-error", "dealings: each needs k commitments")
    election.dealings = json.dumps([d.to_json() for d in parsed])
    election.fingerprint = manifest_of(election).fingerprint.hex()
    election.status = ElectionStatus.READY
    session.flush()
    return election


def _credential_rows(session: Session, election_id: str) -> list[VoteCredential]:
    return list(
        session.scalars(
            select(VoteCredential).where(VoteCredential.election_id == election_id)
        ).all()
    )


def credentials(*, session: Session, election_id: str) -> list[CredentialOut]:
    """Every unit on the roll with its voting credential's public key, if it has one."""
    from wuye.platform.estates.models import Building

    election = get_election(session=session, election_id=election_id)
    refs = json.loads(election.unit_refs)
    held = {row.unit_id: row for row in _credential_rows(session, election.id)}
    labels = dict(
        session.execute(
            select(Unit.id, Building.name + " " + Unit.number)
            .join(Building, Building.id == Unit.building_id)
            .where(Unit.id.in_(list(refs)))
        ).all()
    )
    return [
        CredentialOut(
            unit_id=unit_id,
            unit_ref=ref,
            label=labels.get(unit_id, ""),
            public_key=held[unit_id].public_key if unit_id in held else None,
            source=held[unit_id].source if unit_id in held else None,
            registered_by=held[unit_id].registered_by if unit_id in held else None,
        )
        for unit_id, ref in refs.items()
    ]


def _before_open(session: Session, election_id: str) -> Election:
    election = get_election(session=session, election_id=election_id)
    if election.status not in (ElectionStatus.DRAFT, ElectionStatus.READY):
        raise Conflict(
            "the vote is open: its credential list is on the ledger and can no longer change"
        )
    return election


def _public_key_or_422(text: str) -> str:
    try:
        return check_public_key(text).hex()
    except (CryptoError, ValueError) as exc:
        raise Problem("validation-error", f"public_key: {exc}") from exc


def register_owner_credential(
    *,
    session: Session,
    election_id: str,
    unit_id: str,
    credential_in: CredentialIn,
    principal: Principal,
) -> CredentialOut:
    """The owner's device registers the public half of the unit's voting credential.

    Only the owner's own token may (staff cannot: the platform must never choose an
    owner's credential), only the one who casts the unit's ballot (see
    :func:`nomination_state`), and only before the vote opens. A new one replaces the
    unit's earlier credential, a letter's included.
    """
    election = _before_open(session, election_id)
    if principal.role != "owner":
        raise Problem(
            "forbidden", "only the owner's own device registers a credential; staff cannot"
        )
    owner_id = acting_owner(principal, None)
    state = nomination_state(session=session, election=election, unit_id=unit_id)
    if state.caster_id != owner_id:
        raise Problem(
            "forbidden",
            "only the owner who casts this unit's ballot registers its credential "
            "(co-owners: nominate and confirm first)",
        )
    public_key = _public_key_or_422(credential_in.public_key)
    row = session.scalars(
        select(VoteCredential).where(
            VoteCredential.election_id == election.id, VoteCredential.unit_id == unit_id
        )
    ).one_or_none()
    if row is None:
        row = VoteCredential(election_id=election.id, unit_id=unit_id)
        session.add(row)
    row.public_key = public_key
    row.source = CredentialSource.OWNER
    row.registered_by = f"owner:{owner_id}"
    flush_or_conflict(session, "the unit's credential changed meanwhile; try again")
    listed = credentials(session=session, election_id=election.id)
    return next(c for c in listed if c.unit_id == unit_id)


def register_authority_credentials(
    *, session: Session, election_id: str, credentials_in: CredentialsIn
) -> int:
    """A credential authority's public list, for units whose owners have no credential yet.

    The authority (not the platform) generated the keys and printed the private halves
    on letters (``wuye votes credentials issue``); only public keys arrive here. Units
    that already hold a credential are refused, so a letter never replaces a credential
    an owner made on their own device.
    """
    election = _before_open(session, election_id)
    refs = json.loads(election.unit_refs)
    unknown = sorted(set(credentials_in.credentials) - set(refs))
    if unknown:
        raise Problem("validation-error", f"credentials: units not on the roll: {unknown[:5]}")
    held = {row.unit_id for row in _credential_rows(session, election.id)}
    taken = sorted(set(credentials_in.credentials) & held)
    if taken:
        raise Conflict(f"{len(taken)} unit(s) already hold a credential, e.g. {taken[0]}")
    for unit_id, key in credentials_in.credentials.items():
        session.add(
            VoteCredential(
                election_id=election.id,
                unit_id=unit_id,
                public_key=_public_key_or_422(key),
                source=CredentialSource.AUTHORITY,
                registered_by=credentials_in.authority,
            )
        )
    flush_or_conflict(session, "a unit's credential changed meanwhile; try again")
    return len(credentials_in.credentials)


def simulated_owners(
    *, session: Session, election_id: str, unit_ids: Iterable[str]
) -> SimulatedOwner:
    """For demos and tests that play the owners in one process, before the vote opens: make
    a credential for each of ``unit_ids`` (as their own devices would) and register the
    public halves. The private keys stay in the returned :class:`SimulatedOwner`; sign each
    ballot with its ``ballot_signature(manifest, unit_id, unit_ref, ballot)``."""
    owners = SimulatedOwner()
    register_authority_credentials(
        session=session,
        election_id=election_id,
        credentials_in=CredentialsIn(
            authority="simulated owners (demo)", credentials=owners.public_keys(unit_ids)
        ),
    )
    return owners


def open_election(*, session: Session, election_id: str, ledger: VotesLedger) -> Election:
    """Freeze the credential list into the manifest, put it all on the ledger, and open.

    If the election requires trustees' endorsements, at least that many trustees must
    have endorsed this very list (:func:`wuye.ledger.votes.ceremony.endorse`); their
    proofs go into the manifest. From here the list is fixed: the service refuses new
    credentials, and the ledger's ElectionRecord refuses to publish another list for this
    election."""
    election = get_election(session=session, election_id=election_id)
    _expect(election, ElectionStatus.READY)
    listed = current_credentials(session, election)
    if not listed:
        raise Conflict(
            "no unit holds a voting credential yet: owners make theirs on the vote page, "
            "or a credential authority issues letters (wuye votes credentials issue)"
        )
    required = election.credential_endorsements or 0
    valid = 0
    if required:
        # Checked again here, as a verifier will: each proof against Xⱼ and this list.
        endorsed = _endorsements_for(election, credentials_digest(listed))
        candidate = replace(manifest_of(election), credentials=listed, endorsements=endorsed)
        valid = len(valid_endorsers(candidate))
    if valid < required:
        raise Conflict(
            f"凭证名单只有 {valid} 份有效的计票监督人背书，需要 {required} 份 / the "
            f"credential list has {valid} valid trustee endorsement(s) of {required} "
            "required (registering or changing a credential voids earlier endorsements: "
            "`wuye votes trustee endorse`)"
        )
    election.credential_list = encode_credentials(listed)
    manifest = manifest_of(election)
    election.fingerprint = manifest.fingerprint.hex()
    ref = ledger.officer.register(
        ledger.record_address,
        manifest,
        sm3_hash(b"wuye-estate:" + election.estate_id.encode()),
        spend_limit_fen=election.spend_limit_fen,
    )
    election.ledger_ref = str(ref)
    election.ballots_contract = (
        ledger.officer.record(ledger.record_address).functions.ballots().call()
    )
    election.status = ElectionStatus.OPEN
    session.flush()
    return election


def acting_owner(principal: Principal, owner_id: str | None) -> str:
    """The owner a request acts for: an owner's token acts only for that owner; staff
    (entering a paper ballot or consent) must name the owner."""
    if principal.role == "owner":
        own = principal.subject.removeprefix("owner:")
        if owner_id is not None and owner_id != own:
            raise Problem("forbidden", "an owner acts only for themself")
        return own
    if not owner_id:
        raise Problem("validation-error", "owner_id: required unless an owner signs in")
    return owner_id


def co_owners(*, session: Session, unit_id: str) -> list[Owner]:
    """The unit's owners (several rows: co-owners, 共有人), in a stable order."""
    return list(
        session.scalars(
            select(Owner)
            .join(Ownership, Ownership.owner_id == Owner.id)
            .where(Ownership.unit_id == unit_id)
            .order_by(Owner.name, Owner.id)
        ).all()
    )


def _nomination(session: Session, election_id: str, unit_id: str) -> Nomination | None:
    return session.scalars(
        select(Nomination).where(
            Nomination.election_id == election_id, Nomination.unit_id == unit_id
        )
    ).one_or_none()


def _voted(session: Session, election_id: str, unit_id: str) -> bool:
    return (
        session.scalars(
            select(Ballot.id).where(Ballot.election_id == election_id, Ballot.unit_id == unit_id)
        ).first()
        is not None
    )


def nomination_state(*, session: Session, election: Election, unit_id: str) -> NominationOut:
    """Who may cast ``unit_id``'s one ballot (一户一票).

    A unit held by one owner: that owner. A unit held by co-owners (共有): the
    co-owner they choose together - one nominates, and the nomination takes effect
    once every other co-owner has confirmed it. Unanimity is the rule for jointly
    owned property (Civil Code Article 301: decisions on the common property need
    all joint owners, 共同共有人, unless they agreed otherwise), and it is the only
    rule that never lets one co-owner vote the unit against the others' choice.
    """
    if unit_id not in json.loads(election.unit_refs):
        get_or_404(session, Unit, unit_id, what="unit")
        raise Problem("forbidden", "the unit is not on this election's roll")
    owners = co_owners(session=session, unit_id=unit_id)
    row = _nomination(session, election.id, unit_id)
    confirmed = set(json.loads(row.confirmed_by)) if row else set()
    ids = [o.id for o in owners]
    if len(owners) == 1:
        caster: str | None = owners[0].id
    elif row is not None and row.nominee_id in ids and set(ids) <= confirmed:
        caster = row.nominee_id
    else:
        caster = None
    return NominationOut(
        election_id=election.id,
        unit_id=unit_id,
        co_owners=[CoOwnerOut(id=o.id, name=o.name, confirmed=o.id in confirmed) for o in owners],
        nominee_id=row.nominee_id if row else None,
        nominated_by=row.nominated_by if row else None,
        effective=caster is not None,
        caster_id=caster,
        voted=_voted(session, election.id, unit_id),
        credential=session.scalars(
            select(VoteCredential.public_key).where(
                VoteCredential.election_id == election.id, VoteCredential.unit_id == unit_id
            )
        ).one_or_none(),
    )


def _co_owner_or_403(owners: list[Owner], owner_id: str, what: str) -> None:
    if owner_id not in {o.id for o in owners}:
        raise Problem("forbidden", f"{what} does not hold this unit")


def _open_for_nomination(session: Session, election_id: str, unit_id: str) -> Election:
    election = get_election(session=session, election_id=election_id)
    _expect(election, ElectionStatus.DRAFT, ElectionStatus.READY, ElectionStatus.OPEN)
    if _voted(session, election.id, unit_id):
        raise Conflict("the unit has already voted; its caster can no longer change")
    return election


def nominate(
    *,
    session: Session,
    election_id: str,
    unit_id: str,
    nominate_in: NominateIn,
    principal: Principal,
) -> NominationOut:
    """A co-owner nominates who casts the unit's ballot (themself or another co-owner).

    A new nomination replaces any earlier one and starts the confirmations afresh;
    the nominator counts as agreeing."""
    election = _open_for_nomination(session, election_id, unit_id)
    by = acting_owner(principal, nominate_in.owner_id)
    owners = co_owners(session=session, unit_id=unit_id)
    if not owners:
        get_or_404(session, Unit, unit_id, what="unit")
    _co_owner_or_403(owners, by, "the nominating owner")
    _co_owner_or_403(owners, nominate_in.nominee_id, "the nominee")
    row = _nomination(session, election.id, unit_id)
    if row is None:
        row = Nomination(election_id=election.id, unit_id=unit_id)
        session.add(row)
    row.nominee_id = nominate_in.nominee_id
    row.nominated_by = by
    row.confirmed_by = json.dumps([by])
    row.entered_by = None if principal.role == "owner" else principal.subject
    flush_or_conflict(session, "the nomination changed meanwhile; try again")
    return nomination_state(session=session, election=election, unit_id=unit_id)


def confirm_nomination(
    *,
    session: Session,
    election_id: str,
    unit_id: str,
    confirm_in: ConfirmIn,
    principal: Principal,
) -> NominationOut:
    """A co-owner agrees to the current nomination."""
    election = _open_for_nomination(session, election_id, unit_id)
    by = acting_owner(principal, confirm_in.owner_id)
    owners = co_owners(session=session, unit_id=unit_id)
    _co_owner_or_403(owners, by, "the confirming owner")
    row = _nomination(session, election.id, unit_id)
    if row is None:
        raise Conflict("nobody has been nominated for this unit yet")
    confirmed = json.loads(row.confirmed_by)
    if by not in confirmed:
        row.confirmed_by = json.dumps([*confirmed, by])
    if principal.role != "owner":
        row.entered_by = principal.subject
    session.flush()
    return nomination_state(session=session, election=election, unit_id=unit_id)


def my_units(*, session: Session, election_id: str, owner_id: str) -> list[MyUnitOut]:
    """The units ``owner_id`` holds on the election's roll, with who may cast each."""
    from wuye.platform.estates.models import Building

    election = get_election(session=session, election_id=election_id)
    refs = json.loads(election.unit_refs)
    rows = session.execute(
        select(Unit.id, Unit.number, Building.name)
        .join(Ownership, Ownership.unit_id == Unit.id)
        .join(Building, Building.id == Unit.building_id)
        .where(Ownership.owner_id == owner_id)
        .order_by(Building.name, Unit.number)
    ).all()
    return [
        MyUnitOut(
            unit_id=unit_id,
            label=f"{building} {number}",
            nomination=nomination_state(session=session, election=election, unit_id=unit_id),
        )
        for unit_id, number, building in rows
        if unit_id in refs
    ]


def cast_ballot(
    *,
    session: Session,
    election_id: str,
    cast_in: CastIn,
    principal: Principal,
    ledger: VotesLedger,
) -> Ballot:
    """Check and record one unit's encrypted ballot; return the stored ballot with its receipt.

    One counted ballot per unit, cast by the one owner :func:`nomination_state` names:
    the sole owner, or the co-owner the co-owners chose. The ballot must be signed
    with the unit's voting credential on the published list, so the platform cannot
    add a ballot for a unit that did not vote. A unit may vote again until the vote
    closes: the new ballot supersedes the earlier ones (kept, marked ``superseded``).
    An owner may cast only as themself; staff entering a paper ballot use
    :class:`ProxyCastIn`, sign with the credential on the owner's letter, and keep the
    owner's signed authorisation.
    """
    election = get_election(session=session, election_id=election_id)
    _expect(election, ElectionStatus.OPEN)
    owner_id = acting_owner(principal, cast_in.owner_id)
    holds = session.scalars(
        select(Ownership).where(
            Ownership.unit_id == cast_in.unit_id, Ownership.owner_id == owner_id
        )
    ).one_or_none()
    if holds is None:
        get_or_404(session, Unit, cast_in.unit_id, what="unit")
        get_or_404(session, Owner, owner_id, what="owner")
        raise Problem("forbidden", "this owner does not hold this unit")
    refs = json.loads(election.unit_refs)
    if cast_in.unit_id not in refs:
        raise Problem("forbidden", "the unit is not on this election's roll")
    state = nomination_state(session=session, election=election, unit_id=cast_in.unit_id)
    if state.caster_id != owner_id:
        raise Problem(
            "forbidden",
            "the unit has co-owners: only the co-owner they nominated and all confirmed "
            "may cast its ballot (nominate and confirm first)"
            if state.caster_id is None
            else "the unit's co-owners chose another co-owner to cast its ballot",
        )
    manifest = manifest_of(election)
    ref = bytes.fromhex(refs[cast_in.unit_id])
    credential = manifest.credential_of().get(ref)
    if credential is None:
        raise Problem(
            "forbidden",
            "the unit holds no voting credential in this election, so it cannot vote online",
        )
    try:
        ballot = EncryptedBallot.from_json(cast_in.ballot)
        ballot.verify(manifest.public_key, manifest.context(ref), manifest.options)
    except (ProofError, CryptoError, ValueError) as exc:
        raise Problem("validation-error", f"ballot: {exc}") from exc
    data = ballot.encode()
    if not cast_in.signature:
        raise Problem(
            "validation-error",
            "signature: every ballot must be signed with the unit's voting credential",
        )
    signature = bytes.fromhex(cast_in.signature)
    try:
        verify_ballot_signature(
            credential,
            signature,
            election=manifest.election,
            fingerprint=manifest.fingerprint,
            unit_ref=ref,
            tracker=ballot.tracker,
        )
    except CryptoError as exc:
        raise Problem(
            "validation-error",
            f"signature: not the unit's voting credential's signature over this ballot ({exc})",
        ) from exc
    earlier = session.scalars(
        select(Ballot).where(
            Ballot.election_id == election.id,
            Ballot.unit_id == cast_in.unit_id,
            Ballot.superseded.is_(False),
        )
    ).all()
    row = Ballot(
        election_id=election.id,
        unit_id=cast_in.unit_id,
        owner_id=owner_id,
        tracker=ballot.tracker.hex(),
        data=data,
        signature=signature,
        tx_hash="",
        block_number=0,
        receipt="",
    )
    if isinstance(cast_in, ProxyCastIn):
        try:
            document = base64.b64decode(cast_in.authorisation_base64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise Problem("validation-error", "authorisation_base64: not base64") from exc
        row.by_proxy = True
        row.entered_by = principal.subject
        row.authorisation = document
        row.authorisation_sm3 = sm3_hash(document).hex()
    session.add(row)
    flush_or_conflict(session, "this ballot was cast already")
    receipt = ledger.officer.cast(ElectionRef.parse(election.ledger_ref), ref, data, signature)
    for old in earlier:
        old.superseded = True
    row.tx_hash = "0x" + bytes(receipt.transactionHash).hex()
    row.block_number = int(receipt.blockNumber)
    row.tx_index = int(receipt.transactionIndex)
    row.receipt = json.dumps(
        build_receipt(
            ledger.officer.w3,
            election=election.ledger_ref,
            ballots_address=election.ballots_contract,
            unit_ref=ref,
            tracker=ballot.tracker,
            tx_hash=receipt.transactionHash,
            title=election.title,
        )
    )
    session.flush()
    return row


def _casts(session: Session, election: Election) -> list[Cast]:
    """The counted ballots: each unit's last, in ledger order (block, then transaction)."""
    refs = json.loads(election.unit_refs)
    rows = session.execute(
        select(Ballot.unit_id, Ballot.data, Ballot.signature)
        .where(Ballot.election_id == election.id)
        .order_by(Ballot.block_number, Ballot.tx_index, Ballot.created_at)
    ).all()
    casts = [Cast(bytes.fromhex(refs[unit_id]), data, sig) for unit_id, data, sig in rows]
    return [casts[i] for i in last_ballots(casts)]


def close_election(*, session: Session, election_id: str, ledger: VotesLedger) -> Election:
    """Close the vote on the ledger and compute the weighted tally on the ciphertexts."""
    election = get_election(session=session, election_id=election_id)
    _expect(election, ElectionStatus.OPEN)
    ledger.officer.close(ElectionRef.parse(election.ledger_ref))
    tally = tally_ciphertexts(manifest_of(election), _casts(session, election))
    election.tally = json.dumps(
        {f"{j}:{w}": (ct.to_json() if ct else None) for (j, w), ct in tally.items()}
    )
    election.status = ElectionStatus.CLOSED
    session.flush()
    return election


def tally_of(election: Election) -> dict[tuple[int, str], Ciphertext | None]:
    out: dict[tuple[int, str], Ciphertext | None] = {}
    for key, value in json.loads(election.tally or "{}").items():
        j, w = key.split(":")
        out[(int(j), w)] = Ciphertext.from_json(value) if value else None
    return out


def submit_shares(
    *, session: Session, election_id: str, shares_in: SharesIn, ledger: VotesLedger
) -> Election:
    """A trustee's decryption shares; once k are in, decrypt and publish the result."""
    election = get_election(session=session, election_id=election_id)
    _expect(election, ElectionStatus.CLOSED)
    manifest = manifest_of(election)
    tally = tally_of(election)
    stored: dict[str, list[dict[str, Any]]] = json.loads(election.shares)
    try:
        for key, data in shares_in.shares.items():
            j, w = key.split(":")
            ct = tally.get((int(j), w))
            share = DecryptionShare.from_json(data)
            if ct is None or share.index != shares_in.index:
                raise ProofError(f"share {key} does not belong to this tally or trustee")
            share.verify(
                verification_key(manifest.dealings, share.index),
                ct,
                tally_context(manifest, (int(j), w)),
            )
            stored.setdefault(key, [])
            stored[key] = [s for s in stored[key] if s["index"] != share.index] + [data]
    except (ProofError, CryptoError, KeyError, ValueError) as exc:
        raise Problem("validation-error", f"shares: {exc}") from exc
    election.shares = json.dumps(stored)
    needed = [k for k, ct in tally.items() if ct is not None]
    have = {k: len(stored.get(f"{k[0]}:{k[1]}", [])) for k in needed}
    if all(n >= election.threshold for n in have.values()):
        parsed = {
            k: [DecryptionShare.from_json(s) for s in stored[f"{k[0]}:{k[1]}"]] for k in needed
        }
        casts = _casts(session, election)
        result = decrypt_tally(manifest, tally, parsed, len(casts))
        decision = result.decision(manifest)
        ledger.officer.publish_result(ElectionRef.parse(election.ledger_ref), result, decision)
        election.result = json.dumps(result.to_json() | {"decision": decision.to_json()})
        election.approved = decision.approved
        election.status = ElectionStatus.DECIDED
    session.flush()
    return election


def results(*, session: Session, election_id: str) -> dict[str, Any]:
    """Counts per option by area (m²) and heads, turnout, and the Article 278 decision."""
    from wuye.ledger.votes.ballot import OPTIONS

    election = get_election(session=session, election_id=election_id)
    manifest = manifest_of(election)
    eligible_area, eligible_heads = manifest.eligible()
    cast = session.scalars(
        select(Ballot.id).where(Ballot.election_id == election.id, Ballot.superseded.is_(False))
    ).all()
    out: dict[str, Any] = {
        "election_id": election.id,
        "status": election.status.value,
        "ledger_ref": election.ledger_ref,
        "eligible_area_m2": eligible_area / 100,
        "eligible_heads": eligible_heads,
        "ballots_cast": len(cast),
        "credential_endorsements": {
            "required": election.credential_endorsements or 0,
            "valid": election.credential_endorsements_valid,
        },
    }
    if election.result:
        body = json.loads(election.result)
        result = Result.from_json(body)
        totals = result.totals(manifest)
        out |= {
            "options": [
                {
                    "option": OPTIONS[j][0],
                    "label": f"{OPTIONS[j][1]} {OPTIONS[j][2]}",
                    "area_m2": result.counts.get((j, "area"), 0) / 100,
                    "heads": result.counts.get((j, "heads"), 0),
                }
                for j in range(manifest.options)
            ],
            "turnout_area_m2": totals.participating_area / 100,
            "turnout_heads": totals.participating_heads,
            "decision": body["decision"],
        }
    return out
