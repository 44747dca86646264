"""Chain integrity at a click: the checks of `wuye ledger verify`, in the background, over HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from fastapi.testclient import TestClient
from web3 import HTTPProvider, Web3

from tests.ledger.conftest import free_port, send
from wuye.ledger.embedded import EmbeddedNode, start_embedded_node
from wuye.ledger.execution import META_SEALS
from wuye.platform.db import Database
from wuye.platform.settings import Settings


@pytest.fixture
def own_node(tmp_path: Path) -> Iterator[EmbeddedNode]:
    """A node of this test alone (the test tampers with its store), three blocks long."""
    handle = start_embedded_node(tmp_path / "ledger", port=free_port(), block_interval=0.05)
    w3 = Web3(HTTPProvider(handle.url))
    admin = Account.from_key(handle.accounts[0]["privateKey"])
    for _ in range(3):
        send(w3, admin, {"to": admin.address, "value": 1, "gas": 21000})
    yield handle
    handle.stop()


@pytest.fixture
def explorer(own_node: EmbeddedNode, tmp_path: Path, sqlite_database: Database) -> Iterator[Any]:
    from wuye.platform.app import create_app

    settings = Settings(var_dir=tmp_path / "var", secret_key="test-secret-key-0123456789")
    app = create_app(settings, sqlite_database)
    app.state.explorer_rpc_url = own_node.url
    app.state.explorer_genesis = own_node.genesis_path
    with TestClient(app) as client:
        yield client


def _check(client: Any, **form: str) -> dict[str, Any]:
    started = client.post("/explorer/integrity", data=form, follow_redirects=False)
    assert started.status_code == 303, started.text
    job_url = started.headers["location"]
    for _ in range(600):
        job = client.get(job_url + ".json").json()
        if job["state"] != "running":
            return job | {"page": client.get(job_url).text}
        time.sleep(0.05)
    raise AssertionError("the integrity check did not finish")


def _forge_seal(node: EmbeddedNode, number: int) -> None:
    key = META_SEALS + number.to_bytes(8, "big")
    store = node.node.ledger.store
    seals = json.loads(store.get_meta(key))
    seals[0]["signature"] = seals[0]["signature"][:-4] + "0000"
    store.put_meta({key: json.dumps(seals).encode()})


def test_integrity_check_passes_on_an_untouched_chain(explorer, own_node):
    job = _check(explorer)
    assert job["state"] == "passed", job
    head = Web3(HTTPProvider(own_node.url)).eth.block_number
    assert job["checked"] == head == job["report"]["blocks"]
    assert "✔ 校验通过" in job["page"]


def test_integrity_check_names_the_first_block_with_a_tampered_seal(explorer, own_node):
    _forge_seal(own_node, 2)
    _forge_seal(own_node, 3)
    job = _check(explorer, reexecute="true")
    assert job["state"] == "failed" and job["bad_block"] == 2, job
    assert "invalid SM2 seal" in job["reason"] and job["checked"] == 1
    assert "第一个有问题的区块 #" in job["page"] and '<span id="bad-block">2</span>' in job["page"]


def test_integrity_check_takes_a_pasted_genesis_and_refuses_a_foreign_one(explorer, own_node):
    genesis = json.loads(own_node.genesis_path.read_text())
    assert _check(explorer, genesis=json.dumps(genesis))["state"] == "passed"
    genesis["chainId"] += 1
    foreign = _check(explorer, genesis=json.dumps(genesis))
    assert foreign["state"] == "failed" and foreign["bad_block"] == 0
    refused = explorer.post("/explorer/integrity", data={"genesis": "not json"})
    assert refused.status_code == 400 and "not a genesis file" in refused.text
