"""Sandbox fixtures: the whole platform under uvicorn, a developer with an app, and
tokens obtained the way a developer obtains them (client credentials at /oauth/token)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from tests.serving import free_port, serving
from wuye.adapters.devices.keys import keyring_for_secret
from wuye.platform.app import create_app
from wuye.platform.db import Database, Scope
from wuye.platform.settings import Settings
from wuye.sandbox import service


@dataclass
class SandboxApp:
    app_id: str
    tenant_id: str
    client_id: str
    client_secret: str
    developer_id: str


@dataclass
class Live:
    url: str
    settings: Settings
    database: Database
    app: object

    def http(self, **kwargs) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=20, **kwargs)

    def token(self, sandbox: SandboxApp, scope: str = "estates:read estates:write") -> str:
        r = httpx.post(
            f"{self.url}/oauth/token",
            auth=(sandbox.client_id, sandbox.client_secret),
            data={"grant_type": "client_credentials", "scope": scope},
            timeout=20,
        )
        assert r.status_code == 200, r.text
        return r.json()["access_token"]


def make_settings(tmp_path: Path, port: int, **fields) -> Settings:
    """The sandbox ledger is off unless a test brings a node (tests/sandbox/test_ledger.py)."""
    return Settings(
        **{
            "var_dir": tmp_path / "var",
            "secret_key": "sandbox-test-secret-0123456789",
            "public_url": f"http://127.0.0.1:{port}",
            "registration_token": "initial-access-token-for-tests",
            "sandbox_ledger_url": "off",
        }
        | fields
    )


def new_app(live: Live, username: str = "dev") -> SandboxApp:
    """A developer and an app, made as the portal makes them (keys by RFC 7591)."""
    from wuye.sandbox.chain import ledgers
    from wuye.sandbox.rfc7591 import registrar

    database, settings = live.database, live.settings
    from wuye.platform.pii import PersonalDataCipher

    with database.transaction(Scope.for_host()) as session:
        developer = service.sign_up(session=session, username=username, password="correct horse 1")
        developer_id = developer.id
    app, secret = service.create_app(
        database=database,
        settings=settings,
        cipher=PersonalDataCipher(settings.secret_bytes()),
        keyring=keyring_for_secret(settings.secret_bytes()),
        register=registrar(live.app.state.oauth2_server),
        developer_id=developer_id,
        name="智慧停车",
        category="parking",
        chain=ledgers(settings, live.app.state),
    )
    return SandboxApp(app.id, app.tenant_id, app.client_id, secret, developer_id)


@contextmanager
def live_platform(database: Database, tmp_path: Path, **settings_fields) -> Iterator[Live]:
    """The whole platform app under uvicorn on a free loopback port."""
    port = free_port()
    settings = make_settings(tmp_path, port, **settings_fields)
    app = create_app(settings, database)
    with serving(app, port) as url:
        yield Live(url, settings, database, app)


@pytest.fixture
def live(sqlite_database: Database, tmp_path: Path) -> Iterator[Live]:
    with live_platform(sqlite_database, tmp_path) as platform:
        yield platform


@pytest.fixture
def live_on_each_backend(database: Database, tmp_path: Path) -> Iterator[Live]:
    """The platform under uvicorn over SQLite, then over PostgreSQL."""
    with live_platform(database, tmp_path) as platform:
        yield platform


@contextmanager
def ledger_node(root: Path) -> Iterator[SimpleNamespace]:
    """A ledger node with the votes and fund contracts deployed, and the environment that
    gives them to the platform as an operator would for a ledger reached by URL:
    ``WUYE_...`` for the platform's ledger when ``root`` is named "platform", else the
    sandbox ledger's ``WUYE_SANDBOX_...`` (on the sandbox chain id)."""
    from eth_account import Account

    from wuye.ledger.embedded import start_embedded_node, start_sandbox_node
    from wuye.ledger.fund.chain import deploy as deploy_fund
    from wuye.ledger.sites import LedgerSite
    from wuye.ledger.votes.chain import connect
    from wuye.ledger.votes.chain import deploy as deploy_votes
    from wuye.platform.settings import EMBEDDED

    if root.name == "platform":
        node, prefix = start_embedded_node(root, port=free_port(), block_interval=0.05), "WUYE_"
    else:
        site = LedgerSite("sandbox", EMBEDDED, free_port(), root, "WUYE_SANDBOX_")
        node, prefix = start_sandbox_node(site), "WUYE_SANDBOX_"
    try:
        w3 = connect(node.url)
        admin = node.accounts[0]["privateKey"]
        officer, manager = Account.create(), Account.create()
        ballots, record = deploy_votes(w3, admin, officer.address)
        fund = deploy_fund(w3, admin, manager.address, ballots)
        env = {
            "VOTES_OFFICER_KEY": officer.key.hex(),
            "VOTES_RECORD": record,
            "FUND_MANAGER_KEY": manager.key.hex(),
            "FUND_CONTRACT": fund,
        }
        yield SimpleNamespace(node=node, env={prefix + k: v for k, v in env.items()})
    finally:
        node.stop()


@pytest.fixture(scope="module")
def sandbox_chain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimpleNamespace]:
    """A sandbox ledger node with its contracts, for the module."""
    with ledger_node(tmp_path_factory.mktemp("chain") / "sandbox") as chain:
        yield chain


@pytest.fixture
def live_with_chain(
    sqlite_database: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    sandbox_chain: SimpleNamespace,
) -> Iterator[Live]:
    """The platform under uvicorn with a sandbox ledger: new sandboxes get their fund
    history and a vote in progress."""
    for name, value in sandbox_chain.env.items():
        monkeypatch.setenv(name, value)
    url = sandbox_chain.node.url
    with live_platform(sqlite_database, tmp_path, sandbox_ledger_url=url) as platform:
        yield platform


def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id with its smallest cost: the tests exercise the flow, not the hardness."""
    from argon2 import PasswordHasher

    from wuye.federation import passwords

    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_password_hashing(monkeypatch)
