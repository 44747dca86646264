"""The demo credit history: a year of events, twelve published months, one adjustment;
run twice, the second run changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from tests.serving import free_port
from wuye.ledger.credit import service
from wuye.ledger.credit.chain import configured_ledger
from wuye.ledger.credit.demo import seed_credit
from wuye.ledger.credit.models import CreditAdjustment, CreditScore
from wuye.ledger.embedded import start_embedded_node
from wuye.platform import demo
from wuye.platform.db import Database, Scope
from wuye.platform.settings import Settings
from wuye.platform.workorders.models import WorkOrder

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def demo_settings(tmp_path):
    port = free_port()
    settings = Settings(
        var_dir=tmp_path / "var", secret_key="test-secret-key-0123456789", embedded_ledger_port=port
    )
    Database(settings.effective_database_url).create_all()
    node = start_embedded_node(settings.var_dir / "ledger", port=port, block_interval=0.05)
    demo.seed(settings)
    yield settings
    node.stop()


def test_demo_publishes_a_year_of_verified_scores_once(demo_settings) -> None:
    database = Database(demo_settings.effective_database_url)

    def work_orders() -> int:
        with database.transaction(Scope.for_host()) as session:
            return session.scalar(select(func.count()).select_from(WorkOrder))

    first = seed_credit(demo_settings, now=NOW)
    assert first["periods"][0] == "2025-11" and first["periods"][-1] == "2026-10"
    recorded = work_orders()
    again = seed_credit(demo_settings, now=NOW)
    assert again["adjustment_tx"] == first["adjustment_tx"]
    assert work_orders() == recorded > 100
    ledger = configured_ledger(demo_settings, deploy_if_missing=False)
    with database.transaction(Scope.for_host()) as session:
        firm_months = session.scalar(select(func.count()).where(CreditScore.subject_kind == "firm"))
        assert firm_months == 12 * len(first["firms"])
        assert session.scalar(select(func.count()).select_from(CreditAdjustment)) == 1
        for period in (first["periods"][0], first["periods"][-1]):
            assert service.verify_period(session=session, ledger=ledger, period=period) == []
        scores = [s.computed for s in service.published_scores(session=session, kind="firm")]
    assert len(set(scores)) > 3  # the firms' histories differ month to month
    assert ledger.registry.functions.batch_count().call() == 12
    database.dispose()
