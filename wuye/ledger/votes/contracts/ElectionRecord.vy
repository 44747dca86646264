# pragma version ~=0.4.3
"""
@title ElectionRecord
@notice The public record of encrypted owners' votes, beside the ledger's Ballots
        contract: the manifest (trustees' key commitments, the unit roll with
        areas and headcount groups), every encrypted ballot with its proofs, and
        the tally's decryption shares. Casting here also casts in Ballots, with
        the ballot's SM3 tracker as its commitment, so one transaction both
        counts the unit as having voted and keeps the ciphertext retrievable.
        Each ballot is logged with the voter's SM2 signature under the unit's
        credential, published (kind 4) before the vote opens. The manifest,
        roll and credential list can be published only while the ballot is
        being registered: once it opens they are fixed. SM3 and SM2 are not
        available in the EVM: verifiers check off-chain that each tracker is
        the SM3 of the ballot logged with it and that its signature verifies.
"""

interface Ballots:
    def cast(ballot_id: uint256, unit: bytes32, commitment: bytes32): nonpayable
    def status_of(ballot_id: uint256) -> uint8: view

interface Permissions:
    def has_role(account: address, role_bits: uint256) -> bool: view

ROLE_BALLOT_OFFICER: constant(uint256) = 16
KIND_RESULT: constant(uint256) = 3

ballots: public(Ballots)
permissions: public(Permissions)

event Published:
    ballot_id: indexed(uint256)
    kind: indexed(uint256)
    data: Bytes[24576]

event BallotPublished:
    ballot_id: indexed(uint256)
    unit: indexed(bytes32)
    tracker: bytes32
    ballot: Bytes[4096]
    signature: Bytes[80]


@deploy
def __init__(ballots: address, permissions: address):
    self.ballots = Ballots(ballots)
    self.permissions = Permissions(permissions)


@internal
def _officer():
    assert staticcall self.permissions.has_role(msg.sender, ROLE_BALLOT_OFFICER), "not a ballot officer"


@external
def publish(ballot_id: uint256, kind: uint256, data: Bytes[24576]):
    self._officer()
    if kind != KIND_RESULT:
        assert staticcall self.ballots.status_of(ballot_id) == 0, "election already open: its manifest, roll and credentials are fixed"
    log Published(ballot_id=ballot_id, kind=kind, data=data)


@external
def cast(ballot_id: uint256, unit: bytes32, tracker: bytes32, ballot: Bytes[4096], signature: Bytes[80]):
    self._officer()
    extcall self.ballots.cast(ballot_id, unit, tracker)
    log BallotPublished(ballot_id=ballot_id, unit=unit, tracker=tracker, ballot=ballot, signature=signature)
