"""Federation fixtures: the platform app served by uvicorn on a free loopback port, and
explicit factories for the host firm, member firms, users and clients.

The ``database`` and ``settings`` fixtures come from ``tests/conftest.py``; the live
server gets settings of its own whose ``public_url`` is the server's address (the
tokens' issuer).
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.serving import free_port as _free_port
from tests.serving import serving
from wuye.federation import service
from wuye.federation.credit_code import complete
from wuye.federation.models import Role
from wuye.platform.app import create_app
from wuye.platform.db import Database, Scope
from wuye.platform.settings import Settings

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


def credit_code() -> str:
    """A fresh, valid unified social credit code (GB 32100-2015)."""
    return complete(f"913301{next(_seq):03d}{secrets.randbelow(10**8):08d}")


@dataclass
class Firm:
    tenant_id: str
    admin_username: str
    client_id: str
    client_secret: str


@dataclass
class Live:
    """The running platform: its URL, settings and database, and factories over them."""

    url: str
    settings: Settings
    database: Database

    def http(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10, **kwargs)  # type: ignore[arg-type]

    def host(self) -> Firm:
        """The host firm, with a host admin user and a client holding ``admin``."""
        with self.database.transaction(Scope.for_host()) as session:
            tenant = service.ensure_host(
                session,
                name="平台运营公司",
                credit_code=credit_code(),
                admin_username=f"host-admin-{next(_seq)}",
                admin_password=PASSWORD,
            )
            client, secret = service.create_client(
                session,
                tenant_id=tenant.id,
                name="host console",
                redirect_uris=[],
                grant_types=["client_credentials"],
                scopes=["admin", "estates:read"],
                role=Role.HOST_ADMIN,
            )
            assert secret is not None
            return Firm(tenant.id, "", client.client_id, secret)

    def member(self, **extra: object) -> Firm:
        """A member firm onboarded through the service (apply + approve)."""
        result = service.onboard_approved(
            self.database,
            name=f"物业公司{next(_seq)}",
            credit_code=credit_code(),
            admin_password=PASSWORD,
            settings=self.settings,
            **extra,  # type: ignore[arg-type]
        )
        return Firm(
            result["tenant_id"],
            result["admin_username"],
            result["client_id"],
            result["client_secret"],
        )

    def client(self, tenant_id: str, **kwargs: object) -> tuple[str, str | None]:
        with self.database.transaction(Scope.for_host()) as session:
            client, secret = service.create_client(session, tenant_id=tenant_id, **kwargs)  # type: ignore[arg-type]
            return client.client_id, secret

    def user(self, tenant_id: str, role: Role = Role.TENANT_STAFF) -> str:
        username = f"user{next(_seq)}"
        with self.database.transaction(Scope.for_host()) as session:
            service.create_user(
                session, tenant_id=tenant_id, username=username, password=PASSWORD, role=role
            )
        return username


@pytest.fixture
def live(database: Database, tmp_path: Path) -> Iterator[Live]:
    """The whole platform app under uvicorn in a background thread."""
    port = _free_port()
    settings = Settings(
        var_dir=tmp_path / "var",
        secret_key="federation-test-secret-0123456789",
        public_url=f"http://127.0.0.1:{port}",
        registration_token="initial-access-token-for-tests",
        login_max_failures=3,
        login_lockout_seconds=60,
    )
    with serving(create_app(settings, database), port):
        yield Live(settings.public_url, settings, database)


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id with its smallest cost: the tests exercise the flow, not the hardness."""
    from argon2 import PasswordHasher

    from wuye.federation import passwords

    monkeypatch.setattr(
        passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )
