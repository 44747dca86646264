"""The embedded default ledger: one validator, in-process, serving JSON-RPC on loopback.

`wuye run` calls `start_embedded_node(var_dir / "ledger", port=...)`. The
first start creates genesis, the validator key and dev accounts under the
directory; later starts reuse them and continue the chain where it stopped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wuye.ledger.network import DEFAULT_CHAIN_ID, SANDBOX_CHAIN_ID, create_network
from wuye.ledger.node import Node, NodeConfig
from wuye.ledger.rpc.server import HTTPServer

if TYPE_CHECKING:
    from wuye.ledger.sites import LedgerSite


@dataclass
class EmbeddedNode:
    """A running in-process node: its JSON-RPC URL, dev accounts, and a way to stop it."""

    url: str
    node: Node
    server: HTTPServer
    data_dir: Path

    @property
    def accounts(self) -> list[dict[str, Any]]:
        return json.loads((self.data_dir / "accounts.json").read_text())

    @property
    def genesis_path(self) -> Path:
        return self.data_dir / "genesis.json"

    def stop(self) -> None:
        self.server.stop()
        self.node.stop()


def start_embedded_node(
    data_dir: Path,
    host: str = "127.0.0.1",
    port: int = 18545,
    block_interval: float = 0.2,
    chain_id: int = DEFAULT_CHAIN_ID,
) -> EmbeddedNode:
    """Start (creating on first use) a one-validator node under `data_dir`; `block_interval`
    and `chain_id` apply when the chain is created."""
    data_dir = Path(data_dir)
    config_path = data_dir / "node-0" / "config.json"
    if not config_path.exists():
        create_network(
            data_dir,
            validators=1,
            base_port=port,
            host=host,
            block_interval=block_interval,
            chain_id=chain_id,
        )
    config = NodeConfig.load(config_path)
    config.host, config.port, config.peers = host, port, []
    node = Node(config)
    server = HTTPServer(node, host, port)
    node.start()
    try:
        server.start()
    except Exception:
        node.stop()
        raise
    return EmbeddedNode(server.url, node, server, data_dir)


def start_sandbox_node(site: LedgerSite) -> EmbeddedNode:
    """The developer sandboxes' embedded node, under ``var/sandbox/ledger``: a chain of its
    own (:data:`SANDBOX_CHAIN_ID`), with short blocks so that a sandbox is seeded in seconds."""
    return start_embedded_node(
        site.node_dir, port=site.embedded_port, block_interval=0.05, chain_id=SANDBOX_CHAIN_ID
    )
