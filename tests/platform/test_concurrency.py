"""Many more concurrent requests than connections or threads: all answered, none lost."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import httpx
import uvicorn

from tests.factories import make_tenant
from wuye.federation.tokens import issue_access_token
from wuye.platform.app import create_app
from wuye.platform.db import Database


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, database), port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)

    async def load() -> list[int]:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as c:

            async def one(i: int) -> int:
                if i % 2:
                    body = {"code": f"C{i}", "name": f"小区{i}"}
                    return (await c.post("/api/v1/estates", json=body, headers=headers)).status_code
                return (await c.get("/api/v1/estates", headers=headers)).status_code

            return await asyncio.gather(*(one(i) for i in range(64)))

    try:
        statuses = asyncio.run(asyncio.wait_for(load(), 90))
    finally:
        server.should_exit = True
        thread.join(10)
        database.dispose()
    assert sorted(set(statuses)) == [200, 201]
    assert statuses.count(201) == 32
