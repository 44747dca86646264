"""Fund use cases against a real ledger node, on each database."""

from __future__ import annotations

import pytest

from tests.factories import make_tenant
from tests.ledger.fund.conftest import make_fund_estate
from wuye.crypto import sm3_hash
from wuye.ledger.fund import service
from wuye.ledger.fund.chain import estate_ref
from wuye.ledger.fund.flows import AGREE, run_project_vote
from wuye.ledger.fund.models import (
    CommonCategory,
    CommonPartIn,
    EmergencyIn,
    EvidenceIn,
    PaymentIn,
    ProjectIn,
    ProjectStatus,
)
from wuye.ledger.fund.reconcile import reconcile
from wuye.platform.db import Scope
from wuye.platform.problems import Conflict

PAYEE = "0x" + "ab" * 20


def _opened(database, fund_ledger, **kw):
    tenant = make_tenant(database)
    with database.transaction(Scope.tenant(tenant)) as session:
        estate, units = make_fund_estate(session, **kw)
        service.open_accounts(
            session=session, ledger=fund_ledger, estate_id=estate.id, period=202501
        )
    return tenant, estate.id, [u.id for u in units]


def test_first_deposits_are_area_times_city_rate_on_the_ledger(database, fund_ledger) -> None:
    tenant, estate_id, units = _opened(database, fund_ledger)
    with database.transaction(Scope.tenant(tenant)) as session:
        account = service.get_account(session=session, unit_id=units[0])
        assert account.first_deposit_fen == 89_36 * 80  # 89.36 m² × 80 元/m² (杭州)
        assert account.balance_fen == account.first_deposit_fen
        assert account.last_tx_hash.startswith("0x")
        total = sum(a.balance_fen for a in service.accounts_of(session, estate_id))
    assert fund_ledger.estate_balance(estate_ref(estate_id)) == total
    with database.transaction(Scope.tenant(tenant)) as session:
        assert reconcile(session=session, ledger=fund_ledger, estate_id=estate_id).ok


def test_interest_is_allocated_by_balance_and_sums_exactly(sqlite_database, fund_ledger) -> None:
    database = sqlite_database
    tenant, estate_id, _ = _opened(database, fund_ledger)
    with database.transaction(Scope.tenant(tenant)) as session:
        before = {a.unit_id: a.balance_fen for a in service.accounts_of(session, estate_id)}
        (entry,) = service.allocate_interest(
            session=session, ledger=fund_ledger, estate_id=estate_id, period=202503, amount_fen=1001
        )
        after = {a.unit_id: a.balance_fen for a in service.accounts_of(session, estate_id)}
    assert entry.amount_fen == 1001 and entry.units == 6
    assert sum(after.values()) - sum(before.values()) == 1001
    largest = max(before, key=before.get)
    assert after[largest] - before[largest] == max(after[u] - before[u] for u in before)


def _payment(stage: int, amount: int, period: int = 202505) -> PaymentIn:
    return PaymentIn(
        period=period,
        amount_fen=amount,
        invoice_no=f"F{stage}",
        invoice_sm3=sm3_hash(f"invoice {stage}".encode()).hex(),
        payee=PAYEE,
    )


def test_project_shares_add_up_to_its_budget_and_need_a_vote_before_payment(
    sqlite_database, fund_ledger
) -> None:
    database = sqlite_database
    tenant, estate_id, units = _opened(database, fund_ledger)
    with database.transaction(Scope.tenant(tenant)) as session:
        project = service.propose_project(
            session=session,
            ledger=fund_ledger,
            estate_id=estate_id,
            project_in=ProjectIn(
                title="1幢电梯大修",
                common_part="1幢电梯",
                contractor="杭州某电梯工程有限公司",
                budget_fen=100_001,
                unit_ids=units[:4],
            ),
        )
        shares = service.shares_of(session, project.id)
        assert sum(s.share_fen for s in shares) == 100_001
        on_chain = [
            fund_ledger.fund.functions.share_of(
                project.chain_project_id,
                bytes.fromhex(service.get_account(session=session, unit_id=s.unit_id).unit_ref),
            ).call()
            for s in shares
        ]
        assert on_chain == [s.share_fen for s in shares]
        with pytest.raises(Conflict, match="not authorised"):
            service.pay_stage(
                session=session,
                ledger=fund_ledger,
                project_id=project.id,
                payment_in=_payment(1, 1),
            )


def test_staged_payments_never_pass_a_units_share_or_the_budget(database, fund_ledger) -> None:
    tenant, estate_id, units = _opened(database, fund_ledger)
    with database.transaction(Scope.tenant(tenant)) as session:
        project = service.propose_project(
            session=session,
            ledger=fund_ledger,
            estate_id=estate_id,
            project_in=ProjectIn(
                title="消防泵更换",
                common_part="消防水泵房",
                contractor="某消防工程公司",
                budget_fen=99_999,
                unit_ids=units,
            ),
        )
        service.declare_emergency(
            session=session,
            ledger=fund_ledger,
            project_id=project.id,
            emergency_in=EmergencyIn(
                reason="消防泵故障", evidence=[EvidenceIn(name="检测报告.pdf", sm3="5" * 64)]
            ),
        )
        for stage, amount in enumerate((33_333, 33_333, 33_333), start=1):
            (entry,) = service.pay_stage(
                session=session,
                ledger=fund_ledger,
                project_id=project.id,
                payment_in=_payment(stage, amount),
            )
            assert entry.stage == stage and entry.amount_fen == amount
        shares = service.shares_of(session, project.id)
        assert all(s.paid_fen == s.share_fen for s in shares)
        with pytest.raises(Conflict, match="exceeds the approved amount"):
            service.pay_stage(
                session=session,
                ledger=fund_ledger,
                project_id=project.id,
                payment_in=_payment(4, 1),
            )
    with database.transaction(Scope.tenant(tenant)) as session:
        assert reconcile(session=session, ledger=fund_ledger, estate_id=estate_id).ok


def test_emergency_repair_is_paid_before_its_ratifying_vote(
    sqlite_database, fund_ledger, votes_ledger
) -> None:
    database = sqlite_database
    tenant, estate_id, units = _opened(database, fund_ledger, areas=("88.00", "99.00"))
    with database.transaction(Scope.tenant(tenant)) as session:
        project = service.propose_project(
            session=session,
            ledger=fund_ledger,
            estate_id=estate_id,
            project_in=ProjectIn(
                title="地下室爆管抢修",
                common_part="地下室给水主管",
                contractor="某水电安装公司",
                budget_fen=12_345,
                unit_ids=units,
            ),
        )
        project = service.declare_emergency(
            session=session,
            ledger=fund_ledger,
            project_id=project.id,
            emergency_in=EmergencyIn(
                reason="地下室给水主管爆裂，威胁配电房安全",
                evidence=[EvidenceIn(name="现场照片.jpg", sm3=sm3_hash(b"photo").hex())],
            ),
        )
        service.pay_stage(
            session=session,
            ledger=fund_ledger,
            project_id=project.id,
            payment_in=PaymentIn(
                period=202506, amount_fen=12_345, invoice_no="E1", invoice_sm3="2" * 64, payee=PAYEE
            ),
        )
        project = run_project_vote(
            session=session,
            votes_ledger=votes_ledger,
            fund_ledger=fund_ledger,
            project_id=project.id,
            choices=dict.fromkeys(units, AGREE),
            tenant_id=tenant,
        )
        assert project.status is ProjectStatus.COMPLETED and project.ratified_tx_hash
        chain = fund_ledger.fund.functions.projects(project.chain_project_id).call()
        assert chain[5] == 4 and chain[4] == 12_345  # ratified, paid in full


def test_common_part_income_is_recorded_and_only_its_net_can_enter_the_fund(
    sqlite_database, fund_ledger
) -> None:
    database = sqlite_database
    tenant, estate_id, _ = _opened(database, fund_ledger)
    with database.transaction(Scope.tenant(tenant)) as session:
        for category, income, amount in (
            (CommonCategory.PARKING, True, 50_000),
            (CommonCategory.ADVERTISING, True, 20_000),
            (CommonCategory.OTHER, False, 10_000),
        ):
            service.record_common_part(
                session=session,
                ledger=fund_ledger,
                estate_id=estate_id,
                common_in=CommonPartIn(
                    period=202507, category=category, income=income, amount_fen=amount
                ),
            )
        with pytest.raises(Conflict, match="60000 fen"):
            service.transfer_common_income(
                session=session,
                ledger=fund_ledger,
                estate_id=estate_id,
                period=202507,
                amount_fen=60_001,
            )
        (entry,) = service.transfer_common_income(
            session=session,
            ledger=fund_ledger,
            estate_id=estate_id,
            period=202507,
            amount_fen=60_000,
        )
    assert entry.amount_fen == 60_000
    assert fund_ledger.common_net_available(estate_ref(estate_id)) == 0


def test_top_up_restores_units_below_the_city_threshold(
    sqlite_database, fund_ledger, votes_ledger
) -> None:
    database = sqlite_database
    tenant, estate_id, units = _opened(database, fund_ledger, areas=("100.00", "100.00"))
    with database.transaction(Scope.tenant(tenant)) as session:
        project = service.propose_project(
            session=session,
            ledger=fund_ledger,
            estate_id=estate_id,
            project_in=ProjectIn(
                title="屋面防水",
                common_part="屋面",
                contractor="某防水公司",
                budget_fen=1_500_000,
                unit_ids=units,
            ),
        )
        service.declare_emergency(
            session=session,
            ledger=fund_ledger,
            project_id=project.id,
            emergency_in=EmergencyIn(
                reason="屋面渗漏", evidence=[EvidenceIn(name="a", sm3="3" * 64)]
            ),
        )
        service.pay_stage(
            session=session,
            ledger=fund_ledger,
            project_id=project.id,
            payment_in=PaymentIn(
                period=202508,
                amount_fen=1_500_000,
                invoice_no="W1",
                invoice_sm3="4" * 64,
                payee=PAYEE,
            ),
        )
        # 800,000 first deposit each, 50,000 left: below 30 %, topped up back to 800,000.
        (entry,) = service.top_up(
            session=session, ledger=fund_ledger, estate_id=estate_id, period=202509
        )
        assert entry.amount_fen == 2 * 750_000
        assert {a.balance_fen for a in service.accounts_of(session, estate_id)} == {800_000}
        assert (
            service.top_up(session=session, ledger=fund_ledger, estate_id=estate_id, period=202510)
            == []
        )


def test_the_ledger_refuses_an_unapproved_ballot_naming_the_rule(
    sqlite_database, fund_ledger
) -> None:
    tenant, estate_id, units = _opened(sqlite_database, fund_ledger, areas=("90.00",))
    with sqlite_database.transaction(Scope.tenant(tenant)) as session:
        project = service.propose_project(
            session=session,
            ledger=fund_ledger,
            estate_id=estate_id,
            project_in=ProjectIn(
                title="门禁更换",
                common_part="大门",
                contractor="某公司",
                budget_fen=500,
                unit_ids=units,
            ),
        )
        with pytest.raises(Conflict, match="ballot not approved"):
            fund_ledger.approve(project.chain_project_id, 10**6)
