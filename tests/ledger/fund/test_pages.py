"""The fund page in headless Chromium: an owner opens it and sees the estate's balance and
flows, their own unit's statement, and a reconciliation against the ledger."""

from __future__ import annotations

import pytest

from tests.browser import launch, needs_chromium
from tests.factories import make_tenant
from tests.ledger.fund.conftest import make_fund_estate
from tests.serving import serving
from wuye.federation.models import Role
from wuye.federation.scopes import ROLE_SCOPES
from wuye.federation.tokens import issue_access_token
from wuye.ledger.fund import service
from wuye.platform.db import Scope
from wuye.platform.owners.models import Ownership

pytestmark = needs_chromium


@pytest.fixture
def database(sqlite_database):
    """The browser test runs on SQLite only; the API tests cover PostgreSQL."""
    return sqlite_database


def test_owner_sees_balance_flows_own_statement_and_a_reconciled_ledger(
    app, database, settings, votes_ledger, fund_ledger
) -> None:
    from playwright.sync_api import sync_playwright

    tenant = make_tenant(database)
    with database.transaction(Scope.tenant(tenant)) as session:
        estate, units = make_fund_estate(session)
        service.open_accounts(
            session=session, ledger=fund_ledger, estate_id=estate.id, period=202601
        )
        service.allocate_interest(
            session=session, ledger=fund_ledger, estate_id=estate.id, period=202602, amount_fen=999
        )
        owner_id = (
            session.query(Ownership.owner_id).filter(Ownership.unit_id == units[0].id).scalar()
        )
    token = issue_access_token(
        settings=settings,
        database=database,
        tenant_id=tenant,
        subject=f"owner:{owner_id}",
        client_id="test-client",
        scopes=sorted(ROLE_SCOPES[Role.OWNER]),
        role=Role.OWNER,
    )
    app.state.votes_ledger, app.state.fund_ledger = votes_ledger, fund_ledger
    with serving(app) as base, sync_playwright() as p:
        browser = launch(p)
        try:
            page = browser.new_page()
            page.goto(f"{base}/fund#token={token}")
            page.wait_for_selector("#monthly tr")
            assert page.locator("#monthly tr").count() == 2  # 202601, 202602
            page.wait_for_selector("#accounts h4")
            statements = page.locator("#accounts h4")
            assert statements.count() == 1  # only the owner's own unit
            assert units[0].id[:8] in statements.inner_text()
            assert page.locator("#accounts tbody tr").count() == 2
            page.click("#reconcile")
            page.wait_for_function("document.getElementById('recon').textContent.includes('✓')")
        finally:
            browser.close()
