"""Reconciliation (对账): the ledger against itself, and the database mirror against the ledger.

For one estate :func:`reconcile` reads, through web3.py only:

* every ``UnitCredited`` / ``UnitDebited`` log of the estate, replaying them per unit
  (each log's running ``unit_balance`` must follow from the previous one);
* the contract's ``unit_balance`` of every unit seen in the logs or the mirror, and the
  estate's ``estate_balance``;

and proves that (1) the replayed logs equal the contract state per unit, (2) the unit
balances on the ledger add up to the estate balance on the ledger, and (3) the mirror's
account of each unit equals the ledger's, and so do their totals. Every difference is
reported naming the estate, the unit and both amounts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_utils import keccak
from sqlalchemy import select
from sqlalchemy.orm import Session
from web3.types import RPCEndpoint

from wuye.ledger.fund.chain import FundLedger, estate_ref
from wuye.ledger.fund.models import FundAccount, FundEntry
from wuye.platform.estates.models import Unit

__all__ = ["Difference", "Reconciliation", "reconcile"]

UNIT_CREDITED = "0x" + keccak(b"UnitCredited(uint256,bytes32,bytes32,uint8,uint256,uint256)").hex()
UNIT_DEBITED = "0x" + keccak(b"UnitDebited(uint256,bytes32,bytes32,uint256,uint256,uint256)").hex()
BATCH_DEPOSITED = (
    "0x"
    + keccak(b"BatchDeposited(uint256,bytes32,uint8,uint256,uint256,uint256,uint256,bytes32)").hex()
)
PAYMENT_MADE = (
    "0x"
    + keccak(
        b"PaymentMade(uint256,uint256,bytes32,uint256,uint256,uint256,uint256,uint256,address,bytes32)"
    ).hex()
)


@dataclass(frozen=True)
class Difference:
    """One thing that does not add up; ``unit_id`` is empty for estate-level checks."""

    check: str
    estate_id: str
    unit_id: str
    unit_ref: str
    expected_fen: int
    actual_fen: int
    text: str

    def to_json(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass
class Reconciliation:
    estate_id: str
    estate_ref: str
    chain_estate_balance_fen: int = 0
    chain_unit_sum_fen: int = 0
    mirror_sum_fen: int = 0
    units_checked: int = 0
    logs_read: int = 0
    block_number: int = 0
    differences: list[Difference] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.differences

    def summary(self) -> str:
        head = (
            f"estate {self.estate_id}: {self.units_checked} units, "
            f"ledger balance {self.chain_estate_balance_fen} fen"
        )
        if self.ok:
            return f"对账一致 / reconciled: {head}, mirror equals ledger"
        first = self.differences[0].text
        return f"对账不符 / {len(self.differences)} difference(s): {head}; first: {first}"

    def to_json(self) -> dict[str, Any]:
        return {
            "estate_id": self.estate_id,
            "estate_ref": self.estate_ref,
            "ok": self.ok,
            "block_number": self.block_number,
            "chain_estate_balance_fen": self.chain_estate_balance_fen,
            "chain_unit_sum_fen": self.chain_unit_sum_fen,
            "mirror_sum_fen": self.mirror_sum_fen,
            "units_checked": self.units_checked,
            "logs_read": self.logs_read,
            "differences": [d.to_json() for d in self.differences],
        }


def _logs(ledger: FundLedger, block: int, topics: list[Any]) -> list[dict[str, Any]]:
    spec = {"fromBlock": "0x0", "toBlock": hex(block), "address": ledger.address, "topics": topics}
    response = ledger.w3.provider.make_request(RPCEndpoint("eth_getLogs"), [spec])
    if "error" in response:
        raise LookupError(f"eth_getLogs failed: {response['error']}")
    return sorted(
        response["result"], key=lambda e: (int(e["blockNumber"], 16), int(e["logIndex"], 16))
    )


def reconcile(*, session: Session, ledger: FundLedger, estate_id: str) -> Reconciliation:
    """Check one estate's fund; the session sees the estate's tenant (or the host)."""
    estate = estate_ref(estate_id)
    block = ledger.w3.eth.block_number
    report = Reconciliation(estate_id=estate_id, estate_ref=estate.hex(), block_number=block)
    names = dict(
        session.execute(select(Unit.id, Unit.number).where(Unit.estate_id == estate_id)).all()
    )
    mirror = {
        a.unit_ref: a
        for a in session.scalars(select(FundAccount).where(FundAccount.estate_id == estate_id))
    }

    def differ(check: str, ref: str, expected: int, actual: int, text: str) -> None:
        account = mirror.get(ref)
        unit_id = account.unit_id if account else ""
        label = f"unit {unit_id} ({names.get(unit_id, '?')})" if unit_id else f"unit ref {ref}"
        if not ref:
            label = f"estate {estate_id}"
        report.differences.append(
            Difference(
                check,
                estate_id,
                unit_id,
                ref,
                expected,
                actual,
                f"{label}: {text} (expected {expected} fen, found {actual} fen)",
            )
        )

    # (1) replay the estate's unit logs; each running balance must follow.
    replayed: dict[str, int] = {}
    logs = _logs(ledger, block, [[UNIT_CREDITED, UNIT_DEBITED], None, "0x" + estate.hex()])
    report.logs_read = len(logs)
    for entry in logs:
        ref = entry["topics"][3][2:]
        data = bytes.fromhex(entry["data"][2:])
        words = [int.from_bytes(data[i : i + 32], "big") for i in range(0, len(data), 32)]
        amount, after = words[1], words[2]  # (kind|project_id, amount_fen, unit_balance)
        credit = entry["topics"][0] == UNIT_CREDITED
        expected = replayed.get(ref, 0) + (amount if credit else -amount)
        if expected != after:
            differ("log-replay", ref, expected, after, "a ledger log's running balance breaks")
        replayed[ref] = after
    # (2) contract state per unit, and the estate total on the ledger.
    refs = sorted(set(replayed) | set(mirror))
    chain: dict[str, int] = {}
    for ref in refs:
        chain[ref] = ledger.fund.functions.unit_balance(estate, bytes.fromhex(ref)).call(
            block_identifier=block
        )
        if chain[ref] != replayed.get(ref, 0):
            differ(
                "logs-vs-state",
                ref,
                replayed.get(ref, 0),
                chain[ref],
                "ledger logs and state disagree",
            )
    report.units_checked = len(refs)
    report.chain_estate_balance_fen = int(
        ledger.fund.functions.estate_balance(estate).call(block_identifier=block)
    )
    report.chain_unit_sum_fen = sum(chain.values())
    if report.chain_unit_sum_fen != report.chain_estate_balance_fen:
        differ(
            "units-sum",
            "",
            report.chain_estate_balance_fen,
            report.chain_unit_sum_fen,
            "unit balances on the ledger do not add up to the estate balance",
        )
    # (3) the database mirror against the ledger.
    for ref in refs:
        account = mirror.get(ref)
        if account is None:
            differ("mirror-missing", ref, chain[ref], 0, "on the ledger but not in the database")
        elif account.balance_fen != chain[ref]:
            differ(
                "mirror-balance",
                ref,
                chain[ref],
                account.balance_fen,
                "mirrored balance differs from the ledger",
            )
    report.mirror_sum_fen = sum(a.balance_fen for a in mirror.values())
    if report.mirror_sum_fen != report.chain_estate_balance_fen:
        differ(
            "mirror-sum",
            "",
            report.chain_estate_balance_fen,
            report.mirror_sum_fen,
            "the database's total differs from the ledger's estate balance",
        )
    _check_entries(session, ledger, report, estate_id, estate, block)
    return report


def _check_entries(
    session: Session,
    ledger: FundLedger,
    report: Reconciliation,
    estate_id: str,
    estate: bytes,
    block: int,
) -> None:
    """(4) Each mirrored entry is a ledger batch or payment of the same amount, and back."""
    topic = "0x" + estate.hex()
    chain: dict[tuple[str, str], tuple[int, int]] = {}
    for entry in _logs(ledger, block, [BATCH_DEPOSITED, None, topic]):
        data = bytes.fromhex(entry["data"][2:])
        amount = int.from_bytes(data[64:96], "big")  # (period, units, amount_fen, ...)
        chain[("batch", entry["transactionHash"].lower())] = (int(entry["topics"][1], 16), amount)
    for entry in _logs(ledger, block, [PAYMENT_MADE, None, None, topic]):
        data = bytes.fromhex(entry["data"][2:])
        amount = int.from_bytes(data[64:96], "big")  # (stage, period, amount_fen, ...)
        chain[("payment", entry["transactionHash"].lower())] = (int(entry["topics"][1], 16), amount)
    mirrored: dict[tuple[str, str], tuple[int, int]] = {}
    for row in session.scalars(select(FundEntry).where(FundEntry.estate_id == estate_id)):
        what = "batch" if row.kind.inflow else "payment"
        mirrored[(what, row.tx_hash.lower())] = (row.chain_id, row.amount_fen)
    for key in sorted(set(chain) | set(mirrored)):
        what, tx = key
        on_chain, in_db = chain.get(key), mirrored.get(key)
        if on_chain == in_db:
            continue
        expected = on_chain[1] if on_chain else 0
        actual = in_db[1] if in_db else 0
        if in_db is None:
            text = f"ledger {what} {on_chain[0] if on_chain else '?'} (tx {tx}) is not mirrored"
        elif on_chain is None:
            text = f"mirrored {what} entry (tx {tx}) is not on the ledger"
        else:
            text = f"mirrored {what} {in_db[0]} (tx {tx}) differs from the ledger's {on_chain[0]}"
        report.differences.append(
            Difference(
                "entry",
                estate_id,
                "",
                "",
                expected,
                actual,
                f"estate {estate_id}: {text} (expected {expected} fen, found {actual} fen)",
            )
        )
