"""The votes and fund ledger clients of a process, one per site, kept on ``app.state``.

A client holds an officer key and hands out its nonces (:class:`wuye.ledger.votes.chain.
Officer`), so a process must use one client per key: the routes, the sandbox seed and
the demo all take theirs from here. ``app.state.votes_ledger`` / ``fund_ledger`` serve
the platform's ledger, ``sandbox_votes_ledger`` / ``sandbox_fund_ledger`` the sandbox
ledger (:mod:`wuye.ledger.sites`); tests may set them to clients of their own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wuye.ledger.sites import LedgerSite, platform_site, site_for
from wuye.platform.problems import Problem
from wuye.platform.settings import Settings

if TYPE_CHECKING:
    from wuye.ledger.fund.chain import FundLedger
    from wuye.ledger.votes.service import VotesLedger

__all__ = ["configured_votes", "fund_client", "votes_client"]


def configured_votes(settings: Settings, site: LedgerSite | None = None) -> VotesLedger:
    """A new ballot-officer client of ``site`` (the platform's ledger by default): from
    ``WUYE_VOTES_OFFICER_KEY`` / ``WUYE_VOTES_RECORD`` (``WUYE_SANDBOX_...`` for the
    sandboxes), or, on an embedded node, contracts deployed once with the node's dev
    admin and remembered in the site's ``votes-ledger.json``."""
    from eth_account import Account

    from wuye.ledger.votes.chain import Officer, connect, deploy
    from wuye.ledger.votes.service import VotesLedger

    site = site or platform_site(settings)
    w3 = connect(site.rpc_url)

    def deploy_new(admin_key: str) -> tuple[str, str]:
        officer_key = Account.create().key.hex()
        _, record = deploy(w3, admin_key, Account.from_key(officer_key).address)
        return officer_key, record

    key, record = site.contract(
        key_env="VOTES_OFFICER_KEY",
        address_env="VOTES_RECORD",
        state_file="votes-ledger.json",
        fields=("officer_key", "record"),
        deploy=deploy_new,
        what="votes record",
    )
    return VotesLedger(Officer(w3, key), record)


def _site(state: Any, sandbox: bool) -> LedgerSite:
    site = site_for(state.settings, sandbox=sandbox)
    if site.off:
        raise Problem(
            "conflict",
            f"沙箱账本未启用 / the {site.name} ledger is off ({site.env_prefix}LEDGER_URL=off)",
        )
    return site


def _unreachable(site: LedgerSite, exc: OSError) -> Problem:
    """503: the node does not answer (or an embedded one was never started)."""
    which = "沙箱账本" if site.name == "sandbox" else "平台账本"
    hint = " (wuye run starts it)" if site.embedded else ""
    return Problem(
        "service-unavailable",
        f"{which}不可达 / the {site.name} ledger at {site.rpc_url} is unreachable{hint}: {exc}",
    )


def votes_client(state: Any, *, sandbox: bool) -> VotesLedger:
    """The process's votes client of the platform's or the sandbox ledger (409 if off,
    503 if its node does not answer)."""
    attribute = "sandbox_votes_ledger" if sandbox else "votes_ledger"
    client = getattr(state, attribute, None)
    if client is None:
        site = _site(state, sandbox)
        try:
            client = configured_votes(state.settings, site)
        except OSError as exc:  # requests' connection errors included
            raise _unreachable(site, exc) from exc
        setattr(state, attribute, client)
    return client


def fund_client(state: Any, *, sandbox: bool) -> FundLedger:
    """The process's fund client of the platform's or the sandbox ledger (409 if off,
    503 if its node does not answer); a first deployment refers to the same site's
    Ballots contract."""
    from wuye.ledger.fund.chain import configured_ledger

    attribute = "sandbox_fund_ledger" if sandbox else "fund_ledger"
    client = getattr(state, attribute, None)
    if client is None:
        site = _site(state, sandbox)
        ballots = None
        votes = getattr(state, "sandbox_votes_ledger" if sandbox else "votes_ledger", None)
        if votes is not None:
            ballots = votes.officer.record(votes.record_address).functions.ballots().call()
        try:
            client = configured_ledger(state.settings, ballots, site=site)
        except OSError as exc:
            raise _unreachable(site, exc) from exc
        setattr(state, attribute, client)
    return client
