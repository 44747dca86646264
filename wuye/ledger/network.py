"""Creating a ledger network's files: genesis, validator keys, node configs, dev accounts.

Used by `wuye ledger devnet` and by the embedded one-validator node. Dev
accounts are fresh random keys (never a published mnemonic), funded and
allowed to transact; `accounts.json` lists them with their private keys the
way a development node does.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account

from wuye import crypto
from wuye.ledger.genesis import Genesis, ValidatorSpec
from wuye.ledger.node import NodeConfig

DEV_BALANCE_WEI = 10_000 * 10**18
DEFAULT_CHAIN_ID = 20_201_099  # 2020, 建房〔2020〕99号
#: The developer sandboxes' chain: never the platform's, so no transaction replays across.
SANDBOX_CHAIN_ID = 20_201_098


@dataclass(frozen=True)
class NetworkFiles:
    root: Path
    genesis: Path
    accounts: Path
    configs: list[Path]


def _write_private(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    os.chmod(path, 0o600)


def create_network(
    root: Path,
    validators: int,
    base_port: int,
    host: str = "127.0.0.1",
    dev_accounts: int = 10,
    chain_id: int = DEFAULT_CHAIN_ID,
    block_interval: float = 0.5,
    max_block_txs: int = 500,
    round_timeout: float = 4.0,
) -> NetworkFiles:
    """Write genesis.json, accounts.json and node-i/{config.json,validator.pem}."""
    if validators < 1:
        raise ValueError("a network needs at least one validator")
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    accounts = [Account.create() for _ in range(dev_accounts)]
    specs = []
    node_dirs = []
    for i in range(validators):
        node_dir = root / f"node-{i}"
        node_dir.mkdir(exist_ok=True)
        key = crypto.SM2PrivateKey.generate()
        _write_private(node_dir / "validator.pem", key.to_pem())
        governance = Account.create()
        _write_private(node_dir / "governance.key", governance.key.hex().encode())
        specs.append(ValidatorSpec(governance.address, key.public_key.to_hex().lower()))
        node_dirs.append(node_dir)
    funded = [a.address for a in accounts] + [s.account for s in specs]
    genesis = Genesis(
        chain_id=chain_id,
        timestamp=int(time.time()),
        validators=tuple(specs),
        alloc={address: DEV_BALANCE_WEI for address in funded},
        admins=(accounts[0].address,) if accounts else (specs[0].account,),
        senders=tuple(funded),
    )
    genesis_path = root / "genesis.json"
    genesis.save(genesis_path)
    accounts_path = root / "accounts.json"
    listing = [
        {
            "address": a.address,
            "privateKey": "0x" + a.key.hex().removeprefix("0x"),
            "balance": hex(DEV_BALANCE_WEI),
            "roles": "all" if n == 0 else "sender",
        }
        for n, a in enumerate(accounts)
    ]
    _write_private(accounts_path, (json.dumps(listing, indent=2) + "\n").encode())
    configs = []
    urls = [f"http://{host}:{base_port + i}" for i in range(validators)]
    for i, node_dir in enumerate(node_dirs):
        config = NodeConfig(
            data_dir=str(node_dir / "data"),
            genesis=str(genesis_path.resolve()),
            validator_key=str((node_dir / "validator.pem").resolve()),
            host=host,
            port=base_port + i,
            peers=[u for j, u in enumerate(urls) if j != i],
            block_interval=block_interval,
            max_block_txs=max_block_txs,
            round_timeout=round_timeout,
        )
        config.data_dir = str((node_dir / "data").resolve())
        path = node_dir / "config.json"
        config.save(path)
        configs.append(path)
    return NetworkFiles(root, genesis_path, accounts_path, configs)


def format_accounts(accounts_path: Path) -> str:
    """The dev accounts, listed the way a development node prints them."""
    lines = ["Accounts", "========", ""]
    for n, entry in enumerate(json.loads(Path(accounts_path).read_text())):
        eth = int(entry["balance"], 16) // 10**18
        lines += [
            f"Account #{n}: {entry['address']} ({eth} ETH)",
            f"Private Key: {entry['privateKey']}",
            "",
        ]
    lines.append("WARNING: these accounts and their private keys are for development only.")
    return "\n".join(lines)
