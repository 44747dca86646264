"""What the explorer's pages show, as plain functions over a node client, the event index
and the names: listings (each also exportable as CSV), details, and per-estate and
per-firm series for the charts. No HTTP here; the pages and the tests call these.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from wuye.ledger.explorer.client import LedgerClient, NodeError, qty
from wuye.ledger.explorer.decoders import (
    CATEGORIES,
    DecodedEvent,
    decode_log,
    period_start,
    period_text,
    yuan,
)
from wuye.ledger.explorer.index import EventFilter, EventIndex
from wuye.ledger.explorer.names import Names, short

HASH_RE = re.compile(r"^0x[0-9a-fA-F]{64}$")
ADDRESS_RE = re.compile(r"^0x[0-9a-fA-F]{40}$")

# -- listings ------------------------------------------------------------------------


@dataclass
class Column:
    key: str
    zh: str
    en: str


@dataclass
class Table:
    """A listing: columns, rows of plain values, and optional links per cell."""

    name: str
    columns: list[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, str]] = field(default_factory=list)
    total: int | None = None

    def add(self, row: dict[str, Any], links: dict[str, str] | None = None) -> None:
        self.rows.append(row)
        self.links.append(links or {})

    def to_csv(self) -> str:
        """The listing as CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese)."""
        out = io.StringIO()
        out.write("\ufeff")
        writer = csv.writer(out)
        writer.writerow([f"{c.zh} {c.en}" for c in self.columns])
        for row in self.rows:
            writer.writerow([row.get(c.key, "") for c in self.columns])
        return out.getvalue()


def iso(ts: int | None) -> str:
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def parse_day(text: str | None, end: bool = False) -> int | None:
    """'2026-11-25' (or a datetime) as unix time; ``end`` gives the next day's start."""
    if not text:
        return None
    text = text.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            if end:
                moment += timedelta(days=1)
        else:
            moment = datetime.fromisoformat(text)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
    except ValueError as exc:
        raise ValueError(f"not a date: {text!r} (use YYYY-MM-DD)") from exc
    return int(moment.timestamp())


# -- overview, blocks, transactions -------------------------------------------------------


def overview(*, client: LedgerClient) -> dict[str, Any]:
    head = client.head()
    return {
        "chain_id": client.chain_id(),
        "head": head,
        "client": client.client_version(),
        "validators": client.validators(),
        "head_time": iso(client.timestamp(head)),
    }


BLOCK_COLUMNS = [
    Column("number", "高度", "Number"),
    Column("time", "时间 (UTC)", "Time (UTC)"),
    Column("hash", "区块哈希", "Block hash"),
    Column("transactions", "交易数", "Transactions"),
    Column("seals", "签名数", "Seals"),
    Column("gas_used", "燃料", "Gas used"),
]


def blocks_table(
    *,
    client: LedgerClient,
    page: int = 1,
    per_page: int = 25,
    since: int | None = None,
    until: int | None = None,
    everything: bool = False,
) -> Table:
    """Blocks newest first, optionally within a time range; ``everything`` for CSV."""
    head = client.head()
    first = client.block_at_time(since, head) if since is not None else 0
    last = client.block_at_time(until, head) - 1 if until is not None else head
    numbers = list(range(last, first - 1, -1))
    table = Table("blocks", BLOCK_COLUMNS, total=len(numbers))
    if not everything:
        numbers = numbers[(page - 1) * per_page : page * per_page]
    for number in numbers:
        block = client.block(number)
        if block is None:
            continue
        sealed = client.seals(number) if number else None
        table.add(
            {
                "number": number,
                "time": iso(qty(block["timestamp"])),
                "hash": block["hash"],
                "transactions": len(block["transactions"]),
                "seals": len(sealed["seals"]) if sealed else 0,
                "gas_used": qty(block["gasUsed"]),
            },
            {"number": f"/explorer/blocks/{number}"},
        )
    return table


def block_detail(*, client: LedgerClient, number: int) -> dict[str, Any] | None:
    block = client.block(number, True)
    if block is None:
        return None
    sealed = client.seals(number) if number else None
    validators: list[dict[str, str]] = []
    if number:
        try:
            validators = client.validators(number)
        except NodeError:
            validators = []
    keys = {v["sm2PublicKey"].lower(): v["account"] for v in validators}
    seals = [
        {
            "validator": s["validator"],
            "account": keys.get(s["validator"].lower(), ""),
            "signature": s["signature"],
        }
        for s in (sealed or {}).get("seals", [])
    ]
    transactions = Table(
        f"block-{number}-transactions",
        [
            Column("index", "序号", "Index"),
            Column("hash", "交易哈希", "Transaction hash"),
            Column("from", "发送方", "From"),
            Column("to", "接收方", "To"),
        ],
    )
    for i, tx in enumerate(block["transactions"]):
        transactions.add(
            {"index": i, "hash": tx["hash"], "from": tx["from"], "to": tx.get("to") or ""},
            {"hash": f"/explorer/tx/{tx['hash']}"},
        )
    seal_table = Table(
        f"block-{number}-seals",
        [
            Column("account", "验证节点账户", "Validator account"),
            Column("validator", "SM2 公钥", "SM2 public key"),
            Column("signature", "SM2 签名", "SM2 signature"),
        ],
    )
    for seal in seals:
        seal_table.add(seal)
    return {
        "number": number,
        "block": block,
        "transactions": transactions,
        "seal_table": seal_table,
        "time": iso(qty(block["timestamp"])),
        "digest": (sealed or {}).get("digest", ""),
        "seals": seals,
        "validators": validators,
        "quorum": (2 * len(validators)) // 3 + 1 if validators else 0,
    }


def transaction_detail(
    *, client: LedgerClient, tx_hash: str, names: Names
) -> dict[str, Any] | None:
    tx = client.transaction(tx_hash)
    if tx is None:
        return None
    receipt = client.receipt(tx_hash)
    proof = client.proof(tx_hash)
    number = qty(tx["blockNumber"]) if tx.get("blockNumber") else None
    timestamp = client.timestamp(number) if number is not None else None
    events = [decode_log(log, names, timestamp or 0) for log in (receipt or {}).get("logs", [])]
    proof_check = None
    if proof is not None and number:
        from wuye.ledger.proofs import ProofError, verify_proof

        try:
            validators = [v["sm2PublicKey"] for v in client.validators(number)]
            verify_proof(proof, validators)
            proof_check = ""
        except (ProofError, NodeError, ValueError) as exc:
            proof_check = str(exc) or type(exc).__name__
    return {
        "tx": tx,
        "receipt": receipt,
        "proof": proof,
        "proof_check": proof_check,
        "time": iso(timestamp),
        "number": number,
        "events": events,
    }


# -- events and search ----------------------------------------------------------------

EVENT_COLUMNS = [
    Column("time", "区块时间 (UTC)", "Block time (UTC)"),
    Column("period", "所属期间", "Booking period"),
    Column("block", "区块", "Block"),
    Column("category", "类别", "Category"),
    Column("event", "事件", "Event"),
    Column("zh", "含义", "Meaning (中文)"),
    Column("en", "Meaning", "Meaning (English)"),
    Column("estate", "小区", "Estate"),
    Column("amount_yuan", "金额", "Amount"),
    Column("tx_hash", "交易", "Transaction"),
]
CATEGORY_LABELS = {key: f"{zh} {en}" for key, zh, en in CATEGORIES}


def events_table(
    *, events: Iterable[DecodedEvent], names: Names, limit: int | None = None
) -> Table:
    """Events newest first; ``limit`` cuts the page (CSV exports pass None)."""
    ordered = sorted(events, key=lambda e: (e.block, e.log_index), reverse=True)
    table = Table("events", EVENT_COLUMNS, total=len(ordered))
    for event in ordered[:limit] if limit else ordered:
        zh, en = event.text(names)
        m = event.meaning
        table.add(
            {
                "time": iso(event.timestamp),
                "period": period_text(m.period) if m.period is not None else "",
                "block": event.block,
                "category": CATEGORY_LABELS.get(m.category, m.category),
                "event": f"{event.contract}.{event.name}",
                "zh": zh,
                "en": en,
                "estate": names.label(event.estate) if event.estate else "",
                "amount_yuan": yuan(m.amount_fen) if m.amount_fen is not None else "",
                "tx_hash": event.tx_hash,
            },
            {
                "block": f"/explorer/blocks/{event.block}",
                "tx_hash": f"/explorer/tx/{event.tx_hash}",
                **({"estate": f"/explorer/estates/{event.estate}"} if event.estate else {}),
            },
        )
    return table


def resolve_refs(text: str, names: Names, kinds: tuple[str, ...]) -> set[str]:
    """A 0x reference as is, else the references whose database name or id matches."""
    text = (text or "").strip()
    if not text:
        return set()
    if HASH_RE.match(text):
        return {text.lower()}
    found = set(names.search(text, kinds))
    return found or {"0x" + b"no-match".hex()}  # a name nothing has matches nothing


def build_filter(
    *,
    names: Names,
    q: str = "",
    estate: str = "",
    unit: str = "",
    firm: str = "",
    category: str = "",
    since: str = "",
    until: str = "",
    from_block: str = "",
    to_block: str = "",
) -> EventFilter:
    """The filter a search form asks for; ``q`` is a hash, an address, a block or a name."""
    f = EventFilter(
        estates=resolve_refs(estate, names, ("estate",)),
        units=resolve_refs(unit, names, ("unit",)),
        subjects=resolve_refs(firm, names, ("firm", "staff")),
        category=category if category in CATEGORY_LABELS else "",
        since=parse_day(since),
        until=parse_day(until, end=True),
        from_block=int(from_block) if from_block.strip() else None,
        to_block=int(to_block) if to_block.strip() else None,
    )
    q = (q or "").strip()
    if HASH_RE.match(q):
        f.refs = {q.lower()}
    elif ADDRESS_RE.match(q):
        f.address = q
    elif q.isdigit():
        f.from_block = f.to_block = int(q)
    elif q:
        f.refs = resolve_refs(q, names, ("estate", "unit", "firm", "staff"))
    return f


def search_target(*, client: LedgerClient, q: str) -> str | None:
    """Where a search box entry leads straight to: a transaction or a block, if it is one."""
    q = (q or "").strip()
    if q.isdigit():
        return f"/explorer/blocks/{int(q)}"
    if HASH_RE.match(q):
        if client.transaction(q) is not None:
            return f"/explorer/tx/{q}"
        block = client.block_by_hash(q)
        if block is not None:
            return f"/explorer/blocks/{qty(block['number'])}"
    return None


# -- per estate ------------------------------------------------------------------------


def month_of(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m")


def _months_between(first: str, last: str) -> list[str]:
    y, m = int(first[:4]), int(first[5:])
    out = []
    while f"{y:04d}-{m:02d}" <= last:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def estates_table(*, index: EventIndex, names: Names) -> Table:
    """Every estate the ledger or the database knows, with its fund balance and votes."""
    table = Table(
        "estates",
        [
            Column("name", "小区", "Estate"),
            Column("ref", "链上标识", "Ledger reference"),
            Column("balance_yuan", "维修资金余额", "Fund balance"),
            Column("movements", "资金流水", "Fund movements"),
            Column("ballots", "表决", "Ballots"),
        ],
    )
    balance: dict[str, int] = {}
    movements: dict[str, int] = defaultdict(int)
    ballots: dict[str, set[int]] = defaultdict(set)
    for event in index.snapshot():
        m, ref = event.meaning, (event.estate or "").lower()
        if not ref:
            continue
        if m.balance_fen is not None:
            balance[ref] = m.balance_fen
        if m.direction:
            movements[ref] += 1
        if m.category == "vote" and m.ballot is not None:
            ballots[ref].add(m.ballot)
    refs = set(balance) | set(ballots) | set(names.of_kind("estate"))
    for ref in sorted(refs, key=lambda r: (names.named(r) is None, names.label(r))):
        named = names.named(ref)
        table.add(
            {
                "name": named.name if named else short(ref),
                "ref": ref,
                "balance_yuan": yuan(balance.get(ref, 0)),
                "movements": movements.get(ref, 0),
                "ballots": len(ballots.get(ref, ())),
            },
            {"name": f"/explorer/estates/{ref}"},
        )
    return table


@dataclass
class EstateView:
    ref: str
    name: str
    balance: list[tuple[int, int]]
    months: list[str]
    inflows: list[int]
    outflows: list[int]
    common_months: list[str]
    common_income: list[int]
    common_expense: list[int]
    movements: Table
    votes: Table
    firms: dict[str, list[tuple[int, int]]]


def estate_view(*, index: EventIndex, names: Names, ref: str) -> EstateView:
    ref = ref.lower()
    events = EventFilter(estates={ref}).apply(index.snapshot(), names)
    balance: list[tuple[int, int]] = []
    flows: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    movements = Table(
        "movements",
        [
            Column("period", "所属期间", "Booking period"),
            Column("kind", "类型", "Kind"),
            Column("zh", "说明", "What"),
            Column("in_yuan", "收入", "In"),
            Column("out_yuan", "支出", "Out"),
            Column("balance_yuan", "余额", "Balance"),
            Column("tx_hash", "交易", "Transaction"),
        ],
    )
    common: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for event in events:
        m = event.meaning
        if m.balance_fen is not None:
            balance.append((event.when, m.balance_fen))
        if m.direction and m.amount_fen is not None:
            flows[month_of(event.when)][0 if m.direction > 0 else 1] += m.amount_fen
        side = int(m.extra.get("common", 0))
        if side and m.amount_fen is not None:
            common[month_of(event.when)][0 if side > 0 else 1] += m.amount_fen
        if m.direction or m.balance_fen is not None or side:
            zh, en = event.text(names)
            money_in = m.direction > 0 or side > 0
            money_out = m.direction < 0 or side < 0
            movements.add(
                {
                    "period": period_text(m.period)
                    if m.period is not None
                    else month_of(event.when),
                    "kind": f"{event.contract}.{event.name}",
                    "zh": zh,
                    "in_yuan": yuan(m.amount_fen) if money_in and m.amount_fen else "",
                    "out_yuan": yuan(m.amount_fen) if money_out and m.amount_fen else "",
                    "balance_yuan": yuan(m.balance_fen) if m.balance_fen is not None else "",
                    "tx_hash": event.tx_hash,
                },
                {"tx_hash": f"/explorer/tx/{event.tx_hash}"},
            )
    months = _months_between(min(flows), max(flows)) if flows else []
    common_months = _months_between(min(common), max(common)) if common else []
    named = names.named(ref)
    firms: dict[str, list[tuple[int, int]]] = {}
    firm = names.firm_of_estate.get(ref)
    if firm:
        firms[names.label(firm)] = credit_series(index=index, subject=firm)
    return EstateView(
        ref=ref,
        name=named.name if named else short(ref),
        balance=balance,
        months=months,
        inflows=[flows[m][0] for m in months],
        outflows=[flows[m][1] for m in months],
        common_months=common_months,
        common_income=[common[m][0] for m in common_months],
        common_expense=[common[m][1] for m in common_months],
        movements=movements,
        votes=votes_table(events=events, names=names),
        firms=firms,
    )


VOTE_COLUMNS = [
    Column("ballot", "表决", "Ballot"),
    Column("registered", "登记时间 (UTC)", "Registered (UTC)"),
    Column("subject", "事项摘要", "Subject digest"),
    Column("spend_limit_yuan", "资金上限", "Spending limit"),
    Column("cast", "已投票户数", "Votes cast"),
    Column("outcome", "结果", "Outcome"),
    Column("yes", "同意（户/面积）", "Yes (units / area)"),
    Column("no", "反对（户/面积）", "No (units / area)"),
    Column("project", "授权的维修项目", "Repair project authorised"),
]


def votes_table(*, events: Iterable[DecodedEvent], names: Names) -> Table:
    """One row per ballot: registration, votes cast, and the recorded outcome."""
    from wuye.ledger.explorer.decoders import area_m2

    rows: dict[tuple[str, int], dict[str, Any]] = {}
    casts: dict[tuple[str, int], set[str]] = defaultdict(set)
    projects: dict[int, str] = {}
    for event in events:
        m = event.meaning
        if event.name in ("ProjectApproved", "EmergencyRatified") and m.project is not None:
            named = names.named(event.project_ref)
            label = f"#{m.project}" + (f" {named.name}" if named else "")
            projects[int(event.args["ballot_id"])] = label
        if m.category != "vote" or m.ballot is None or event.contract != "Ballots":
            continue
        key = (event.address.lower(), m.ballot)
        row = rows.setdefault(
            key,
            {
                "ballot": m.ballot,
                "registered": "",
                "subject": "",
                "spend_limit_yuan": "",
                "cast": 0,
                "outcome": "进行中 in progress",
                "yes": "",
                "no": "",
                "_tx": event.tx_hash,
            },
        )
        a = event.args
        if event.name == "BallotRegistered":
            row.update(
                registered=iso(event.when),
                subject=a["subject"],
                spend_limit_yuan=yuan(a["spend_limit_fen"]) if a["spend_limit_fen"] else "",
                _tx=event.tx_hash,
            )
        elif event.name == "VoteCommitted":
            casts[key].add(a["unit"])
        elif event.name == "BallotClosed":
            row["cast"] = int(a["cast_count"])
            row["outcome"] = "已截止 closed"
        elif event.name == "ResultRecorded":
            row["outcome"] = "通过 approved" if a["approved"] else "未通过 not approved"
            row["yes"] = f"{a['yes_units']} / {area_m2(a['yes_area'])}"
            row["no"] = f"{a['no_units']} / {area_m2(a['no_area'])}"
    table = Table("votes", VOTE_COLUMNS)
    for key, row in sorted(rows.items(), key=lambda kv: kv[0][1]):
        row["cast"] = max(row["cast"], len(casts[key]))
        row["project"] = projects.get(key[1], "")
        tx = row.pop("_tx")
        table.add(row, {"ballot": f"/explorer/tx/{tx}"})
    return table


# -- credit ------------------------------------------------------------------------------


def credit_series(*, index: EventIndex, subject: str) -> list[tuple[int, int]]:
    """A subject's score over time: each month's published score plus regulators'
    adjustments, or (older events) the running score after each rating."""
    subject = subject.lower()
    published: dict[int, int] = {}
    adjusted: dict[int, int] = defaultdict(int)
    running: list[tuple[int, int]] = []
    for event in index.snapshot():
        m = event.meaning
        if m.category != "credit" or (m.subject or "").lower() != subject:
            continue
        if event.name == "ScorePublished" and m.period is not None and m.score is not None:
            published[m.period] = m.score
        elif event.name == "ScoreAdjusted" and m.period is not None:
            adjusted[m.period] += int(m.extra.get("delta", 0))
        elif m.score is not None:
            running.append((event.when, m.score))
    points = [(period_start(p), s + adjusted.get(p, 0)) for p, s in sorted(published.items())]
    return points + running if points else running


def firms_table(*, index: EventIndex, names: Names) -> Table:
    """Every rated subject with its latest score."""
    table = Table(
        "credit",
        [
            Column("name", "主体", "Subject"),
            Column("kind", "类型", "Kind"),
            Column("ref", "链上标识", "Ledger reference"),
            Column("latest", "最新得分", "Latest score"),
            Column("period", "期间", "Period"),
            Column("entries", "记录数", "Entries"),
        ],
    )
    subjects: dict[str, dict[str, Any]] = {}
    for event in index.snapshot():
        m = event.meaning
        if m.category != "credit" or not m.subject:
            continue
        row = subjects.setdefault(m.subject.lower(), {"entries": 0, "period": ""})
        row["entries"] += 1
        kind = event.args.get("kind")
        if kind is not None:
            row["kind"] = "企业 firm" if int(kind) == 1 else "从业人员 staff"
        if m.period is not None:
            row["period"] = max(row["period"], period_text(m.period))
    for ref, row in sorted(subjects.items(), key=lambda kv: names.label(kv[0])):
        series = credit_series(index=index, subject=ref)
        named = names.named(ref)
        table.add(
            {
                "name": named.name if named else short(ref),
                "kind": row.get("kind", ""),
                "ref": ref,
                "latest": series[-1][1] if series else "",
                "period": row["period"],
                "entries": row["entries"],
            },
            {"name": f"/explorer/firms/{ref}"},
        )
    return table
