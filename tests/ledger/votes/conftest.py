"""A ledger node for the votes tests (one per module), as tests/ledger runs one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_account import Account

from tests.ledger.conftest import free_port
from wuye.ledger.embedded import EmbeddedNode, start_embedded_node


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedNode]:
    handle = start_embedded_node(
        tmp_path_factory.mktemp("ledger"), port=free_port(), block_interval=0.05
    )
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def ledger(node: EmbeddedNode):
    """(w3, officer, record address) with Ballots and ElectionRecord deployed."""
    from wuye.ledger.votes.chain import Officer, connect, deploy

    w3 = connect(node.url)
    officer_key = Account.create().key.hex()
    officer = Officer(w3, officer_key)
    _, record = deploy(w3, node.accounts[0]["privateKey"], officer.address)
    return w3, officer, record
