"""The votes' own contract (ElectionRecord), compiled like the ledger's, cached by source hash."""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from wuye.ledger.contracts import _compile, cache_dir

SOURCE_DIR = Path(__file__).parent
NAMES = ("ElectionRecord",)


@cache
def load(name: str) -> tuple[list[dict[str, Any]], bytes]:
    """The ABI and deployment bytecode of contract ``name``, for web3.py."""
    import vyper

    if name not in NAMES:
        raise KeyError(f"no votes contract named {name!r}")
    source = (SOURCE_DIR / f"{name}.vy").read_text()
    key = hashlib.sha256(f"{vyper.__version__}\0{source}".encode()).hexdigest()
    path = cache_dir() / f"{name}-{key[:24]}.json"
    data: dict[str, Any] | None = None
    if path.exists():
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            data = None
    if data is None:
        data = _compile(name, source)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data))
            tmp.replace(path)
        except OSError:
            pass
    return data["abi"], bytes.fromhex(data["bytecode"].removeprefix("0x"))
