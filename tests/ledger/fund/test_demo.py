"""The demo's year of fund movements: on the ledger, reconciled, and seeded only once."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from sqlalchemy import func, select

from tests.factories import make_tenant
from wuye.ledger.fund.demo import seed_fund_demo
from wuye.ledger.fund.models import FundEntry, FundProject, ProjectStatus
from wuye.ledger.fund.reconcile import reconcile
from wuye.platform.db import Scope
from wuye.platform.demo import HOST, populate_estate
from wuye.platform.pii import PersonalDataCipher


def test_demo_gives_the_estate_a_reconciled_year_once(
    sqlite_database, settings, votes_ledger, fund_ledger
) -> None:
    database = sqlite_database
    tenant = make_tenant(database)
    with database.transaction(Scope.tenant(tenant)) as session:
        populate_estate(
            session,
            cipher=PersonalDataCipher(settings.secret_bytes()),
            estate_in=HOST.estate,
            rng=random.Random(7),
            buildings=2,
            floors=3,
        )
    lines: list[str] = []
    result = seed_fund_demo(
        settings,
        database=database,
        votes_ledger=votes_ledger,
        fund_ledger=fund_ledger,
        now=datetime(2026, 1, 15, tzinfo=UTC),
        progress=lines.append,
    )
    assert result["periods"] == [202501, 202512], result
    with database.transaction(Scope.tenant(tenant)) as session:
        periods = session.scalars(select(func.distinct(FundEntry.period))).all()
        assert len(periods) == 12
        statuses = {p.title: p.status for p in session.scalars(select(FundProject))}
        assert ProjectStatus.COMPLETED in statuses.values()  # voted, paid in three stages
        assert ProjectStatus.EMERGENCY in statuses.values()
        assert reconcile(session=session, ledger=fund_ledger, estate_id=result["estate_id"]).ok
    again = seed_fund_demo(
        settings, database=database, votes_ledger=votes_ledger, fund_ledger=fund_ledger
    )
    assert again["skipped"] is True
