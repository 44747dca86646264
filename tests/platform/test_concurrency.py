"""Many more concurrent requests than connections or threads: all answered, none lost."""

from __future__ import annotations

import asyncio

import httpx

from tests.factories import make_tenant
from tests.serving import serving
from wuye.federation.tokens import issue_access_token
from wuye.platform.app import create_app
from wuye.platform.db import Database


def test_a_small_pool_serves_many_concurrent_writers_and_readers(settings, tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'c.db'}", pool_size=2, max_overflow=0)
    database.create_all()
    tenant = make_tenant(database)

    token = issue_access_token(
        settings=settings,
        database=database,
        tenant_id=tenant,
        subject="load",
        client_id="load",
        scopes=["estates:read", "estates:write"],
        role="tenant_admin",
    )
    headers = {"Authorization": f"Bearer {token}"}

    async def load(base: str) -> list[int]:
        async with httpx.AsyncClient(base_url=base, timeout=60) as c:

            async def one(i: int) -> int:
                if i % 2:
                    body = {"code": f"C{i}", "name": f"小区{i}"}
                    return (await c.post("/api/v1/estates", json=body, headers=headers)).status_code
                return (await c.get("/api/v1/estates", headers=headers)).status_code

            return await asyncio.gather(*(one(i) for i in range(64)))

    try:
        with serving(create_app(settings, database)) as base:
            statuses = asyncio.run(asyncio.wait_for(load(base), 90))
    finally:
        database.dispose()
    assert sorted(set(statuses)) == [200, 201]
    assert statuses.count(201) == 32
