"""Which ledger a tenant's votes and maintenance-fund movements go to.

There are two, and they never mix:

* the **platform's ledger** (``WUYE_LEDGER_URL``): real estates' votes, funds and the
  firms' credit ratings, what regulators audit and the explorer shows;
* the **sandbox ledger** (``WUYE_SANDBOX_LEDGER_URL``): a chain of its own for the
  developer sandboxes, with the same contracts, so a third party can open a vote or
  record a fund movement exactly as on the platform without a single transaction
  reaching the regulators' chain. ``off`` leaves sandboxes without one (their votes
  and fund routes then answer 409).

A tenant's site follows from its kind, which the request's token state says
(:attr:`wuye.platform.security.Principal.sandbox`). On the embedded defaults ``wuye
run`` starts both nodes in-process, under ``var/ledger`` and ``var/sandbox/ledger``,
and the contracts are deployed on first use with the node's development account and
remembered beside it (``votes-ledger.json``, ``fund-ledger.json``). A ledger given by
URL takes its contract addresses and keys from the environment instead:
``WUYE_VOTES_OFFICER_KEY`` and the like for the platform, ``WUYE_SANDBOX_VOTES_OFFICER_KEY``
and the like for the sandboxes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wuye.platform.settings import EMBEDDED, OFF, Settings

__all__ = ["LedgerOff", "LedgerSite", "platform_site", "sandbox_site", "site_for"]


class LedgerOff(LookupError):
    """The site has no ledger configured (``WUYE_SANDBOX_LEDGER_URL=off``)."""


@dataclass(frozen=True)
class LedgerSite:
    """One ledger the platform writes to, and where its contract records are kept."""

    name: str
    url: str
    embedded_port: int
    state_dir: Path
    env_prefix: str

    @property
    def sandbox(self) -> bool:
        return self.name == "sandbox"

    @property
    def off(self) -> bool:
        return self.url.strip().lower() == OFF

    @property
    def embedded(self) -> bool:
        return self.url == EMBEDDED

    @property
    def rpc_url(self) -> str:
        """The node's JSON-RPC URL; :class:`LedgerOff` when the site has none."""
        if self.off:
            raise LedgerOff(f"the {self.name} ledger is off ({self.env_prefix}LEDGER_URL=off)")
        if self.embedded:
            return f"http://127.0.0.1:{self.embedded_port}"
        return self.url

    @property
    def node_dir(self) -> Path:
        """The embedded node's data directory (genesis, keys, chain)."""
        return self.state_dir / "ledger"

    def dev_accounts(self) -> list[dict[str, Any]]:
        """The embedded node's funded development accounts (``accounts.json``)."""
        return json.loads((self.node_dir / "accounts.json").read_text())

    def contract(
        self,
        *,
        key_env: str,
        address_env: str,
        state_file: str,
        fields: tuple[str, str],
        deploy: Callable[[str], tuple[str, str]] | None,
        what: str,
    ) -> tuple[str, str]:
        """The signing key and contract address a client of this site acts with.

        From the environment (``<prefix><key_env>``, ``<prefix><address_env>``); or, on
        an embedded node, remembered in ``state_file`` under ``fields`` - deployed the
        first time by ``deploy(dev_admin_key)``, which gives the new key and address
        (with ``deploy`` None a contract not yet deployed is a :class:`LookupError`).
        A ledger given by URL without those variables is a 409.
        """
        key, address = self.env(key_env), self.env(address_env)
        if key and address:
            return key, address
        if not self.embedded:
            from wuye.platform.problems import Problem

            raise Problem(
                "conflict",
                f"set {self.env_prefix}{key_env} and {self.env_prefix}{address_env} "
                "for this ledger",
            )
        state = self.state_dir / state_file
        key_field, address_field = fields
        if state.exists():
            saved = json.loads(state.read_text())
            return saved[key_field], saved[address_field]
        if deploy is None:
            raise LookupError(f"no {what} deployed yet ({state} is missing)")
        key, address = deploy(self.dev_accounts()[0]["privateKey"])
        state.write_text(json.dumps({key_field: key, address_field: address}))
        state.chmod(0o600)
        return key, address

    def env(self, name: str) -> str | None:
        """``WUYE_<name>`` for the platform, ``WUYE_SANDBOX_<name>`` for the sandboxes."""
        return os.environ.get(self.env_prefix + name) or None


def platform_site(settings: Settings) -> LedgerSite:
    return LedgerSite(
        name="platform",
        url=settings.ledger_url,
        embedded_port=settings.embedded_ledger_port,
        state_dir=Path(settings.var_dir),
        env_prefix="WUYE_",
    )


def sandbox_site(settings: Settings) -> LedgerSite:
    return LedgerSite(
        name="sandbox",
        url=settings.sandbox_ledger_url,
        embedded_port=settings.embedded_sandbox_ledger_port,
        state_dir=Path(settings.var_dir) / "sandbox",
        env_prefix="WUYE_SANDBOX_",
    )


def site_for(settings: Settings, *, sandbox: bool) -> LedgerSite:
    return sandbox_site(settings) if sandbox else platform_site(settings)
