"""The Vyper contracts, called through web3.py against a running node."""

from __future__ import annotations

import pytest
from eth_account import Account
from web3 import Web3
from web3.exceptions import ContractLogicError
from web3.logs import DISCARD

from tests.ledger.conftest import PERMISSIONS, call, deploy, new_member
from wuye.ledger import contracts

ROLE_SENDER, ROLE_RATER, ROLE_FUND, ROLE_BALLOT = 1, 4, 8, 16
ESTATE, OTHER_ESTATE = b"E" * 32, b"O" * 32
UNITS = [bytes([i]) * 32 for i in range(1, 5)]


def test_compiled_contracts_match_their_sources_and_are_cached(tmp_path, monkeypatch) -> None:
    import vyper

    monkeypatch.setenv("WUYE_CACHE_DIR", str(tmp_path))
    contracts.compiled.cache_clear()
    try:
        for name in contracts.NAMES:
            fresh = vyper.compile_code(
                contracts.source_path(name).read_text(), output_formats=["bytecode"]
            )["bytecode"]
            assert contracts.compiled(name).bytecode.hex() == fresh.removeprefix("0x")
        assert len(list((tmp_path / "vyper").glob("*.json"))) == len(contracts.NAMES)
    finally:
        contracts.compiled.cache_clear()


def test_only_raters_write_credit_events(w3: Web3, admin) -> None:
    registry = deploy(w3, admin, "CreditRegistry", PERMISSIONS)
    rater = new_member(w3, admin, ROLE_SENDER | ROLE_RATER)
    outsider = new_member(w3, admin, ROLE_SENDER)
    assert call(w3, rater, registry.functions.rate(b"f" * 32, 1, -20, b"\0" * 32)).status == 1
    with pytest.raises(ContractLogicError, match="not a rater"):
        registry.functions.rate(b"f" * 32, 1, 5, b"\0" * 32).call({"from": outsider.address})
    with pytest.raises(ContractLogicError, match="subject kind mismatch"):
        registry.functions.rate(b"f" * 32, 2, 5, b"\0" * 32).call({"from": rater.address})
    assert registry.functions.scores(b"f" * 32).call() == -20


def _ballot(w3: Web3, ballots, officer, spend_limit: int, approved: bool, estate=ESTATE):
    receipt = call(w3, officer, ballots.functions.register(estate, b"s" * 32, spend_limit))
    ballot_id = (
        ballots.events.BallotRegistered().process_receipt(receipt, errors=DISCARD)[0].args.ballot_id
    )
    call(w3, officer, ballots.functions.add_units(ballot_id, UNITS, [8000, 9000, 10000, 11000]))
    call(w3, officer, ballots.functions.open(ballot_id))
    for unit in UNITS[:3]:
        call(w3, officer, ballots.functions.cast(ballot_id, unit, Web3.keccak(unit + b"yes")))
    call(w3, officer, ballots.functions.close(ballot_id))
    yes = (3, 27000) if approved else (0, 0)
    call(
        w3,
        officer,
        ballots.functions.record_result(
            ballot_id, approved, yes[0], yes[1], 3 - yes[0], 27000 - yes[1], b"t" * 32
        ),
    )
    return ballot_id


@pytest.fixture(scope="module")
def ballots(w3: Web3, admin):
    return deploy(w3, admin, "Ballots", PERMISSIONS)


def test_ballot_lifecycle_and_one_counted_vote_per_unit(w3: Web3, admin, ballots) -> None:
    officer = new_member(w3, admin, ROLE_SENDER | ROLE_BALLOT)
    ballot_id = _ballot(w3, ballots, officer, 0, approved=True)
    assert ballots.functions.is_approved(ballot_id).call()
    record = ballots.functions.ballots(ballot_id).call()
    assert tuple(record[4:7]) == (4, 38000, 3)  # eligible units, eligible area, cast
    second = call(w3, officer, ballots.functions.register(ESTATE, b"x" * 32, 0))
    other = ballots.events.BallotRegistered().process_receipt(second)[0].args.ballot_id
    call(w3, officer, ballots.functions.add_units(other, UNITS[:1], [100]))
    call(w3, officer, ballots.functions.open(other))
    call(w3, officer, ballots.functions.cast(other, UNITS[0], b"c" * 32))
    # a unit may vote again while the vote is open: its last commitment counts, once
    call(w3, officer, ballots.functions.cast(other, UNITS[0], b"d" * 32))
    assert ballots.functions.commitments(other, UNITS[0]).call() == b"d" * 32
    assert ballots.functions.ballots(other).call()[6] == 1
    with pytest.raises(ContractLogicError, match="unit not eligible"):
        ballots.functions.cast(other, UNITS[1], b"d" * 32).call({"from": officer.address})
    with pytest.raises(ContractLogicError, match="ballot not closed"):
        ballots.functions.record_result(other, True, 1, 100, 0, 0, b"t" * 32).call(
            {"from": officer.address}
        )


def _project(w3: Web3, fund, manager, budget: int, shares: list[int], estate=ESTATE) -> int:
    receipt = call(w3, manager, fund.functions.propose(estate, b"p" * 32, budget))
    project = fund.events.ProjectProposed().process_receipt(receipt, errors=DISCARD)[0]
    units = UNITS[: len(shares)]
    call(w3, manager, fund.functions.add_shares(project.args.project_id, units, shares))
    return project.args.project_id


def test_fund_pays_a_project_only_once_an_approved_vote_of_its_estate_authorises_it(
    w3: Web3, admin, ballots
) -> None:
    officer = new_member(w3, admin, ROLE_SENDER | ROLE_BALLOT)
    manager = new_member(w3, admin, ROLE_SENDER | ROLE_FUND)
    fund = deploy(w3, admin, "MaintenanceFund", PERMISSIONS, ballots.address)
    amounts = [50_000, 60_000, 70_000, 80_000]
    receipt = call(
        w3, manager, fund.functions.deposit_batch(ESTATE, UNITS, amounts, 1, 202501, b"r" * 32)
    )
    credited = fund.events.UnitCredited().process_receipt(receipt, errors=DISCARD)
    assert [e.args.unit_balance for e in credited] == amounts
    project = _project(w3, fund, manager, 30_000, [10_000, 20_000])
    pay = (project, 1, 202502, [UNITS[0], UNITS[1]], [5_000, 10_000], admin.address, b"i" * 32)
    with pytest.raises(ContractLogicError, match="project not authorised"):
        fund.functions.pay(*pay).call({"from": manager.address})
    rejected = _ballot(w3, ballots, officer, 0, approved=False)
    foreign = _ballot(w3, ballots, officer, 0, approved=True, estate=OTHER_ESTATE)
    too_small = _ballot(w3, ballots, officer, 29_999, approved=True)
    no_amount = _ballot(w3, ballots, officer, 0, approved=True)
    approved = _ballot(w3, ballots, officer, 30_000, approved=True)
    for ballot_id, reason in (
        (rejected, "ballot not approved"),
        (foreign, "ballot is for another estate"),
        (too_small, "budget exceeds the approved amount"),
        (no_amount, "the vote authorised no amount"),
    ):
        with pytest.raises(ContractLogicError, match=reason):
            fund.functions.approve(project, ballot_id).call({"from": manager.address})
    call(w3, manager, fund.functions.approve(project, approved))
    other = _project(w3, fund, manager, 1_000, [1_000])
    with pytest.raises(ContractLogicError, match="ballot already used"):
        fund.functions.approve(other, approved).call({"from": manager.address})
    receipt = call(w3, manager, fund.functions.pay(*pay))
    assert fund.events.PaymentMade().process_receipt(receipt, errors=DISCARD)[0].args.paid_fen == (
        15_000
    )
    with pytest.raises(ContractLogicError, match="exceeds the unit's share"):
        fund.functions.pay(project, 2, 202503, [UNITS[0]], [5_001], admin.address, b"i" * 32).call(
            {"from": manager.address}
        )
    units = [fund.functions.unit_balance(ESTATE, u).call() for u in UNITS]
    assert units == [45_000, 50_000, 70_000, 80_000]
    assert (
        sum(units) == fund.functions.estate_balance(ESTATE).call() == fund.functions.total().call()
    )
    outsider = new_member(w3, admin, ROLE_SENDER)
    with pytest.raises(ContractLogicError, match="not a fund manager"):
        fund.functions.deposit_batch(ESTATE, UNITS[:1], [1], 1, 202501, b"r" * 32).call(
            {"from": outsider.address}
        )


def test_fund_emergency_repair_needs_reason_and_evidence_and_common_income_its_net(
    w3: Web3, admin, ballots
) -> None:
    officer = new_member(w3, admin, ROLE_SENDER | ROLE_BALLOT)
    manager = new_member(w3, admin, ROLE_SENDER | ROLE_FUND)
    fund = deploy(w3, admin, "MaintenanceFund", PERMISSIONS, ballots.address)
    call(w3, manager, fund.functions.deposit_batch(ESTATE, UNITS[:2], [9, 9], 2, 202501, b"r" * 32))
    project = _project(w3, fund, manager, 10, [5, 5])
    with pytest.raises(ContractLogicError, match="evidence is required"):
        fund.functions.declare_emergency(project, b"w" * 32, []).call({"from": manager.address})
    call(w3, manager, fund.functions.declare_emergency(project, b"w" * 32, [b"e" * 32]))
    call(
        w3,
        manager,
        fund.functions.pay(project, 1, 202501, UNITS[:2], [5, 5], admin.address, b"i" * 32),
    )
    ratifying = _ballot(w3, ballots, officer, 10**9, True)
    call(w3, manager, fund.functions.ratify(project, ratifying))
    assert fund.functions.projects(project).call()[5] == 4  # ratified
    with pytest.raises(ContractLogicError, match="period must be yyyymm"):
        fund.functions.record_common(ESTATE, 202513, 1, True, 5, b"c" * 32).call(
            {"from": manager.address}
        )
    call(w3, manager, fund.functions.record_common(ESTATE, 202501, 1, True, 500, b"c" * 32))
    call(w3, manager, fund.functions.record_common(ESTATE, 202501, 9, False, 200, b"c" * 32))
    with pytest.raises(ContractLogicError, match="exceeds the common-part net income"):
        fund.functions.deposit_batch(ESTATE, UNITS[:1], [301], 4, 202501, b"r" * 32).call(
            {"from": manager.address}
        )
    call(w3, manager, fund.functions.deposit_batch(ESTATE, UNITS[:1], [300], 4, 202501, b"r" * 32))
    assert fund.functions.common_net_available(ESTATE).call() == 0


def test_validator_change_needs_more_than_two_thirds(w3: Web3, admin) -> None:
    members = [new_member(w3, admin, ROLE_SENDER) for _ in range(4)]
    initial = [(m.address, bytes([i + 1]) * 32, bytes([i + 9]) * 32) for i, m in enumerate(members)]
    validators = deploy(w3, admin, "Validators", initial)
    newcomer = Account.create().address
    vote = validators.functions.vote_add(newcomer, b"x" * 32, b"y" * 32)
    call(w3, members[0], vote)
    call(w3, members[1], vote)
    assert validators.functions.count().call() == 4  # 2 of 4 is not more than two thirds
    receipt = call(w3, members[2], vote)
    assert (
        validators.events.ValidatorAdded().process_receipt(receipt, errors=DISCARD)[0].args.account
        == newcomer
    )
    assert validators.functions.count().call() == 5
    with pytest.raises(ContractLogicError, match="not a validator"):
        validators.functions.vote_remove(members[0].address).call({"from": admin.address})
