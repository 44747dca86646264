"""The ledger's Vyper contracts, compiled from the `.vy` sources shipped here.

`load(name)` compiles with vyper's Python API on first use and caches the
result on disk under a directory keyed by the source's hash and the compiler
version, so a changed source or compiler never serves stale bytecode.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

SOURCE_DIR = Path(__file__).parent
#: Contracts the platform deploys and calls through web3.py.
NAMES = ("Permissions", "Validators", "CreditRegistry", "Ballots", "MaintenanceFund")


@dataclass(frozen=True)
class Compiled:
    """A compiled contract: its ABI, deployment bytecode and runtime bytecode."""

    name: str
    abi: list[dict[str, Any]]
    bytecode: bytes
    runtime: bytes
    storage_layout: dict[str, Any]


def cache_dir() -> Path:
    """Where compiled contracts are cached (`WUYE_CACHE_DIR`, else ~/.cache/wuye)."""
    root = os.environ.get("WUYE_CACHE_DIR") or Path.home() / ".cache" / "wuye"
    return Path(root) / "vyper"


def source_path(name: str) -> Path:
    if name not in NAMES:
        raise KeyError(f"no contract named {name!r}; known: {', '.join(NAMES)}")
    return SOURCE_DIR / f"{name}.vy"


def _compile(name: str, source: str) -> dict[str, Any]:
    import vyper

    out = vyper.compile_code(
        source, output_formats=["abi", "bytecode", "bytecode_runtime", "layout"]
    )
    layout = out["layout"].get("storage_layout", {})
    return {
        "name": name,
        "abi": out["abi"],
        "bytecode": out["bytecode"],
        "runtime": out["bytecode_runtime"],
        "storage_layout": json.loads(json.dumps(layout)),
    }


@cache
def compiled(name: str) -> Compiled:
    """Compile (or fetch from the cache) the contract called `name`."""
    return compile_source(name, source_path(name))


def compile_source(name: str, path: Path) -> Compiled:
    """Compile the Vyper source at ``path``, or fetch it from the cache keyed by the
    compiler version and the source's hash; other packages' contracts use this too."""
    import vyper

    source = path.read_text()
    key = hashlib.sha256(f"{vyper.__version__}\0{source}".encode()).hexdigest()
    cached = cache_dir() / f"{name}-{key[:24]}.json"
    data: dict[str, Any] | None = None
    if cached.exists():
        try:
            data = json.loads(cached.read_text())
        except (OSError, ValueError):
            data = None
    if data is None:
        data = _compile(name, source)
        try:
            cached.parent.mkdir(parents=True, exist_ok=True)
            tmp = cached.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data))
            tmp.replace(cached)
        except OSError:
            pass  # a read-only home still compiles; it only recompiles next time
    return Compiled(
        name=name,
        abi=data["abi"],
        bytecode=bytes.fromhex(data["bytecode"].removeprefix("0x")),
        runtime=bytes.fromhex(data["runtime"].removeprefix("0x")),
        storage_layout=data["storage_layout"],
    )


def load(name: str) -> tuple[list[dict[str, Any]], bytes]:
    """The ABI and deployment bytecode of contract `name`, for web3.py."""
    contract = compiled(name)
    return contract.abi, contract.bytecode
