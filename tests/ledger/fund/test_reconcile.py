"""Reconciliation: the ledger's unit balances add up, the mirror equals the ledger, and a
tampered mirror is caught naming the unit, by the service and by ``wuye fund reconcile``."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import update

from tests.factories import make_tenant
from tests.ledger.fund.conftest import make_fund_estate
from wuye.ledger.fund import service
from wuye.ledger.fund.models import FundAccount
from wuye.ledger.fund.reconcile import reconcile
from wuye.platform.cli import cli
from wuye.platform.db import Scope
from wuye.platform.settings import get_settings


def _funded(database, fund_ledger):
    tenant = make_tenant(database)
    with database.transaction(Scope.tenant(tenant)) as session:
        estate, units = make_fund_estate(session)
        service.open_accounts(
            session=session, ledger=fund_ledger, estate_id=estate.id, period=202501
        )
        service.allocate_interest(
            session=session, ledger=fund_ledger, estate_id=estate.id, period=202502, amount_fen=777
        )
    return tenant, estate.id, units


def test_a_tampered_mirror_balance_fails_reconciliation_naming_the_unit(
    database, fund_ledger
) -> None:
    tenant, estate_id, units = _funded(database, fund_ledger)
    with database.transaction(Scope.tenant(tenant)) as session:
        report = reconcile(session=session, ledger=fund_ledger, estate_id=estate_id)
        assert report.ok, report.differences
        assert report.chain_unit_sum_fen == report.chain_estate_balance_fen == report.mirror_sum_fen
        assert report.logs_read == 12 and report.units_checked == 6
        session.execute(
            update(FundAccount)
            .where(FundAccount.unit_id == units[2].id)
            .values(balance_fen=FundAccount.balance_fen + 100)
        )
    with database.transaction(Scope.tenant(tenant)) as session:
        report = reconcile(session=session, ledger=fund_ledger, estate_id=estate_id)
    assert not report.ok
    checks = {d.check: d for d in report.differences}
    assert set(checks) == {"mirror-balance", "mirror-sum"}
    tampered = checks["mirror-balance"]
    assert tampered.unit_id == units[2].id and units[2].id in tampered.text
    assert tampered.actual_fen - tampered.expected_fen == 100
    assert estate_id in checks["mirror-sum"].text


def test_cli_reconcile_exits_non_zero_with_a_one_line_summary(
    sqlite_database, fund_ledger, tmp_path, monkeypatch
) -> None:
    tenant, estate_id, units = _funded(sqlite_database, fund_ledger)
    monkeypatch.setenv("WUYE_DATABASE_URL", sqlite_database.url)
    monkeypatch.setenv("WUYE_VAR_DIR", str(tmp_path / "var"))
    get_settings.cache_clear()
    rpc = fund_ledger.w3.provider.endpoint_uri
    args = ["fund", "reconcile", "--estate", estate_id, "--rpc", rpc, "--fund", fund_ledger.address]
    try:
        ok = CliRunner().invoke(cli, args)
        assert ok.exit_code == 0, ok.output
        assert "reconciled" in ok.output
        with sqlite_database.transaction(Scope.tenant(tenant)) as session:
            session.execute(
                update(FundAccount).where(FundAccount.unit_id == units[0].id).values(balance_fen=1)
            )
        bad = CliRunner().invoke(cli, args)
    finally:
        get_settings.cache_clear()
    assert bad.exit_code == 1
    summary = [line for line in bad.output.splitlines() if "difference" in line]
    assert len(summary) == 1 and units[0].id in summary[0]


def test_a_mirrored_entry_that_differs_from_the_ledgers_batch_is_flagged(
    sqlite_database, fund_ledger
) -> None:
    from wuye.ledger.fund.models import FundEntry

    tenant, estate_id, _ = _funded(sqlite_database, fund_ledger)
    with sqlite_database.transaction(Scope.tenant(tenant)) as session:
        entry = session.query(FundEntry).filter(FundEntry.kind == "interest").one()
        entry.amount_fen = 778
        tx = entry.tx_hash
    with sqlite_database.transaction(Scope.tenant(tenant)) as session:
        report = reconcile(session=session, ledger=fund_ledger, estate_id=estate_id)
    (difference,) = report.differences
    assert difference.check == "entry" and tx in difference.text
    assert (difference.expected_fen, difference.actual_fen) == (777, 778)
