"""The votes' own contract (ElectionRecord), compiled like the ledger's, cached by source hash."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from wuye.ledger.contracts import compile_source

SOURCE_DIR = Path(__file__).parent
NAMES = ("ElectionRecord",)


@cache
def load(name: str) -> tuple[list[dict[str, Any]], bytes]:
    """The ABI and deployment bytecode of contract ``name``, for web3.py."""
    if name not in NAMES:
        raise KeyError(f"no votes contract named {name!r}")
    contract = compile_source(name, SOURCE_DIR / f"{name}.vy")
    return contract.abi, contract.bytecode
