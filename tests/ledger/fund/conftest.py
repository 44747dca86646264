"""A ledger node for the fund tests (one for the package), with Ballots, ElectionRecord and
MaintenanceFund deployed, and helpers to build an estate with units and owners."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from eth_account import Account

from tests.serving import free_port
from wuye.ledger.embedded import EmbeddedNode, start_embedded_node


@pytest.fixture(scope="package")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedNode]:
    handle = start_embedded_node(
        tmp_path_factory.mktemp("ledger"), port=free_port(), block_interval=0.05
    )
    yield handle
    handle.stop()


@pytest.fixture(scope="package")
def chain(node: EmbeddedNode):
    """(votes ledger, fund ledger) sharing one Ballots contract."""
    from wuye.ledger.fund.chain import FundLedger, deploy
    from wuye.ledger.votes.chain import Officer, connect
    from wuye.ledger.votes.chain import deploy as deploy_votes
    from wuye.ledger.votes.service import VotesLedger

    w3 = connect(node.url)
    admin_key = node.accounts[0]["privateKey"]
    officer = Officer(w3, Account.create().key.hex())
    ballots, record = deploy_votes(w3, admin_key, officer.address)
    manager = Officer(w3, Account.create().key.hex())
    fund = deploy(w3, admin_key, manager.address, ballots)
    return VotesLedger(officer, record), FundLedger(manager, fund)


@pytest.fixture(scope="package")
def votes_ledger(chain):
    return chain[0]


@pytest.fixture(scope="package")
def fund_ledger(chain):
    return chain[1]


AREAS = ("89.36", "96.12", "108.75", "126.40", "143.88", "60.25")


def make_fund_estate(session, *, city: str = "杭州", areas=AREAS, owners: bool = True):
    """An estate in ``city`` with one building of units of ``areas``, each with an owner."""
    from tests.factories import make_estate
    from wuye.platform.estates import service as estates
    from wuye.platform.estates.models import BuildingIn, UnitIn
    from wuye.platform.owners.models import Owner, Ownership

    estate = make_estate(session, city=city)
    building = estates.create_building(
        session=session, estate_id=estate.id, building_in=BuildingIn(name="1幢", floors=30)
    )
    units = []
    for i, area in enumerate(areas):
        unit = estates.create_unit(
            session=session,
            building_id=building.id,
            unit_in=UnitIn(number=f"{i + 1}01", floor=i + 1, floor_area_m2=Decimal(area)),
        )
        units.append(unit)
        if owners:
            owner = Owner(name=f"业主{i}", kind="person", synthetic=True)
            session.add(owner)
            session.flush()
            session.add(Ownership(unit_id=unit.id, owner_id=owner.id))
    session.flush()
    return estate, units
