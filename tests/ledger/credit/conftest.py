"""Credit fixtures: a fresh CreditRegistry per test on the module's embedded node, and a
firm with a technician and a month of recorded events."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from eth_account import Account
from web3 import Web3

from tests.factories import make_estate, make_tenant
from tests.serving import free_port
from wuye.ledger.credit import chain
from wuye.ledger.credit.models import Complaint, RegulatorAction, SatisfactionRating
from wuye.ledger.embedded import EmbeddedNode, start_embedded_node
from wuye.platform.db import Database, Scope
from wuye.platform.staff.models import Staff
from wuye.platform.workorders.models import WorkOrder

PERIOD = "2026-10"
#: Noon, 10 October 2026, China time.
MID_MONTH = datetime(2026, 10, 10, 4, 0, tzinfo=UTC)
AFTER = datetime(2026, 11, 5, tzinfo=UTC)


@pytest.fixture(scope="package")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedNode]:
    """One embedded node for every credit test module (each test deploys its own registry)."""
    handle = start_embedded_node(
        tmp_path_factory.mktemp("credit-ledger"), port=free_port(), block_interval=0.05
    )
    yield handle
    handle.stop()


@pytest.fixture
def credit_ledger(node: Any, w3: Web3) -> chain.CreditLedger:
    admin_key = node.accounts[0]["privateKey"]
    rater_key = Account.create().key.hex()
    registry = chain.deploy(w3, admin_key, Account.from_key(rater_key).address)
    return chain.CreditLedger(w3, registry, rater_key, admin_key)


@dataclass
class Firm:
    tenant_id: str
    estate_id: str
    staff_id: str


def make_firm(database: Database, *, late_orders: int = 0, stars: int = 5) -> Firm:
    """A firm with one technician and, in PERIOD, two on-time work orders (plus
    ``late_orders`` late ones), a resolved complaint, a rating and a commendation."""
    tenant_id = make_tenant(database)
    with database.transaction(Scope.tenant(tenant_id)) as session:
        estate = make_estate(session)
        tech = Staff(name="周师傅", skills=["general"], estate_id=estate.id)
        session.add(tech)
        session.flush()
        for i in range(2 + late_orders):
            late = i >= 2
            session.add(
                WorkOrder(
                    estate_id=estate.id,
                    title=f"维修{i}",
                    status="closed",
                    assignee_id=tech.id,
                    respond_due_at=MID_MONTH + timedelta(hours=1),
                    resolve_due_at=MID_MONTH + timedelta(hours=24),
                    assigned_at=MID_MONTH + timedelta(minutes=10),
                    resolved_at=MID_MONTH + timedelta(hours=48 if late else 5),
                )
            )
        session.add(
            Complaint(
                estate_id=estate.id,
                staff_id=tech.id,
                description="噪音",
                received_at=MID_MONTH,
                resolved_at=MID_MONTH + timedelta(days=2),
                resident_accepted=True,
                resolution="已处理",
            )
        )
        session.add(
            SatisfactionRating(
                estate_id=estate.id, staff_id=tech.id, stars=stars, rated_at=MID_MONTH
            )
        )
    with database.transaction(Scope.for_host()) as session:
        session.add(
            RegulatorAction(
                tenant_id=tenant_id,
                kind="commendation",
                severity=1,
                decided_at=MID_MONTH,
                description="年度优秀",
                regulator="test-regulator",
            )
        )
    return Firm(tenant_id, estate.id, tech.id)
