# pragma version ~=0.4.3
"""
@title MaintenanceFund
@notice Housing special maintenance funds (专项维修资金), in fen (integers
        only), kept per unit and per estate. Every deposit credits one unit
        and its estate; every disbursement debits named units of one estate,
        only against an approved Ballots vote for that estate and within the
        amount the vote approved. Unit balances always add up to their
        estate's balance, and estate balances to the fund's total.
"""

interface Permissions:
    def has_role(account: address, role_bits: uint256) -> bool: view

interface Ballots:
    def is_approved(ballot_id: uint256) -> bool: view
    def estate_of(ballot_id: uint256) -> bytes32: view
    def spend_limit_of(ballot_id: uint256) -> uint256: view

ROLE_FUND_MANAGER: constant(uint256) = 8
MAX_SHARES: constant(uint256) = 256

permissions: public(Permissions)
ballots: public(Ballots)
estate_balance: public(HashMap[bytes32, uint256])
unit_balance: public(HashMap[bytes32, HashMap[bytes32, uint256]])
total: public(uint256)
spent_against: public(HashMap[uint256, uint256])
disbursement_count: public(uint256)

event Deposited:
    estate: indexed(bytes32)
    unit: indexed(bytes32)
    amount_fen: uint256
    unit_balance: uint256
    estate_balance: uint256
    reference: bytes32

event Disbursed:
    disbursement_id: indexed(uint256)
    estate: indexed(bytes32)
    ballot_id: indexed(uint256)
    amount_fen: uint256
    payee: address
    estate_balance: uint256
    memo: bytes32

event UnitDebited:
    disbursement_id: indexed(uint256)
    unit: indexed(bytes32)
    amount_fen: uint256
    unit_balance: uint256


@deploy
def __init__(permissions: address, ballots: address):
    self.permissions = Permissions(permissions)
    self.ballots = Ballots(ballots)


@external
def deposit(estate: bytes32, unit: bytes32, amount_fen: uint256, reference: bytes32):
    assert staticcall self.permissions.has_role(msg.sender, ROLE_FUND_MANAGER), "not a fund manager"
    assert amount_fen > 0, "amount must be positive"
    self.unit_balance[estate][unit] += amount_fen
    self.estate_balance[estate] += amount_fen
    self.total += amount_fen
    log Deposited(estate=estate, unit=unit, amount_fen=amount_fen, unit_balance=self.unit_balance[estate][unit], estate_balance=self.estate_balance[estate], reference=reference)


@external
def disburse(estate: bytes32, ballot_id: uint256, units: DynArray[bytes32, MAX_SHARES], amounts: DynArray[uint256, MAX_SHARES], payee: address, memo: bytes32) -> uint256:
    assert staticcall self.permissions.has_role(msg.sender, ROLE_FUND_MANAGER), "not a fund manager"
    assert staticcall self.ballots.is_approved(ballot_id), "ballot not approved"
    assert staticcall self.ballots.estate_of(ballot_id) == estate, "ballot is for another estate"
    assert len(units) == len(amounts) and len(units) > 0, "units and amounts differ in length"
    amount: uint256 = 0
    for a: uint256 in amounts:
        assert a > 0, "share must be positive"
        amount += a
    assert self.spent_against[ballot_id] + amount <= staticcall self.ballots.spend_limit_of(ballot_id), "exceeds the approved amount"
    assert amount <= self.estate_balance[estate], "insufficient estate balance"
    self.disbursement_count += 1
    disbursement_id: uint256 = self.disbursement_count
    i: uint256 = 0
    for unit: bytes32 in units:
        assert self.unit_balance[estate][unit] >= amounts[i], "insufficient unit balance"
        self.unit_balance[estate][unit] -= amounts[i]
        log UnitDebited(disbursement_id=disbursement_id, unit=unit, amount_fen=amounts[i], unit_balance=self.unit_balance[estate][unit])
        i += 1
    self.spent_against[ballot_id] += amount
    self.estate_balance[estate] -= amount
    self.total -= amount
    log Disbursed(disbursement_id=disbursement_id, estate=estate, ballot_id=ballot_id, amount_fen=amount, payee=payee, estate_balance=self.estate_balance[estate], memo=memo)
    return disbursement_id
