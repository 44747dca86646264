"""One embedded node per module with a small history emitted by calling the contracts
directly: an owners' vote, a year's fund movements with an approved and an emergency
repair, common-part income, monthly credit scores and a regulator's adjustment; and a
platform database that names the estate, its units and the firm."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from web3 import HTTPProvider, Web3

from tests.factories import make_estate, make_tenant, make_unit
from tests.ledger.conftest import PERMISSIONS, call, deploy, new_member
from tests.serving import free_port
from wuye.crypto import sm3_hash
from wuye.ledger.embedded import EmbeddedNode, start_embedded_node
from wuye.ledger.explorer.names import credit_subject_ref, estate_ref, project_ref, unit_ref
from wuye.ledger.fund.models import FundProject, ProjectStatus
from wuye.platform.db import Database, Scope
from wuye.platform.settings import Settings

ROLE_SENDER, ROLE_RATER, ROLE_FUND, ROLE_OFFICER, ROLE_REGULATOR = 1, 4, 8, 16, 32


@dataclass
class Platform:
    """The database rows the chain's references name."""

    database: Database
    firm_id: str
    estate_id: str
    unit_ids: list[str]
    project_id: str

    @property
    def estate(self) -> str:
        return estate_ref(self.estate_id)

    @property
    def units(self) -> list[str]:
        return [unit_ref(u) for u in self.unit_ids]

    @property
    def firm(self) -> str:
        return credit_subject_ref("firm", self.firm_id)


@dataclass
class History:
    """What the module's chain holds, and the transactions that wrote it."""

    platform: Platform
    other_estate: str
    contracts: dict[str, Any]
    tx: dict[str, str] = field(default_factory=dict)


def _b32(hex_ref: str) -> bytes:
    return bytes.fromhex(hex_ref.removeprefix("0x"))


@pytest.fixture(scope="package")
def chain_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedNode]:
    """One node for the whole package: the history below is written once."""
    handle = start_embedded_node(
        tmp_path_factory.mktemp("ledger"), port=free_port(), block_interval=0.05
    )
    yield handle
    handle.stop()


@pytest.fixture(scope="package")
def chain_w3(chain_node: EmbeddedNode) -> Web3:
    return Web3(HTTPProvider(chain_node.url))


@pytest.fixture(scope="package")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    database = Database(f"sqlite:///{tmp_path_factory.mktemp('db') / 'wuye.db'}")
    database.create_all()
    firm = make_tenant(database, "绿城物业服务")
    with database.transaction(Scope.tenant(firm)) as session:
        estate = make_estate(session, name="桂花苑")
        units = [make_unit(session, estate=estate, number=n) for n in ("101", "102")]
        project = FundProject(
            estate_id=estate.id,
            title="电梯更换",
            common_part="3号楼电梯",
            contractor="安达电梯工程",
            budget_fen=30_000,
            status=ProjectStatus.APPROVED,
            chain_project_id=1,
            tx_hash="0x",
            block_number=0,
        )
        session.add(project)
        session.flush()
        ids = estate.id, [u.id for u in units], project.id
    yield Platform(database, firm, ids[0], ids[1], ids[2])
    database.dispose()


def _tx(receipt: Any) -> str:
    assert receipt.status == 1
    return "0x" + bytes(receipt.transactionHash).hex()


@pytest.fixture(scope="package")
def history(chain_node: EmbeddedNode, chain_w3: Web3, platform: Platform) -> History:
    w3 = chain_w3
    admin = Account.from_key(chain_node.accounts[0]["privateKey"])
    officer = new_member(w3, admin, ROLE_SENDER | ROLE_OFFICER)
    manager = new_member(w3, admin, ROLE_SENDER | ROLE_FUND)
    rater = new_member(w3, admin, ROLE_SENDER | ROLE_RATER)
    regulator = new_member(w3, admin, ROLE_SENDER | ROLE_REGULATOR)
    ballots = deploy(w3, admin, "Ballots", PERMISSIONS)
    fund = deploy(w3, admin, "MaintenanceFund", PERMISSIONS, ballots.address)
    credit = deploy(w3, admin, "CreditRegistry", PERMISSIONS)
    h = History(
        platform,
        "0x" + sm3_hash(b"wuye-estate:elsewhere").hex(),
        {"Ballots": ballots, "MaintenanceFund": fund, "CreditRegistry": credit},
    )
    estate, (u1, u2) = _b32(platform.estate), [_b32(u) for u in platform.units]
    other = _b32(h.other_estate)
    ref = sm3_hash(b"wuye-fund-ref:test")
    b, f, c = ballots.functions, fund.functions, credit.functions

    # An owners' vote authorising a repair of up to 300 yuan.
    h.tx["register"] = _tx(call(w3, officer, b.register(estate, b"\x01" * 32, 30_000)))
    call(w3, officer, b.add_units(1, [u1, u2], [10_000, 8_000]))
    call(w3, officer, b.open(1))
    h.tx["cast"] = _tx(call(w3, officer, b.cast(1, u1, b"\x07" * 32)))
    call(w3, officer, b.cast(1, u2, b"\x08" * 32))
    call(w3, officer, b.close(1))
    h.tx["result"] = _tx(call(w3, officer, b.record_result(1, True, 2, 18_000, 0, 0, b"\x09" * 32)))
    # Fund: first deposits in January, a top-up in March, in another estate too.
    h.tx["deposit"] = _tx(
        call(w3, manager, f.deposit_batch(estate, [u1, u2], [50_000, 40_000], 1, 202501, ref))
    )
    call(w3, manager, f.deposit_batch(estate, [u1], [10_000], 2, 202503, ref))
    h.tx["other_deposit"] = _tx(
        call(w3, manager, f.deposit_batch(other, [b"\x05" * 32], [77_700], 1, 202502, ref))
    )
    # Common-part parking income in February (transferred into the fund in May, below).
    h.tx["common"] = _tx(call(w3, manager, f.record_common(estate, 202502, 1, True, 12_000, ref)))
    # A repair approved by the vote, paid in April.
    call(w3, manager, f.propose(estate, _b32(project_ref(platform.project_id)), 30_000))
    call(w3, manager, f.add_shares(1, [u1, u2], [15_000, 15_000]))
    call(w3, manager, f.approve(1, 1))
    h.tx["payment"] = _tx(
        call(
            w3,
            manager,
            f.pay(1, 1, 202504, [u1, u2], [15_000, 15_000], admin.address, b"\x0b" * 32),
        )
    )
    call(w3, manager, f.deposit_batch(estate, [u2], [5_000], 4, 202505, ref))
    # An emergency repair without a prior vote, paid in June.
    call(w3, manager, f.propose(estate, b"\x0c" * 32, 4_000))
    call(w3, manager, f.add_shares(2, [u1], [4_000]))
    h.tx["emergency"] = _tx(call(w3, manager, f.declare_emergency(2, b"\x0d" * 32, [b"\x0e" * 32])))
    call(w3, manager, f.pay(2, 1, 202506, [u1], [4_000], admin.address, b"\x0f" * 32))
    # Monthly credit scores of the firm, and a regulator's adjustment.
    firm = _b32(platform.firm)
    h.tx["score"] = _tx(
        call(w3, rater, c.publish_scores(202501, 1, [firm], [1], [800], [b"\x11" * 32]))
    )
    call(w3, rater, c.publish_scores(202502, 1, [firm], [1], [840], [b"\x12" * 32]))
    h.tx["adjust"] = _tx(call(w3, regulator, c.adjust(202502, firm, -20, b"\x13" * 32)))
    return h


@pytest.fixture(scope="package")
def explorer_app(
    chain_node: EmbeddedNode, platform: Platform, tmp_path_factory: pytest.TempPathFactory
) -> Any:
    from wuye.platform.app import create_app

    settings = Settings(
        var_dir=Path(tmp_path_factory.mktemp("var")), secret_key="test-secret-key-0123456789"
    )
    app = create_app(settings, platform.database)
    app.state.explorer_rpc_url = chain_node.url
    app.state.explorer_genesis = chain_node.genesis_path
    return app


@pytest.fixture(scope="module")
def http(explorer_app: Any) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    with TestClient(explorer_app) as client:
        yield client
