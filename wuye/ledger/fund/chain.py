"""The maintenance fund on the ledger, through web3.py only: the MaintenanceFund contract.

:class:`FundLedger` sends the fund manager's transactions (batched deposits,
projects, payments, common-part records) and reads the contract's state and
logs; :func:`deploy` puts the contract on a chain beside the votes' ``Ballots``;
:func:`configured_ledger` finds (or, on the embedded ledger, deploys once and
remembers under ``var/``) the fund of this installation.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from web3 import Web3
from web3.logs import DISCARD

from wuye.crypto import sm3_hash
from wuye.ledger import contracts
from wuye.ledger.genesis import PERMISSIONS_ADDRESS
from wuye.ledger.votes.chain import Officer, connect

__all__ = [
    "MAX_UNITS",
    "FundLedger",
    "configured_ledger",
    "deploy",
    "estate_ref",
    "project_ref",
    "text_ref",
]

ROLE_SENDER = 1
ROLE_FUND_MANAGER = 8
#: Unit movements per transaction (the contract's MAX_UNITS).
MAX_UNITS = 256
#: Gas per unit movement in a batch (two SSTOREs and a log) plus the call's base.
GAS_PER_UNIT = 60_000
GAS_BASE = 150_000


def estate_ref(estate_id: str) -> bytes:
    """An estate's reference on the ledger (the same the votes' Ballots use)."""
    return sm3_hash(b"wuye-estate:" + estate_id.encode())


def project_ref(project_id: str) -> bytes:
    return sm3_hash(b"wuye-fund-project:" + project_id.encode())


def text_ref(text: str) -> bytes:
    """The reference of a batch or record: SM3 of its memo (kept in the database)."""
    return sm3_hash(b"wuye-fund-ref:" + text.encode())


@dataclass(frozen=True)
class Sent:
    """A mined transaction: its hash, block, and the id the contract returned (from logs)."""

    tx_hash: str
    block_number: int
    chain_id: int
    estate_balance: int = 0


class FundLedger:
    """The fund manager's account and the MaintenanceFund contract it writes to."""

    def __init__(self, officer: Officer, fund_address: str) -> None:
        self.officer = officer
        self.w3 = officer.w3
        #: One transaction at a time: the officer keeps its own nonce, and the API's
        #: worker threads share this client.
        self.lock = threading.RLock()
        abi, _ = contracts.load("MaintenanceFund")
        self.fund = self.w3.eth.contract(address=Web3.to_checksum_address(fund_address), abi=abi)

    @classmethod
    def reader(cls, w3: Web3, fund_address: str) -> FundLedger:
        """A read-only client (a throwaway key that the ledger would refuse to let send)."""
        return cls(Officer(w3, "0x" + bytes(Account.create().key).hex()), fund_address)

    @property
    def address(self) -> str:
        return str(self.fund.address)

    def _send(self, fn: Any, gas: int) -> Any:
        """Dry-run the call first, so a rule the contract enforces comes back as a 409
        naming the rule (``ballot not approved``, ``exceeds the unit's share`` …)."""
        from web3.exceptions import ContractLogicError

        from wuye.platform.problems import Conflict

        with self.lock:
            try:
                fn.call({"from": self.officer.address})
            except ContractLogicError as exc:
                reason = str(exc.message or exc).removeprefix("execution reverted: ")
                raise Conflict(f"账本拒绝 / the ledger refused: {reason}") from exc
            return self.officer.send(fn, gas=gas)

    @staticmethod
    def _sent(receipt: Any, chain_id: int, estate_balance: int = 0) -> Sent:
        return Sent(
            "0x" + bytes(receipt.transactionHash).hex(),
            int(receipt.blockNumber),
            chain_id,
            estate_balance,
        )

    # --- writes ---------------------------------------------------------

    def deposit_batch(
        self,
        estate: bytes,
        units: Sequence[bytes],
        amounts: Sequence[int],
        *,
        kind: int,
        period: int,
        reference: bytes,
    ) -> Sent:
        if not 0 < len(units) <= MAX_UNITS:
            raise ValueError(f"a batch carries 1..{MAX_UNITS} units")
        fn = self.fund.functions.deposit_batch(
            estate, list(units), list(amounts), kind, period, reference
        )
        receipt = self._send(fn, GAS_BASE + GAS_PER_UNIT * len(units))
        event = self.fund.events.BatchDeposited().process_receipt(receipt, errors=DISCARD)[0]
        return self._sent(receipt, event.args.batch_id, event.args.estate_balance)

    def propose(self, estate: bytes, ref: bytes, budget_fen: int) -> Sent:
        receipt = self._send(self.fund.functions.propose(estate, ref, budget_fen), 300_000)
        event = self.fund.events.ProjectProposed().process_receipt(receipt, errors=DISCARD)[0]
        return self._sent(receipt, event.args.project_id)

    def add_shares(self, project_id: int, units: Sequence[bytes], amounts: Sequence[int]) -> Sent:
        fn = self.fund.functions.add_shares(project_id, list(units), list(amounts))
        return self._sent(self._send(fn, GAS_BASE + GAS_PER_UNIT * len(units)), project_id)

    def approve(self, project_id: int, ballot_id: int) -> Sent:
        receipt = self._send(self.fund.functions.approve(project_id, ballot_id), 300_000)
        return self._sent(receipt, project_id)

    def declare_emergency(self, project_id: int, reason: bytes, evidence: Sequence[bytes]) -> Sent:
        fn = self.fund.functions.declare_emergency(project_id, reason, list(evidence))
        return self._sent(self._send(fn, 300_000), project_id)

    def ratify(self, project_id: int, ballot_id: int) -> Sent:
        receipt = self._send(self.fund.functions.ratify(project_id, ballot_id), 300_000)
        return self._sent(receipt, project_id)

    def pay(
        self,
        project_id: int,
        *,
        stage: int,
        period: int,
        units: Sequence[bytes],
        amounts: Sequence[int],
        payee: str,
        invoice: bytes,
    ) -> Sent:
        fn = self.fund.functions.pay(
            project_id,
            stage,
            period,
            list(units),
            list(amounts),
            Web3.to_checksum_address(payee),
            invoice,
        )
        receipt = self._send(fn, GAS_BASE + GAS_PER_UNIT * len(units))
        event = self.fund.events.PaymentMade().process_receipt(receipt, errors=DISCARD)[0]
        return self._sent(receipt, event.args.payment_id, event.args.estate_balance)

    def record_common(
        self,
        estate: bytes,
        *,
        period: int,
        category: int,
        income: bool,
        amount_fen: int,
        reference: bytes,
    ) -> Sent:
        fn = self.fund.functions.record_common(
            estate, period, category, income, amount_fen, reference
        )
        receipt = self._send(fn, 300_000)
        event = self.fund.events.CommonPartRecorded().process_receipt(receipt, errors=DISCARD)[0]
        return self._sent(receipt, event.args.record_id)

    def record_common_many(
        self, estate: bytes, records: Sequence[tuple[int, int, bool, int, bytes]]
    ) -> list[Sent]:
        """Several common-part records (period, category, income, amount, reference), sent
        back to back and then awaited, so they share blocks instead of one block each."""
        with self.lock:
            pending = [
                self.officer.send(
                    self.fund.functions.record_common(estate, *record), gas=300_000, wait=False
                )
                for record in records
            ]
            receipts = [self.officer.wait(tx_hash) for tx_hash in pending]
        out = []
        for receipt in receipts:
            event = self.fund.events.CommonPartRecorded().process_receipt(receipt, errors=DISCARD)[
                0
            ]
            out.append(self._sent(receipt, event.args.record_id))
        return out

    # --- reads ----------------------------------------------------------

    def estate_balance(self, estate: bytes) -> int:
        return int(self.fund.functions.estate_balance(estate).call())

    def unit_balance(self, estate: bytes, unit: bytes) -> int:
        return int(self.fund.functions.unit_balance(estate, unit).call())

    def common_net_available(self, estate: bytes) -> int:
        return int(self.fund.functions.common_net_available(estate).call())


def deploy(w3: Web3, admin_key: str, manager_address: str, ballots_address: str) -> str:
    """Deploy MaintenanceFund against ``ballots_address`` and make ``manager_address`` its
    fund manager (``admin_key`` holds ROLE_ADMIN). Returns the contract's address."""
    admin = Officer(w3, admin_key)
    perm_abi, _ = contracts.load("Permissions")
    permissions = w3.eth.contract(
        address=Web3.to_checksum_address(PERMISSIONS_ADDRESS), abi=perm_abi
    )
    abi, code = contracts.load("MaintenanceFund")
    receipt = admin.send(
        w3.eth.contract(abi=abi, bytecode=code).constructor(
            permissions.address, Web3.to_checksum_address(ballots_address)
        ),
        gas=8_000_000,
    )
    admin.send(permissions.functions.grant(manager_address, ROLE_SENDER | ROLE_FUND_MANAGER))
    manager = Web3.to_checksum_address(manager_address)
    if w3.eth.get_balance(manager) < 10**19:
        admin.transfer(manager, min(10**20, w3.eth.get_balance(admin.account.address) // 2))
    return str(receipt.contractAddress)


def configured_ledger(
    settings: Any,
    ballots_address: str | None = None,
    *,
    deploy_if_missing: bool = True,
    site: Any = None,
) -> FundLedger:
    """The fund manager of ``site`` (the platform's ledger by default): from
    ``WUYE_FUND_MANAGER_KEY`` / ``WUYE_FUND_CONTRACT`` (``WUYE_SANDBOX_...`` for the
    sandboxes), or, on an embedded node, a contract deployed once with the node's dev
    admin and remembered in the site's ``fund-ledger.json`` (beside ``votes-ledger.json``)."""
    from wuye.ledger.sites import platform_site

    site = site or platform_site(settings)
    w3 = connect(site.rpc_url)

    def deploy_new(admin_key: str) -> tuple[str, str]:
        ballots = ballots_address
        if ballots is None:
            from wuye.ledger.clients import configured_votes

            votes = configured_votes(settings, site)
            ballots = votes.officer.record(votes.record_address).functions.ballots().call()
        manager_key = "0x" + bytes(Account.create().key).hex()
        return manager_key, deploy(w3, admin_key, Account.from_key(manager_key).address, ballots)

    key, address = site.contract(
        key_env="FUND_MANAGER_KEY",
        address_env="FUND_CONTRACT",
        state_file="fund-ledger.json",
        fields=("manager_key", "fund"),
        deploy=deploy_new if deploy_if_missing else None,
        what="maintenance fund",
    )
    return FundLedger(Officer(w3, key), address)
