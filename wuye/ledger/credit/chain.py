"""Credit ratings on the ledger, through web3.py only: the CreditRegistry contract.

The platform's rater account publishes each month's computed scores in batches
(``publish_scores``); a regulator's own account sends each adjustment (``adjust``).
On the embedded ledger the registry is deployed once with the node's dev admin,
which grants the roles in Permissions; elsewhere it is configured by
``WUYE_CREDIT_REGISTRY`` / ``WUYE_CREDIT_RATER_KEY`` (and ``WUYE_CREDIT_ADMIN_KEY``
to grant regulators their role). Event layout: /work/notes/credit-events.md and
the contract's docstring.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account import Account
from web3 import Web3
from web3.logs import DISCARD

from wuye.crypto import sm3_hash
from wuye.ledger import contracts
from wuye.ledger.genesis import PERMISSIONS_ADDRESS
from wuye.ledger.votes.chain import Officer, connect
from wuye.platform.settings import EMBEDDED, Settings

__all__ = [
    "KINDS",
    "CreditLedger",
    "OnChainScore",
    "configured_ledger",
    "deploy",
    "period_number",
    "registry_address",
    "subject_ref",
]

ROLE_SENDER = 1
ROLE_RATER = 4
ROLE_REGULATOR = 32
#: subject kind -> the contract's uint8.
KINDS = {"firm": 1, "staff": 2}
#: Scores per ``publish_scores`` transaction (the contract takes up to 128); ~90k gas each.
BATCH_SIZE = 100
STATE_FILE = "credit-ledger.json"


def subject_ref(kind: str, subject_id: str) -> bytes:
    """The subject's key on the ledger: SM3 of ``wuye/credit/<kind>/<id>``."""
    if kind not in KINDS:
        raise ValueError(f"subject kind must be firm or staff, not {kind!r}")
    return sm3_hash(f"wuye/credit/{kind}/{subject_id}".encode())


def period_number(period: str) -> int:
    """``"2026-10"`` -> ``202610``, the contract's period."""
    year, month = period.split("-")
    return int(year) * 100 + int(month)


def period_text(number: int) -> str:
    return f"{number // 100:04d}-{number % 100:02d}"


@dataclass(frozen=True)
class OnChainScore:
    period: str
    subject_ref: str
    kind: int
    score: int
    inputs_digest: str
    batch_id: int
    tx_hash: str
    block_number: int


def _registry(w3: Web3, address: str) -> Any:
    abi, _ = contracts.load("CreditRegistry")
    return w3.eth.contract(address=Web3.to_checksum_address(address), abi=abi)


def _permissions(w3: Web3) -> Any:
    abi, _ = contracts.load("Permissions")
    return w3.eth.contract(address=Web3.to_checksum_address(PERMISSIONS_ADDRESS), abi=abi)


def _hex(value: Any) -> str:
    return bytes(value).hex()


class CreditLedger:
    """The registry, the rater that publishes scores, and (optionally) a governance admin."""

    def __init__(self, w3: Web3, registry: str, rater_key: str, admin_key: str | None = None):
        self.w3 = w3
        self.registry_address = Web3.to_checksum_address(registry)
        self.rater = Officer(w3, rater_key)
        self.admin_key = admin_key

    @property
    def registry(self) -> Any:
        return _registry(self.w3, self.registry_address)

    # --- reading ---------------------------------------------------------------

    def published(self, period: str, ref: bytes) -> tuple[int, bytes, int] | None:
        """(computed score, inputs digest, adjustment total) on chain, or None."""
        number = period_number(period)
        digest = bytes(self.registry.functions.inputs_digest(number, ref).call())
        if digest == bytes(32):
            return None
        score = self.registry.functions.computed_score(number, ref).call()
        total = self.registry.functions.adjustment_total(number, ref).call()
        return int(score), digest, int(total)

    def scores_of(self, period: str) -> dict[str, OnChainScore]:
        """Every ScorePublished event of ``period``, by subject ref (hex)."""
        events = self.registry.events.ScorePublished().get_logs(
            from_block=0, argument_filters={"period": period_number(period)}
        )
        out = {}
        for e in events:
            ref = _hex(e.args.subject)
            out[ref] = OnChainScore(
                period=period,
                subject_ref=ref,
                kind=int(e.args.kind),
                score=int(e.args.score),
                inputs_digest=_hex(e.args.inputs_digest),
                batch_id=int(e.args.batch_id),
                tx_hash="0x" + _hex(e.transactionHash),
                block_number=int(e.blockNumber),
            )
        return out

    def adjustments_of(self, period: str) -> list[dict[str, Any]]:
        events = self.registry.events.ScoreAdjusted().get_logs(
            from_block=0, argument_filters={"period": period_number(period)}
        )
        return [
            {
                "subject_ref": _hex(e.args.subject),
                "adjustment_id": int(e.args.adjustment_id),
                "delta": int(e.args.delta),
                "reason_digest": _hex(e.args.reason_digest),
                "regulator": e.args.regulator,
                "tx_hash": "0x" + _hex(e.transactionHash),
            }
            for e in events
        ]

    # --- writing ---------------------------------------------------------------

    def publish(
        self, period: str, entries: list[tuple[bytes, int, int, bytes]], model_version: int
    ) -> list[tuple[int, str, int, list[bytes]]]:
        """Publish ``(ref, kind, score, digest)`` entries in batches of :data:`BATCH_SIZE`.

        Returns ``(batch_id, tx_hash, block_number, refs)`` per batch.
        """
        number = period_number(period)
        registry = self.registry
        sent = []
        for i in range(0, len(entries), BATCH_SIZE):
            chunk = entries[i : i + BATCH_SIZE]
            fn = registry.functions.publish_scores(
                number,
                model_version,
                [c[0] for c in chunk],
                [c[1] for c in chunk],
                [c[2] for c in chunk],
                [c[3] for c in chunk],
            )
            sent.append(
                (self.rater.send(fn, gas=200_000 + 120_000 * len(chunk), wait=False), chunk)
            )
        batches = []
        for tx_hash, chunk in sent:
            receipt = self.rater.wait(tx_hash)
            (event,) = registry.events.ScoresPublished().process_receipt(receipt, errors=DISCARD)
            batches.append(
                (
                    int(event.args.batch_id),
                    "0x" + _hex(receipt.transactionHash),
                    int(receipt.blockNumber),
                    [c[0] for c in chunk],
                )
            )
        return batches

    def adjust(
        self, regulator_key: str, period: str, ref: bytes, delta: int, reason: str
    ) -> tuple[int, str, int]:
        """Send a regulator's adjustment from its own account: (adjustment id, tx, block)."""
        officer = Officer(self.w3, regulator_key)
        fn = self.registry.functions.adjust(
            period_number(period), ref, delta, sm3_hash(reason.encode())
        )
        receipt = officer.send(fn, gas=200_000)
        (event,) = self.registry.events.ScoreAdjusted().process_receipt(receipt, errors=DISCARD)
        return (
            int(event.args.adjustment_id),
            "0x" + _hex(receipt.transactionHash),
            int(receipt.blockNumber),
        )

    def is_regulator(self, address: str) -> bool:
        return bool(
            _permissions(self.w3)
            .functions.has_role(Web3.to_checksum_address(address), ROLE_SENDER | ROLE_REGULATOR)
            .call()
        )

    def grant_regulator(self, address: str) -> None:
        """Grant ROLE_SENDER | ROLE_REGULATOR and fund gas (needs a governance admin key)."""
        if self.is_regulator(address):
            return
        if not self.admin_key:
            raise PermissionError(
                f"account {address} lacks ROLE_REGULATOR; ask the ledger's governance to grant it"
            )
        admin = Officer(self.w3, self.admin_key)
        admin.send(_permissions(self.w3).functions.grant(address, ROLE_SENDER | ROLE_REGULATOR))
        if self.w3.eth.get_balance(Web3.to_checksum_address(address)) < 10**17:
            admin.transfer(address, 10**18)


def deploy(w3: Web3, admin_key: str, rater_address: str) -> str:
    """Deploy CreditRegistry and grant the rater its roles; returns the registry address."""
    admin = Officer(w3, admin_key)
    abi, code = contracts.load("CreditRegistry")
    receipt = admin.send(
        w3.eth.contract(abi=abi, bytecode=code).constructor(_permissions(w3).address),
        gas=5_000_000,
    )
    admin.send(_permissions(w3).functions.grant(rater_address, ROLE_SENDER | ROLE_RATER))
    if w3.eth.get_balance(Web3.to_checksum_address(rater_address)) < 10**19:
        admin.transfer(rater_address, 10**19)
    return str(receipt.contractAddress)


def _url(settings: Settings) -> str:
    if settings.ledger_url == EMBEDDED:
        return f"http://127.0.0.1:{settings.embedded_ledger_port}"
    return settings.ledger_url


def registry_address(settings: Settings) -> str | None:
    """Where the CreditRegistry is, or None while it has not been deployed."""
    if address := os.environ.get("WUYE_CREDIT_REGISTRY"):
        return Web3.to_checksum_address(address)
    state = Path(settings.var_dir) / STATE_FILE
    if state.exists():
        return str(json.loads(state.read_text())["registry"])
    return None


def configured_ledger(settings: Settings, *, deploy_if_missing: bool = True) -> CreditLedger:
    """The credit ledger from the environment, or, on the embedded ledger, a registry
    deployed once with the node's dev admin and remembered in ``var/credit-ledger.json``."""
    w3 = connect(_url(settings))
    registry, rater_key = (
        os.environ.get("WUYE_CREDIT_REGISTRY"),
        os.environ.get("WUYE_CREDIT_RATER_KEY"),
    )
    if registry and rater_key:
        return CreditLedger(w3, registry, rater_key, os.environ.get("WUYE_CREDIT_ADMIN_KEY"))
    if settings.ledger_url != EMBEDDED:
        raise LookupError("set WUYE_CREDIT_REGISTRY and WUYE_CREDIT_RATER_KEY for this ledger")
    accounts = json.loads((Path(settings.var_dir) / "ledger" / "accounts.json").read_text())
    admin_key = accounts[0]["privateKey"]
    state = Path(settings.var_dir) / STATE_FILE
    if state.exists():
        saved = json.loads(state.read_text())
    else:
        if not deploy_if_missing:
            raise LookupError("the credit registry is not deployed on this ledger yet")
        rater_key = Account.create().key.hex()
        address = deploy(w3, admin_key, Account.from_key(rater_key).address)
        saved = {"registry": address, "rater_key": rater_key}
        state.write_text(json.dumps(saved))
        state.chmod(0o600)
    return CreditLedger(w3, saved["registry"], saved["rater_key"], admin_key)
