# pragma version ~=0.4.3
"""
@title MaintenanceFund
@notice Housing special maintenance funds (住宅专项维修资金), in fen (integers
        only), kept per unit (分户账) inside each estate's fund.

        Credits arrive in batches: one transaction carries up to 256 unit
        movements of one kind (first deposit at purchase, top-up, interest,
        common-part income transferred into the fund). Debits are payments
        of repair projects: a project names its budget and each sharing
        unit's apportioned share (分摊); it is paid in stages against
        invoices only once an approved owners' vote (Ballots) of the same
        estate authorises it, or, for an emergency repair, once its reason
        and evidence digests are on chain (a later vote ratifies it). No
        stage may take a unit past its share nor the project past its
        budget. Common-part income and expenses (parking, advertising,
        leasing) are recorded per estate and period; only their net income
        may be transferred into the fund.

        Invariant: per estate, unit balances add up to the estate balance,
        and estate balances to `total`.
"""

interface Permissions:
    def has_role(account: address, role_bits: uint256) -> bool: view

interface Ballots:
    def is_approved(ballot_id: uint256) -> bool: view
    def estate_of(ballot_id: uint256) -> bytes32: view
    def spend_limit_of(ballot_id: uint256) -> uint256: view

ROLE_FUND_MANAGER: constant(uint256) = 8
MAX_UNITS: constant(uint256) = 256
MAX_EVIDENCE: constant(uint256) = 16

# Kinds of credit (deposit_batch).
KIND_PURCHASE: constant(uint8) = 1       # 首次交存 at purchase: area x city rate
KIND_TOP_UP: constant(uint8) = 2         # 续筹 when the balance fell below the threshold
KIND_INTEREST: constant(uint8) = 3       # 增值收益 allocated by balance
KIND_COMMON_INCOME: constant(uint8) = 4  # 共有部分收益 transferred into the fund

# Project status.
PROPOSED: constant(uint8) = 1
APPROVED: constant(uint8) = 2
EMERGENCY: constant(uint8) = 3
RATIFIED: constant(uint8) = 4

struct Project:
    estate: bytes32
    ref: bytes32
    budget_fen: uint256
    shares_fen: uint256
    paid_fen: uint256
    status: uint8
    ballot_id: uint256

permissions: public(Permissions)
ballots: public(Ballots)
estate_balance: public(HashMap[bytes32, uint256])
unit_balance: public(HashMap[bytes32, HashMap[bytes32, uint256]])
total: public(uint256)

batch_count: public(uint256)
projects: public(HashMap[uint256, Project])
project_count: public(uint256)
share_of: public(HashMap[uint256, HashMap[bytes32, uint256]])
paid_by: public(HashMap[uint256, HashMap[bytes32, uint256]])
project_of_ballot: public(HashMap[uint256, uint256])
payment_count: public(uint256)

common_income: public(HashMap[bytes32, HashMap[uint256, uint256]])
common_expense: public(HashMap[bytes32, HashMap[uint256, uint256]])
common_net_available: public(HashMap[bytes32, int256])
common_count: public(uint256)

event UnitCredited:
    batch_id: indexed(uint256)
    estate: indexed(bytes32)
    unit: indexed(bytes32)
    kind: uint8
    amount_fen: uint256
    unit_balance: uint256

event BatchDeposited:
    batch_id: indexed(uint256)
    estate: indexed(bytes32)
    kind: indexed(uint8)
    period: uint256
    units: uint256
    amount_fen: uint256
    estate_balance: uint256
    reference: bytes32

event ProjectProposed:
    project_id: indexed(uint256)
    estate: indexed(bytes32)
    ref: bytes32
    budget_fen: uint256

event ShareAssigned:
    project_id: indexed(uint256)
    unit: indexed(bytes32)
    amount_fen: uint256
    shares_fen: uint256

event ProjectApproved:
    project_id: indexed(uint256)
    estate: indexed(bytes32)
    ballot_id: indexed(uint256)
    budget_fen: uint256

event EmergencyDeclared:
    project_id: indexed(uint256)
    estate: indexed(bytes32)
    reason_sm3: bytes32
    budget_fen: uint256
    evidence_sm3: DynArray[bytes32, MAX_EVIDENCE]

event EmergencyRatified:
    project_id: indexed(uint256)
    estate: indexed(bytes32)
    ballot_id: indexed(uint256)

event PaymentMade:
    payment_id: indexed(uint256)
    project_id: indexed(uint256)
    estate: indexed(bytes32)
    stage: uint256
    period: uint256
    amount_fen: uint256
    paid_fen: uint256
    estate_balance: uint256
    payee: address
    invoice_sm3: bytes32

event UnitDebited:
    payment_id: indexed(uint256)
    estate: indexed(bytes32)
    unit: indexed(bytes32)
    project_id: uint256
    amount_fen: uint256
    unit_balance: uint256

event CommonPartRecorded:
    record_id: indexed(uint256)
    estate: indexed(bytes32)
    period: indexed(uint256)
    category: uint8
    income: bool
    amount_fen: uint256
    net_available: int256
    reference: bytes32


@deploy
def __init__(permissions: address, ballots: address):
    self.permissions = Permissions(permissions)
    self.ballots = Ballots(ballots)


@internal
def _manager():
    assert staticcall self.permissions.has_role(msg.sender, ROLE_FUND_MANAGER), "not a fund manager"


@internal
@view
def _period(period: uint256):
    assert period >= 190001 and period <= 999912 and period % 100 >= 1 and period % 100 <= 12, "period must be yyyymm"


@external
def deposit_batch(estate: bytes32, units: DynArray[bytes32, MAX_UNITS], amounts: DynArray[uint256, MAX_UNITS], kind: uint8, period: uint256, reference: bytes32) -> uint256:
    """Credit many units of one estate in one transaction; returns the batch id."""
    self._manager()
    self._period(period)
    assert kind >= KIND_PURCHASE and kind <= KIND_COMMON_INCOME, "unknown deposit kind"
    assert len(units) == len(amounts) and len(units) > 0, "units and amounts differ in length"
    self.batch_count += 1
    batch_id: uint256 = self.batch_count
    amount: uint256 = 0
    i: uint256 = 0
    for unit: bytes32 in units:
        a: uint256 = amounts[i]
        assert a > 0, "amount must be positive"
        self.unit_balance[estate][unit] += a
        amount += a
        log UnitCredited(batch_id=batch_id, estate=estate, unit=unit, kind=kind, amount_fen=a, unit_balance=self.unit_balance[estate][unit])
        i += 1
    if kind == KIND_COMMON_INCOME:
        assert convert(amount, int256) <= self.common_net_available[estate], "exceeds the common-part net income"
        self.common_net_available[estate] -= convert(amount, int256)
    self.estate_balance[estate] += amount
    self.total += amount
    log BatchDeposited(batch_id=batch_id, estate=estate, kind=kind, period=period, units=len(units), amount_fen=amount, estate_balance=self.estate_balance[estate], reference=reference)
    return batch_id


@external
def propose(estate: bytes32, ref: bytes32, budget_fen: uint256) -> uint256:
    """A repair project (common part, contractor and budget kept off chain under `ref`)."""
    self._manager()
    assert budget_fen > 0, "budget must be positive"
    self.project_count += 1
    project_id: uint256 = self.project_count
    self.projects[project_id] = Project(estate=estate, ref=ref, budget_fen=budget_fen, shares_fen=0, paid_fen=0, status=PROPOSED, ballot_id=0)
    log ProjectProposed(project_id=project_id, estate=estate, ref=ref, budget_fen=budget_fen)
    return project_id


@external
def add_shares(project_id: uint256, units: DynArray[bytes32, MAX_UNITS], amounts: DynArray[uint256, MAX_UNITS]):
    """Each sharing unit's apportioned share (分摊); all shares add up to the budget."""
    self._manager()
    assert self.projects[project_id].status == PROPOSED, "project not being proposed"
    assert len(units) == len(amounts) and len(units) > 0, "units and amounts differ in length"
    shares: uint256 = self.projects[project_id].shares_fen
    i: uint256 = 0
    for unit: bytes32 in units:
        assert amounts[i] > 0, "share must be positive"
        assert self.share_of[project_id][unit] == 0, "unit listed twice"
        self.share_of[project_id][unit] = amounts[i]
        shares += amounts[i]
        log ShareAssigned(project_id=project_id, unit=unit, amount_fen=amounts[i], shares_fen=shares)
        i += 1
    assert shares <= self.projects[project_id].budget_fen, "shares exceed the budget"
    self.projects[project_id].shares_fen = shares


@internal
@view
def _check_ballot(project_id: uint256, ballot_id: uint256):
    p: Project = self.projects[project_id]
    assert staticcall self.ballots.is_approved(ballot_id), "ballot not approved"
    assert staticcall self.ballots.estate_of(ballot_id) == p.estate, "ballot is for another estate"
    assert self.project_of_ballot[ballot_id] == 0, "ballot already used"
    # The vote names the amount it authorises; a vote that named none authorises nothing.
    limit: uint256 = staticcall self.ballots.spend_limit_of(ballot_id)
    assert limit != 0, "the vote authorised no amount"
    assert p.budget_fen <= limit, "budget exceeds the approved amount"


@external
def approve(project_id: uint256, ballot_id: uint256):
    """Authorise a proposed project by an approved owners' vote of its estate."""
    self._manager()
    p: Project = self.projects[project_id]
    assert p.status == PROPOSED, "project not being proposed"
    assert p.shares_fen == p.budget_fen, "shares do not add up to the budget"
    self._check_ballot(project_id, ballot_id)
    self.project_of_ballot[ballot_id] = project_id
    self.projects[project_id].status = APPROVED
    self.projects[project_id].ballot_id = ballot_id
    log ProjectApproved(project_id=project_id, estate=p.estate, ballot_id=ballot_id, budget_fen=p.budget_fen)


@external
def declare_emergency(project_id: uint256, reason_sm3: bytes32, evidence_sm3: DynArray[bytes32, MAX_EVIDENCE]):
    """An emergency repair (应急维修) paid before any vote: reason and evidence on chain."""
    self._manager()
    p: Project = self.projects[project_id]
    assert p.status == PROPOSED, "project not being proposed"
    assert p.shares_fen == p.budget_fen, "shares do not add up to the budget"
    assert reason_sm3 != empty(bytes32), "a reason is required"
    assert len(evidence_sm3) > 0, "evidence is required"
    self.projects[project_id].status = EMERGENCY
    log EmergencyDeclared(project_id=project_id, estate=p.estate, reason_sm3=reason_sm3, budget_fen=p.budget_fen, evidence_sm3=evidence_sm3)


@external
def ratify(project_id: uint256, ballot_id: uint256):
    """The owners' later vote ratifying an emergency repair."""
    self._manager()
    p: Project = self.projects[project_id]
    assert p.status == EMERGENCY, "not an emergency repair"
    self._check_ballot(project_id, ballot_id)
    self.project_of_ballot[ballot_id] = project_id
    self.projects[project_id].status = RATIFIED
    self.projects[project_id].ballot_id = ballot_id
    log EmergencyRatified(project_id=project_id, estate=p.estate, ballot_id=ballot_id)


@external
def pay(project_id: uint256, stage: uint256, period: uint256, units: DynArray[bytes32, MAX_UNITS], amounts: DynArray[uint256, MAX_UNITS], payee: address, invoice_sm3: bytes32) -> uint256:
    """A staged payment against an invoice, debiting the sharing units; returns its id."""
    self._manager()
    self._period(period)
    p: Project = self.projects[project_id]
    assert p.status == APPROVED or p.status == EMERGENCY or p.status == RATIFIED, "project not authorised"
    assert len(units) == len(amounts) and len(units) > 0, "units and amounts differ in length"
    assert invoice_sm3 != empty(bytes32), "an invoice is required"
    assert payee != empty(address), "a payee is required"
    estate: bytes32 = p.estate
    self.payment_count += 1
    payment_id: uint256 = self.payment_count
    amount: uint256 = 0
    i: uint256 = 0
    for unit: bytes32 in units:
        a: uint256 = amounts[i]
        assert a > 0, "amount must be positive"
        assert self.paid_by[project_id][unit] + a <= self.share_of[project_id][unit], "exceeds the unit's share"
        assert self.unit_balance[estate][unit] >= a, "insufficient unit balance"
        self.paid_by[project_id][unit] += a
        self.unit_balance[estate][unit] -= a
        amount += a
        log UnitDebited(payment_id=payment_id, estate=estate, unit=unit, project_id=project_id, amount_fen=a, unit_balance=self.unit_balance[estate][unit])
        i += 1
    assert p.paid_fen + amount <= p.budget_fen, "exceeds the approved amount"
    self.projects[project_id].paid_fen = p.paid_fen + amount
    self.estate_balance[estate] -= amount
    self.total -= amount
    log PaymentMade(payment_id=payment_id, project_id=project_id, estate=estate, stage=stage, period=period, amount_fen=amount, paid_fen=p.paid_fen + amount, estate_balance=self.estate_balance[estate], payee=payee, invoice_sm3=invoice_sm3)
    return payment_id


@external
def record_common(estate: bytes32, period: uint256, category: uint8, income: bool, amount_fen: uint256, reference: bytes32) -> uint256:
    """Income or expense of the common parts (parking 1, advertising 2, leasing 3, other 9)."""
    self._manager()
    self._period(period)
    assert amount_fen > 0, "amount must be positive"
    assert category >= 1 and category <= 9, "unknown category"
    self.common_count += 1
    if income:
        self.common_income[estate][period] += amount_fen
        self.common_net_available[estate] += convert(amount_fen, int256)
    else:
        self.common_expense[estate][period] += amount_fen
        self.common_net_available[estate] -= convert(amount_fen, int256)
    log CommonPartRecorded(record_id=self.common_count, estate=estate, period=period, category=category, income=income, amount_fen=amount_fen, net_available=self.common_net_available[estate], reference=reference)
    return self.common_count
