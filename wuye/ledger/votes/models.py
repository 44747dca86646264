"""Election and ballot tables, and the schemas the votes API speaks."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import (
    BigInteger,
    Boolean,
    Enum,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from wuye.ledger.votes.civil_code import MatterType
from wuye.platform.db import Base, TenantScoped, Timestamped, new_id


class ElectionStatus(enum.StrEnum):
    DRAFT = "draft"  # roll fixed, waiting for the trustees' key ceremony
    READY = "ready"  # election key known
    OPEN = "open"  # on the ledger, accepting ballots
    CLOSED = "closed"  # tally computed, waiting for trustees' decryption shares
    DECIDED = "decided"  # decrypted, result on the ledger


class Election(Base, TenantScoped, Timestamped):
    """A vote of an estate's owners' assembly (业主大会表决) on one matter."""

    __tablename__ = "vote_elections"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    estate_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("estates.id", ondelete="CASCADE"), index=True, nullable=False
    )
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, default="")
    matter: Mapped[MatterType] = mapped_column(
        Enum(MatterType, native_enum=False, length=32), nullable=False
    )
    status: Mapped[ElectionStatus] = mapped_column(
        Enum(ElectionStatus, native_enum=False, length=16),
        nullable=False,
        default=ElectionStatus.DRAFT,
        index=True,
    )
    threshold: Mapped[int] = mapped_column(Integer, nullable=False)
    trustee_count: Mapped[int] = mapped_column(Integer, nullable=False)
    #: The most of the maintenance fund the vote authorises (fen); Ballots.spend_limit_of.
    spend_limit_fen: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)
    #: The unit roll (ref ‖ area ‖ group per unit), fixed at creation.
    roll: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    #: unit id -> roll ref, as JSON, so casting finds a unit's reference.
    unit_refs: Mapped[str] = mapped_column(Text, nullable=False)
    dealings: Mapped[str] = mapped_column(Text, nullable=False, default="[]")
    #: The trustees' ceremony on separate devices, as JSON: transport keys, dealings with
    #: their shares encrypted to each recipient, and confirmations (see ``ceremony.py``).
    ceremony: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False, default="")
    ledger_ref: Mapped[str] = mapped_column(String(80), nullable=False, default="")
    ballots_contract: Mapped[str] = mapped_column(String(42), nullable=False, default="")
    #: The published credential list (unit ref ‖ SM2 public key per unit), frozen at open.
    credential_list: Mapped[bytes] = mapped_column(LargeBinary, nullable=False, default=b"")
    #: How many trustees must endorse the credential list before the vote opens (0: none).
    credential_endorsements: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: The trustees' endorsements received, as JSON: index -> {"digest": SM3 of the list
    #: endorsed, hex; "proof": Schnorr proof}; only those for the current list count.
    endorsements: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    tally: Mapped[str] = mapped_column(Text, nullable=False, default="")
    shares: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    result: Mapped[str] = mapped_column(Text, nullable=False, default="")
    approved: Mapped[bool | None] = mapped_column(Boolean)

    @property
    def credential_endorsements_valid(self) -> int:
        """How many trustees endorsed the election's current credential list."""
        if not self.endorsements or self.endorsements == "{}":
            return 0  # the usual case: no list to read
        from wuye.ledger.votes.service import valid_endorsements

        return len(valid_endorsements(self))


class Ballot(Base, TenantScoped, Timestamped):
    """One encrypted ballot of a unit, as cast on the ledger. It holds no plaintext.

    A unit may vote again until the vote closes: every ballot is kept (the history), and
    the earlier ones are marked ``superseded``; only the unit's last ballot counts.
    """

    __tablename__ = "vote_ballots"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    election_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("vote_elections.id", ondelete="CASCADE"), index=True, nullable=False
    )
    unit_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("units.id", ondelete="CASCADE"), index=True, nullable=False
    )
    owner_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("owners.id", ondelete="CASCADE"), index=True, nullable=False
    )
    tracker: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    data: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    #: The owner's SM2 signature (DER) under the unit's voting credential.
    signature: Mapped[bytes] = mapped_column(LargeBinary, nullable=False, default=b"")
    tx_hash: Mapped[str] = mapped_column(String(66), nullable=False)
    block_number: Mapped[int] = mapped_column(Integer, nullable=False)
    tx_index: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    superseded: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, index=True)
    receipt: Mapped[str] = mapped_column(Text, nullable=False)
    #: 线下代投: staff entered a paper ballot; the owner's signed authorisation is kept.
    by_proxy: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    entered_by: Mapped[str | None] = mapped_column(String(200))
    authorisation: Mapped[bytes | None] = mapped_column(LargeBinary)
    authorisation_sm3: Mapped[str | None] = mapped_column(String(64))


class CredentialSource(enum.StrEnum):
    OWNER = "owner"  # made on the owner's own device
    AUTHORITY = "authority"  # issued on a letter by a credential authority (e.g. 居委会)


class VoteCredential(Base, TenantScoped, Timestamped):
    """A unit's voting credential (投票凭证) in one election: the public half only.

    Registered before the vote opens, by the owner's device or by a credential authority;
    replaced only before the vote opens; then published on the ledger and fixed.
    """

    __tablename__ = "vote_credentials"
    __table_args__ = (UniqueConstraint("election_id", "unit_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    election_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("vote_elections.id", ondelete="CASCADE"), index=True, nullable=False
    )
    unit_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("units.id", ondelete="CASCADE"), index=True, nullable=False
    )
    public_key: Mapped[str] = mapped_column(String(130), nullable=False)
    source: Mapped[CredentialSource] = mapped_column(
        Enum(CredentialSource, native_enum=False, length=16), nullable=False
    )
    #: The owner (device credential) or the authority's name (letters).
    registered_by: Mapped[str] = mapped_column(String(200), nullable=False)


class Nomination(Base, TenantScoped, Timestamped):
    """Which co-owner casts a co-owned unit's one ballot in one election (共有人推选).

    One co-owner nominates (possibly themself); the nomination takes effect when every
    other co-owner has confirmed it (see :func:`wuye.ledger.votes.service.nomination_state`).
    A new nomination replaces the old one and its confirmations.
    """

    __tablename__ = "vote_nominations"
    __table_args__ = (UniqueConstraint("election_id", "unit_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    election_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("vote_elections.id", ondelete="CASCADE"), index=True, nullable=False
    )
    unit_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("units.id", ondelete="CASCADE"), index=True, nullable=False
    )
    nominee_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("owners.id", ondelete="CASCADE"), nullable=False
    )
    nominated_by: Mapped[str] = mapped_column(
        String(32), ForeignKey("owners.id", ondelete="CASCADE"), nullable=False
    )
    #: Owner ids that agreed, the nominator included, as a JSON list.
    confirmed_by: Mapped[str] = mapped_column(Text, nullable=False, default="[]")
    #: Set when staff recorded a step for an owner (paper consent): who did it.
    entered_by: Mapped[str | None] = mapped_column(String(200))


# --- schemas ---------------------------------------------------------------


class ElectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    estate_id: str
    title: Annotated[str, Field(min_length=1, max_length=200)]
    description: Annotated[str, Field(max_length=5000)] = ""
    matter: MatterType
    threshold: Annotated[int, Field(ge=1, le=15, description="k of n trustees")] = 2
    trustees: Annotated[int, Field(ge=1, le=15, description="n trustees")] = 3
    spend_limit_fen: Annotated[int, Field(ge=0, le=10**13)] = Field(
        0,
        description="表决批准动用的维修资金上限（分），记入账本 / the most of the maintenance "
        "fund the vote authorises, in fen, recorded on the ledger; 0 for other matters",
    )
    credential_endorsements: Annotated[int, Field(ge=0, le=15)] = Field(
        0,
        description="开始投票前须为投票凭证名单背书的计票监督人数（0..trustees）/ how many "
        "trustees must endorse the credential list before the vote opens (0..trustees; 0: "
        "none, the platform alone vouches for the list)",
    )


class ElectionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    estate_id: str
    title: str
    description: str
    matter: MatterType
    status: ElectionStatus
    threshold: int
    trustee_count: int
    spend_limit_fen: int
    credential_endorsements: int = Field(
        description="须为凭证名单背书的计票监督人数 / trustees required to endorse the "
        "credential list"
    )
    credential_endorsements_valid: int = Field(
        description="对当前凭证名单有效的背书数；登记或更换任何凭证后，此前的背书即失效 / "
        "endorsements valid for the current credential list; registering or changing any "
        "credential afterwards invalidates earlier ones (the trustees endorse again)"
    )
    fingerprint: str
    ledger_ref: str
    approved: bool | None
    created_at: datetime


class TrusteesIn(BaseModel):
    """The trustees' public dealings from their key ceremony (Feldman commitments)."""

    model_config = ConfigDict(extra="forbid")

    dealings: list[dict[str, Any]]


class CastIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    unit_id: str
    owner_id: str | None = Field(
        default=None,
        description="the co-owner casting the unit's ballot (an owner's own token implies it)",
    )
    ballot: dict[str, Any] = Field(description="encrypted ballot with proofs (JSON form)")
    signature: Annotated[str | None, Field(pattern=r"^[0-9a-fA-F]{16,160}$")] = Field(
        default=None,
        description="hex DER SM2 signature by the unit's voting credential over the ballot "
        "(see wuye.ledger.votes.credentials.signed_message); a ballot without one is refused",
    )


class CredentialIn(BaseModel):
    """The public half of a voting credential the owner made on their own device."""

    model_config = ConfigDict(extra="forbid")

    public_key: Annotated[str, Field(pattern=r"^04[0-9a-fA-F]{128}$")]


class CredentialsIn(BaseModel):
    """A credential authority's public list for owners without a device (unit id -> key)."""

    model_config = ConfigDict(extra="forbid")

    authority: Annotated[str, Field(min_length=1, max_length=200)]
    credentials: dict[str, Annotated[str, Field(pattern=r"^04[0-9a-fA-F]{128}$")]]


class CredentialOut(BaseModel):
    unit_id: str
    unit_ref: str
    label: str
    public_key: str | None
    source: CredentialSource | None
    registered_by: str | None


class ProxyCastIn(CastIn):
    """线下代投: a paper ballot entered by staff, with the owner's signed authorisation."""

    authorisation_base64: Annotated[str, Field(min_length=4, max_length=4_000_000)]


class SharesIn(BaseModel):
    """One trustee's decryption shares of every tally ciphertext, with proofs."""

    model_config = ConfigDict(extra="forbid")

    index: Annotated[int, Field(ge=1, le=15)]
    shares: dict[str, dict[str, Any]]


class BallotOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    election_id: str
    unit_id: str
    tracker: str
    tx_hash: str
    block_number: int
    by_proxy: bool
    superseded: bool
    created_at: datetime


class NominateIn(BaseModel):
    """A co-owner names who casts the unit's ballot."""

    model_config = ConfigDict(extra="forbid")

    nominee_id: str = Field(description="the co-owner who will cast the unit's ballot")
    owner_id: str | None = Field(
        default=None, description="who nominates; staff must name the owner they act for"
    )


class ConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    owner_id: str | None = Field(
        default=None, description="who confirms; staff must name the owner they act for"
    )


class CoOwnerOut(BaseModel):
    id: str
    name: str
    confirmed: bool


class NominationOut(BaseModel):
    """Who may cast a unit's ballot in an election, and how far the co-owners agreed."""

    election_id: str
    unit_id: str
    co_owners: list[CoOwnerOut]
    nominee_id: str | None = None
    nominated_by: str | None = None
    effective: bool = Field(description="the unit's ballot may be cast by ``caster_id``")
    caster_id: str | None = Field(None, description="the one co-owner who may cast now")
    voted: bool
    credential: str | None = Field(
        None, description="the unit's voting credential (public key) on the list, if any"
    )


class MyUnitOut(BaseModel):
    """A unit the signed-in owner holds on an election's roll."""

    unit_id: str
    label: str
    nomination: NominationOut


class TransportKeyIn(BaseModel):
    """A trustee's SM2 public key that the other trustees encrypt its shares to."""

    model_config = ConfigDict(extra="forbid")

    transport_key: Annotated[str, Field(pattern=r"^04[0-9a-fA-F]{128}$")]


class DealingIn(BaseModel):
    """A trustee's public dealing and its shares, each encrypted to its recipient (SM2)."""

    model_config = ConfigDict(extra="forbid")

    dealing: dict[str, Any]
    encrypted_shares: dict[str, Annotated[str, Field(max_length=2000)]] = Field(
        description="recipient index -> hex SM2 ciphertext (GB/T 32918.4)"
    )


class EndorsementIn(BaseModel):
    """A trustee's endorsement of the credential list, made on its own device and relayed:
    a Schnorr proof of its key share bound to the election and the list's SM3 digest."""

    model_config = ConfigDict(extra="forbid")

    index: Annotated[int, Field(ge=1, le=15)]
    proof: dict[str, Any]


class ConfirmKeyIn(BaseModel):
    """A trustee's proof that it holds the key share the dealings give it."""

    model_config = ConfigDict(extra="forbid")

    proof: dict[str, Any]
