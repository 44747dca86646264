"""`wuye ledger ...`: run a devnet or one node, and verify a chain independently."""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from pathlib import Path

import click


@click.group(name="ledger", help="Permissioned EVM ledger: devnet, node, independent verification.")
def ledger() -> None:
    pass


def _run_until_signal(stop: threading.Event) -> None:
    def handler(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    while not stop.is_set():
        stop.wait(0.5)


@ledger.command(help="Run one node from its JSON config file until Ctrl-C.")
@click.option("--config", "config_path", required=True, type=click.Path(path_type=Path))
@click.option("-v", "--verbose", is_flag=True, help="Log consensus progress.")
def node(config_path: Path, verbose: bool) -> None:
    from wuye.ledger.genesis import GenesisError
    from wuye.ledger.node import Node, NodeConfig
    from wuye.ledger.rpc.server import HTTPServer

    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(message)s",
    )
    try:
        config = NodeConfig.load(config_path)
    except (OSError, ValueError, TypeError) as exc:
        raise click.ClickException(f"cannot read node config {config_path}: {exc}") from exc
    try:
        running = Node(config)
    except (GenesisError, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    server = HTTPServer(running, config.host, config.port)
    running.start()
    try:
        server.start()
    except RuntimeError as exc:
        running.stop()
        raise click.ClickException(f"{exc} (is the port in use?)") from exc
    click.echo(
        f"node serving JSON-RPC at {server.url} (head #{running.ledger.head().block_number})"
    )
    stop = threading.Event()
    _run_until_signal(stop)
    server.stop()
    running.stop()
    click.echo("node stopped")


@ledger.command(help="Start a validator network on loopback; node i serves base-port + i.")
@click.option("--validators", default=4, show_default=True, type=click.IntRange(1, 64))
@click.option("--base-port", default=8545, show_default=True, type=click.IntRange(1024, 65000))
@click.option(
    "--data-dir", default="var/ledger/devnet", show_default=True, type=click.Path(path_type=Path)
)
@click.option("--block-interval", default=1.0, show_default=True, type=float)
@click.option("--max-block-txs", default=500, show_default=True, type=int)
def devnet(
    validators: int, base_port: int, data_dir: Path, block_interval: float, max_block_txs: int
) -> None:
    import subprocess

    from wuye.ledger.network import create_network, format_accounts

    genesis = data_dir / "genesis.json"
    if genesis.exists():
        configs = sorted(data_dir.glob("node-*/config.json"))
        if len(configs) != validators:
            raise click.ClickException(
                f"{data_dir} holds a network of {len(configs)} validators; "
                "use another --data-dir or remove it"
            )
        accounts = data_dir / "accounts.json"
        click.echo(f"reusing the network in {data_dir}")
    else:
        files = create_network(
            data_dir,
            validators,
            base_port,
            block_interval=block_interval,
            max_block_txs=max_block_txs,
        )
        configs, accounts = files.configs, files.accounts
        click.echo(f"created a {validators}-validator network in {data_dir}")
    # Our own interpreter running our own module: no untrusted input reaches the command.
    command = [sys.executable, "-m", "wuye.ledger", "node", "--config"]
    processes = [subprocess.Popen([*command, str(c)]) for c in configs]  # noqa: S603
    click.echo(format_accounts(accounts))
    for i in range(validators):
        click.echo(f"node {i}: http://127.0.0.1:{base_port + i}")
    click.echo("Ctrl-C stops the network.")
    stop = threading.Event()
    try:
        signal.signal(signal.SIGINT, lambda s, f: stop.set())
        signal.signal(signal.SIGTERM, lambda s, f: stop.set())
        while not stop.is_set():
            if any(p.poll() is not None for p in processes):
                failed = [i for i, p in enumerate(processes) if p.poll() is not None]
                stop.set()
                raise click.ClickException(f"node(s) {failed} exited; stopping the network")
            stop.wait(0.5)
    finally:
        for p in processes:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for p in processes:
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
        click.echo("network stopped")


@ledger.command(help="Re-check a chain from genesis: links, SM2 seals, quorum, state roots.")
@click.option("--rpc", "url", required=True, help="JSON-RPC URL of any node.")
@click.option("--genesis", "genesis_path", required=True, type=click.Path(path_type=Path))
@click.option("--reexecute", is_flag=True, help="Re-execute every block with py-evm.")
def verify(url: str, genesis_path: Path, reexecute: bool) -> None:
    from wuye.ledger.genesis import GenesisError
    from wuye.ledger.verify import VerificationFailed, verify_chain

    last = [0.0]

    def progress(number: int, head: int) -> None:
        now = time.monotonic()
        if now - last[0] > 0.5 or number == head:
            last[0] = now
            click.echo(f"\r校验 verifying block {number}/{head}", nl=number == head, err=True)

    try:
        report = verify_chain(url, genesis_path, reexecute=reexecute, progress=progress)
    except VerificationFailed as exc:
        raise click.ClickException(
            f"verification failed at block #{exc.number}: {exc.reason}"
        ) from None
    except (GenesisError, ConnectionError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"OK: {report.blocks} blocks, {report.transactions} transactions, "
        f"{report.seals} seals verified"
        + (", every state root re-executed" if report.reexecuted else "")
        + f"; head {report.head_hash}"
    )
    for change in report.validator_changes:
        click.echo(f"validator change {change}")
