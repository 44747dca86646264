# pragma version ~=0.4.3
"""
@title Ballots
@notice Owners' votes (业主共同决定). A ballot officer registers a ballot with
        its eligible units and their floor areas, records each unit's vote as
        a commitment (the vote itself stays off-chain until the tally), closes
        the ballot, and records the result. A unit may vote again while the
        ballot is open: its new commitment replaces the old one (the last one
        counts), and cast_count counts units that voted, not commitments. Civil Code art. 278 double
        majorities are computed off-chain by the tally and checked here only
        for consistency with the registered electorate.
"""

interface Permissions:
    def has_role(account: address, role_bits: uint256) -> bool: view

ROLE_BALLOT_OFFICER: constant(uint256) = 16
MAX_UNITS_PER_CALL: constant(uint256) = 256

STATUS_NONE: constant(uint8) = 0
STATUS_OPEN: constant(uint8) = 1
STATUS_CLOSED: constant(uint8) = 2
STATUS_DECIDED: constant(uint8) = 3

struct Ballot:
    estate: bytes32
    subject: bytes32
    spend_limit_fen: uint256
    status: uint8
    eligible_units: uint256
    eligible_area: uint256
    cast_count: uint256
    approved: bool
    yes_units: uint256
    yes_area: uint256
    no_units: uint256
    no_area: uint256

permissions: public(Permissions)
ballots: public(HashMap[uint256, Ballot])
unit_area: public(HashMap[uint256, HashMap[bytes32, uint256]])
commitments: public(HashMap[uint256, HashMap[bytes32, bytes32]])
ballot_count: public(uint256)

event BallotRegistered:
    ballot_id: indexed(uint256)
    estate: indexed(bytes32)
    subject: bytes32
    spend_limit_fen: uint256

event UnitsAdded:
    ballot_id: indexed(uint256)
    units: uint256
    eligible_units: uint256
    eligible_area: uint256

event BallotOpened:
    ballot_id: indexed(uint256)

event VoteCommitted:
    ballot_id: indexed(uint256)
    unit: indexed(bytes32)
    commitment: bytes32

event BallotClosed:
    ballot_id: indexed(uint256)
    cast_count: uint256

event ResultRecorded:
    ballot_id: indexed(uint256)
    approved: bool
    yes_units: uint256
    yes_area: uint256
    no_units: uint256
    no_area: uint256
    tally_digest: bytes32


@deploy
def __init__(permissions: address):
    self.permissions = Permissions(permissions)


@internal
def _officer():
    assert staticcall self.permissions.has_role(msg.sender, ROLE_BALLOT_OFFICER), "not a ballot officer"


@external
def register(estate: bytes32, subject: bytes32, spend_limit_fen: uint256) -> uint256:
    self._officer()
    self.ballot_count += 1
    ballot_id: uint256 = self.ballot_count
    self.ballots[ballot_id].estate = estate
    self.ballots[ballot_id].subject = subject
    self.ballots[ballot_id].spend_limit_fen = spend_limit_fen
    log BallotRegistered(ballot_id=ballot_id, estate=estate, subject=subject, spend_limit_fen=spend_limit_fen)
    return ballot_id


@external
def add_units(ballot_id: uint256, units: DynArray[bytes32, MAX_UNITS_PER_CALL], areas: DynArray[uint256, MAX_UNITS_PER_CALL]):
    self._officer()
    assert self.ballots[ballot_id].status == STATUS_NONE and ballot_id != 0 and ballot_id <= self.ballot_count, "ballot not being registered"
    assert len(units) == len(areas), "units and areas differ in length"
    added_area: uint256 = 0
    i: uint256 = 0
    for unit: bytes32 in units:
        assert areas[i] > 0, "unit area must be positive"
        assert self.unit_area[ballot_id][unit] == 0, "unit listed twice"
        self.unit_area[ballot_id][unit] = areas[i]
        added_area += areas[i]
        i += 1
    self.ballots[ballot_id].eligible_units += len(units)
    self.ballots[ballot_id].eligible_area += added_area
    log UnitsAdded(ballot_id=ballot_id, units=len(units), eligible_units=self.ballots[ballot_id].eligible_units, eligible_area=self.ballots[ballot_id].eligible_area)


@external
def open(ballot_id: uint256):
    self._officer()
    assert self.ballots[ballot_id].status == STATUS_NONE and ballot_id != 0 and ballot_id <= self.ballot_count, "ballot not being registered"
    assert self.ballots[ballot_id].eligible_units > 0, "no eligible units"
    self.ballots[ballot_id].status = STATUS_OPEN
    log BallotOpened(ballot_id=ballot_id)


@external
def cast(ballot_id: uint256, unit: bytes32, commitment: bytes32):
    self._officer()
    assert self.ballots[ballot_id].status == STATUS_OPEN, "ballot not open"
    assert self.unit_area[ballot_id][unit] != 0, "unit not eligible"
    assert commitment != empty(bytes32), "empty commitment"
    if self.commitments[ballot_id][unit] == empty(bytes32):
        self.ballots[ballot_id].cast_count += 1
    self.commitments[ballot_id][unit] = commitment
    log VoteCommitted(ballot_id=ballot_id, unit=unit, commitment=commitment)


@external
def close(ballot_id: uint256):
    self._officer()
    assert self.ballots[ballot_id].status == STATUS_OPEN, "ballot not open"
    self.ballots[ballot_id].status = STATUS_CLOSED
    log BallotClosed(ballot_id=ballot_id, cast_count=self.ballots[ballot_id].cast_count)


@external
def record_result(ballot_id: uint256, approved: bool, yes_units: uint256, yes_area: uint256, no_units: uint256, no_area: uint256, tally_digest: bytes32):
    self._officer()
    b: Ballot = self.ballots[ballot_id]
    assert b.status == STATUS_CLOSED, "ballot not closed"
    assert yes_units + no_units <= b.cast_count, "more votes than cast"
    assert yes_area + no_area <= b.eligible_area, "more area than eligible"
    self.ballots[ballot_id].status = STATUS_DECIDED
    self.ballots[ballot_id].approved = approved
    self.ballots[ballot_id].yes_units = yes_units
    self.ballots[ballot_id].yes_area = yes_area
    self.ballots[ballot_id].no_units = no_units
    self.ballots[ballot_id].no_area = no_area
    log ResultRecorded(ballot_id=ballot_id, approved=approved, yes_units=yes_units, yes_area=yes_area, no_units=no_units, no_area=no_area, tally_digest=tally_digest)


@view
@external
def is_approved(ballot_id: uint256) -> bool:
    return self.ballots[ballot_id].status == STATUS_DECIDED and self.ballots[ballot_id].approved


@view
@external
def estate_of(ballot_id: uint256) -> bytes32:
    return self.ballots[ballot_id].estate


@view
@external
def spend_limit_of(ballot_id: uint256) -> uint256:
    return self.ballots[ballot_id].spend_limit_fen


@view
@external
def status_of(ballot_id: uint256) -> uint8:
    return self.ballots[ballot_id].status
