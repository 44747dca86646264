"""Events of the ledger's contracts decoded into what they mean, in Chinese and English.

One table maps each event's topic0 (keccak of its signature) to its ABI entry and to a
small function that says what the event means. The ABIs come from the contracts
themselves (``wuye.ledger.contracts`` and the votes' ``ElectionRecord``), so a changed
contract changes the decoding with it; a meaning is added by registering one function
with :func:`describes`, never by a branch in the decoding path (the py-evm habit: one
registry, small entries). Events without a registered meaning still decode, generically.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import keccak, to_checksum_address

from wuye.ledger.explorer.names import Names, short

#: Categories of meaning, for filters and colours: (key, 中文, English).
CATEGORIES = (
    ("vote", "业主表决", "Owners' votes"),
    ("fund", "维修资金", "Maintenance fund"),
    ("income", "公共收益", "Common-part income"),
    ("credit", "信用评价", "Credit ratings"),
    ("governance", "治理", "Governance"),
    ("other", "其他", "Other"),
)


@dataclass
class Meaning:
    """What one event means: a sentence in each language and the references it touches.

    ``estate``, ``unit`` and ``subject`` are 0x-hex references (SM3 digests) as the
    contracts store them; ``ballot`` and ``project`` link an event to the estate
    named by an earlier event (see :class:`wuye.ledger.explorer.index.EventIndex`).
    """

    category: str
    zh: str
    en: str
    estate: str | None = None
    unit: str | None = None
    subject: str | None = None
    ballot: int | None = None
    project: int | None = None
    amount_fen: int | None = None
    direction: int = 0  # +1 money in, -1 money out of a fund, 0 neither
    balance_fen: int | None = None
    score: int | None = None
    period: int | None = None
    at: int | None = None  # when it happened by the event's own account (unix time), if it says
    extra: dict[str, Any] = field(default_factory=dict)


Args = dict[str, Any]
Describer = Callable[[Args, Names], Meaning]

#: (contract, event) -> the function that says what it means.
DESCRIBERS: dict[tuple[str, str], Describer] = {}


def describes(contract: str, event: str) -> Callable[[Describer], Describer]:
    """Register the meaning of ``contract``'s event ``event``."""

    def register(fn: Describer) -> Describer:
        DESCRIBERS[(contract, event)] = fn
        return fn

    return register


# -- formatting -------------------------------------------------------------------


def yuan(fen: int) -> str:
    """Integer fen as yuan text, without floats: 123456 -> '¥1,234.56'."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}¥{whole:,}.{cents:02d}"


def area_m2(hundredths: int) -> str:
    whole, rest = divmod(int(hundredths), 100)
    return f"{whole:,}.{rest:02d} m²"


def period_text(period: int) -> str:
    """202610 -> '2026-10'."""
    return f"{period // 100}-{period % 100:02d}"


def _text32(value: str) -> str:
    """A bytes32 that may hold short UTF-8 text (a memo): the text, else short hex."""
    raw = bytes.fromhex(value.removeprefix("0x")).rstrip(b"\0")
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        return short(value)
    return text if text and text.isprintable() else short(value)


# -- the ABI table -----------------------------------------------------------------


def _abi_type(item: dict[str, Any]) -> str:
    kind = item["type"]
    if kind.startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in item["components"])
        return f"({inner}){kind[5:]}"
    return kind


def _plain(kind: str, value: Any) -> Any:
    """ABI values as JSON-friendly Python: bytes as 0x-hex, addresses checksummed."""
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if kind == "address":
        return checksum(value)
    if isinstance(value, tuple | list):
        return [_plain("", v) for v in value]
    return value


@lru_cache(maxsize=4096)
def checksum(address: str | bytes) -> str:
    return to_checksum_address(address)


def _topic_value(kind: str, raw: bytes) -> Any:
    """An indexed argument from its 32-byte topic; dynamic types are kept as their hash."""
    if kind.startswith("uint"):
        return int.from_bytes(raw, "big")
    if kind.startswith("int"):
        return int.from_bytes(raw, "big", signed=True)
    if kind == "address":
        return checksum(raw[-20:])
    if kind == "bool":
        return raw[-1] == 1
    if kind.startswith("bytes") and kind[5:].isdigit():
        return "0x" + raw[: int(kind[5:])].hex()
    return "0x" + raw.hex()  # string, bytes, arrays, tuples: topics hold their keccak


@dataclass(frozen=True)
class EventSpec:
    """One event of one contract: how to decode its topics and data, and what it means."""

    contract: str
    name: str
    inputs: tuple[tuple[str, str, bool], ...]  # (name, abi type, indexed)
    describe: Describer | None

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(t for _, t, _ in self.inputs)})"

    @property
    def topic0(self) -> str:
        return "0x" + keccak(text=self.signature).hex()

    def decode(self, topics: list[str], data: str) -> Args:
        args: Args = {}
        indexed = [i for i in self.inputs if i[2]]
        for (name, kind, _), topic in zip(indexed, topics[1:], strict=False):
            args[name] = _topic_value(kind, bytes.fromhex(topic.removeprefix("0x")))
        rest = [i for i in self.inputs if not i[2]]
        if not rest:
            return args
        values = abi_decode([t for _, t, _ in rest], bytes.fromhex(data.removeprefix("0x")))
        for (name, kind, _), value in zip(rest, values, strict=True):
            args[name] = _plain(kind, value)
        return args


def contract_abis() -> dict[str, list[dict[str, Any]]]:
    """The ABI of every contract the ledger's platform deploys, by contract name."""
    from wuye.ledger import contracts
    from wuye.ledger.votes import contracts as vote_contracts

    abis = {name: contracts.load(name)[0] for name in contracts.NAMES}
    abis.update({name: vote_contracts.load(name)[0] for name in vote_contracts.NAMES})
    return abis


@cache
def event_table() -> dict[str, EventSpec]:
    """topic0 -> EventSpec for every event of every contract (the first contract wins)."""
    table: dict[str, EventSpec] = {}
    for contract, abi in contract_abis().items():
        for item in abi:
            if item.get("type") != "event" or item.get("anonymous"):
                continue
            spec = EventSpec(
                contract=contract,
                name=item["name"],
                inputs=tuple(
                    (i["name"], _abi_type(i), bool(i.get("indexed"))) for i in item["inputs"]
                ),
                describe=DESCRIBERS.get((contract, item["name"])),
            )
            table.setdefault(spec.topic0, spec)
    return table


@dataclass
class DecodedEvent:
    """One log of the ledger, decoded; ``estate`` is filled from linked events by the index."""

    block: int
    log_index: int
    tx_hash: str
    address: str
    timestamp: int
    topic0: str
    contract: str
    name: str
    args: Args
    meaning: Meaning
    estate: str | None = None
    project_ref: str | None = None  # the repair project's reference, linked by the index

    def __post_init__(self) -> None:
        if self.estate is None:
            self.estate = self.meaning.estate
        if self.project_ref is None:
            self.project_ref = self.meaning.extra.get("project_ref")

    @property
    def category(self) -> str:
        return self.meaning.category

    @property
    def when(self) -> int:
        """The event's own date if it carries one, else its block's timestamp."""
        return self.meaning.at if self.meaning.at is not None else self.timestamp

    def text(self, names: Names) -> tuple[str, str]:
        """(中文, English) with the names ``names`` knows (the index decodes without names)."""
        spec = event_table().get(self.topic0)
        if spec is None or spec.describe is None or not names.refs:
            return self.meaning.zh, self.meaning.en
        meaning = spec.describe(self.args, names)
        project = names.named(self.project_ref)
        if project is not None and "project_ref" not in self.meaning.extra:
            return (
                f"{meaning.zh}（项目：{project.name}）",
                f"{meaning.en} (project: {project.name})",
            )
        return meaning.zh, meaning.en


def _generic(contract: str, name: str, args: Args) -> Meaning:
    shown = ", ".join(f"{k}={short(v) if isinstance(v, str) else v}" for k, v in args.items())
    return Meaning("other", f"{contract}.{name}（{shown}）", f"{contract}.{name}({shown})")


def decode_log(log: dict[str, Any], names: Names, timestamp: int = 0) -> DecodedEvent:
    """Decode one raw ``eth_getLogs`` entry; unknown events are kept as raw data."""
    topics = log.get("topics") or []
    spec = event_table().get(topics[0].lower()) if topics else None
    base = {
        "topic0": topics[0].lower() if topics else "",
        "block": int(log["blockNumber"], 16),
        "log_index": int(log["logIndex"], 16),
        "tx_hash": log["transactionHash"],
        "address": checksum(log["address"]),
        "timestamp": timestamp,
    }
    if spec is None:
        meaning = Meaning(
            "other",
            f"未知事件 topic0={short(topics[0]) if topics else '-'}",
            f"unknown event, {len(topics)} topics",
        )
        return DecodedEvent(
            contract="?", name="?", args={"data": log["data"]}, meaning=meaning, **base
        )
    try:
        args = spec.decode(topics, log["data"])
    except Exception as exc:  # noqa: BLE001 - a log that does not fit its ABI is shown as such
        meaning = Meaning("other", f"无法解码 {spec.name}: {exc}", f"cannot decode {spec.name}")
        return DecodedEvent(
            contract=spec.contract, name=spec.name, args={}, meaning=meaning, **base
        )
    describe = spec.describe
    meaning = describe(args, names) if describe else _generic(spec.contract, spec.name, args)
    return DecodedEvent(contract=spec.contract, name=spec.name, args=args, meaning=meaning, **base)


# -- Permissions and Validators: governance ------------------------------------------

ROLES = (
    (1, "交易", "sender"),
    (2, "管理员", "admin"),
    (4, "评级", "rater"),
    (8, "资金管理", "fund manager"),
    (16, "表决专员", "ballot officer"),
    (32, "监管", "regulator"),
)


def _roles(bits: int) -> tuple[str, str]:
    held = [(zh, en) for bit, zh, en in ROLES if bits & bit]
    if not held:
        return "无", "none"
    return "、".join(z for z, _ in held), ", ".join(e for _, e in held)


@describes("Permissions", "RolesChanged")
def _roles_changed(a: Args, n: Names) -> Meaning:
    zh, en = _roles(int(a["roles"]))
    who = n.account(a["account"])
    return Meaning(
        "governance",
        f"账户 {who} 的权限改为：{zh}（由 {n.account(a['changed_by'])}）",
        f"roles of {who} set to: {en} (by {n.account(a['changed_by'])})",
    )


@describes("Validators", "ChangeVoted")
def _validator_vote(a: Args, n: Names) -> Meaning:
    return Meaning(
        "governance",
        f"验证节点 {n.account(a['voter'])} 对变更 {short(a['proposal'])} 投票"
        f"（{a['votes']}/{a['needed']}）",
        f"validator {n.account(a['voter'])} voted for change {short(a['proposal'])} "
        f"({a['votes']} of {a['needed']} needed)",
    )


@describes("Validators", "ValidatorAdded")
def _validator_added(a: Args, n: Names) -> Meaning:
    return Meaning(
        "governance",
        f"新增验证节点 {n.account(a['account'])}（第 {a['epoch']} 届）",
        f"validator {n.account(a['account'])} added (epoch {a['epoch']})",
    )


@describes("Validators", "ValidatorRemoved")
def _validator_removed(a: Args, n: Names) -> Meaning:
    return Meaning(
        "governance",
        f"移除验证节点 {n.account(a['account'])}（第 {a['epoch']} 届）",
        f"validator {n.account(a['account'])} removed (epoch {a['epoch']})",
    )


# -- Ballots and ElectionRecord: owners' votes ---------------------------------------


@describes("Ballots", "BallotRegistered")
def _ballot_registered(a: Args, n: Names) -> Meaning:
    limit = int(a["spend_limit_fen"])
    money_zh = f"，动用资金上限 {yuan(limit)}" if limit else ""
    money_en = f", spending up to {yuan(limit)}" if limit else ""
    return Meaning(
        "vote",
        f"{n.estate(a['estate'])} 登记表决 #{a['ballot_id']}{money_zh}",
        f"ballot #{a['ballot_id']} registered for {n.estate(a['estate'])}{money_en}",
        estate=a["estate"],
        ballot=int(a["ballot_id"]),
        amount_fen=limit or None,
    )


@describes("Ballots", "UnitsAdded")
def _units_added(a: Args, n: Names) -> Meaning:
    return Meaning(
        "vote",
        f"表决 #{a['ballot_id']} 登记 {a['units']} 个专有部分（合计 {a['eligible_units']} 户，"
        f"{area_m2(a['eligible_area'])}）",
        f"ballot #{a['ballot_id']}: {a['units']} units on the roll "
        f"({a['eligible_units']} in all, {area_m2(a['eligible_area'])})",
        ballot=int(a["ballot_id"]),
    )


@describes("Ballots", "BallotOpened")
def _ballot_opened(a: Args, n: Names) -> Meaning:
    return Meaning(
        "vote",
        f"表决 #{a['ballot_id']} 开始投票",
        f"ballot #{a['ballot_id']} opened",
        ballot=int(a["ballot_id"]),
    )


@describes("Ballots", "VoteCommitted")
def _vote_cast(a: Args, n: Names) -> Meaning:
    return Meaning(
        "vote",
        f"{n.unit(a['unit'])} 在表决 #{a['ballot_id']} 中投票（承诺 {short(a['commitment'])}）",
        f"{n.unit(a['unit'])} cast a vote in ballot #{a['ballot_id']} "
        f"(commitment {short(a['commitment'])})",
        unit=a["unit"],
        ballot=int(a["ballot_id"]),
    )


@describes("Ballots", "BallotClosed")
def _ballot_closed(a: Args, n: Names) -> Meaning:
    return Meaning(
        "vote",
        f"表决 #{a['ballot_id']} 截止，共 {a['cast_count']} 票",
        f"ballot #{a['ballot_id']} closed with {a['cast_count']} votes cast",
        ballot=int(a["ballot_id"]),
    )


@describes("Ballots", "ResultRecorded")
def _ballot_result(a: Args, n: Names) -> Meaning:
    zh = "通过" if a["approved"] else "未通过"
    en = "approved" if a["approved"] else "not approved"
    return Meaning(
        "vote",
        f"表决 #{a['ballot_id']} 结果：{zh}（同意 {a['yes_units']} 户 {area_m2(a['yes_area'])}，"
        f"反对 {a['no_units']} 户 {area_m2(a['no_area'])}）",
        f"ballot #{a['ballot_id']} result: {en} (yes {a['yes_units']} units, "
        f"{area_m2(a['yes_area'])}; no {a['no_units']} units, {area_m2(a['no_area'])})",
        ballot=int(a["ballot_id"]),
        extra={"approved": bool(a["approved"])},
    )


RECORD_KINDS = {
    1: ("表决清单", "manifest"),
    2: ("选民名册", "unit roll"),
    3: ("计票结果", "tally"),
    4: ("投票凭证公钥清单", "voting credential list"),
}


@describes("ElectionRecord", "Published")
def _record_published(a: Args, n: Names) -> Meaning:
    zh, en = RECORD_KINDS.get(int(a["kind"]), ("记录", "record"))
    size = (len(a["data"]) - 2) // 2
    return Meaning(
        "vote",
        f"表决 #{a['ballot_id']} 公布{zh}（{size} 字节）",
        f"ballot #{a['ballot_id']}: {en} published ({size} bytes)",
        ballot=int(a["ballot_id"]),
    )


@describes("ElectionRecord", "BallotPublished")
def _encrypted_ballot(a: Args, n: Names) -> Meaning:
    return Meaning(
        "vote",
        f"{n.unit(a['unit'])} 的加密选票已公开（追踪码 {short(a['tracker'])}）",
        f"encrypted ballot of {n.unit(a['unit'])} published (tracker {short(a['tracker'])})",
        unit=a["unit"],
        ballot=int(a["ballot_id"]),
    )


# -- MaintenanceFund: 专项维修资金 ----------------------------------------------------

CREDIT_KINDS = {
    1: ("首次交存", "first deposit at purchase"),
    2: ("续筹", "top-up"),
    3: ("增值收益", "interest"),
    4: ("共有部分收益转入", "common-part income transferred in"),
}
COMMON_CATEGORIES = {
    1: ("停车", "parking"),
    2: ("广告", "advertising"),
    3: ("租赁", "leasing"),
    9: ("其他", "other"),
}


def period_start(period: int) -> int:
    """The first second (UTC) of a yyyymm booking month."""
    from datetime import UTC, datetime

    try:
        return int(datetime(period // 100, period % 100, 1, tzinfo=UTC).timestamp())
    except ValueError:
        return 0


@describes("MaintenanceFund", "UnitCredited")
def _unit_credited(a: Args, n: Names) -> Meaning:
    zh, en = CREDIT_KINDS.get(int(a["kind"]), ("入账", "credit"))
    return Meaning(
        "fund",
        f"{n.unit(a['unit'])} {zh} {yuan(a['amount_fen'])}（批次 #{a['batch_id']}），"
        f"分户余额 {yuan(a['unit_balance'])}",
        f"{n.unit(a['unit'])}: {en} {yuan(a['amount_fen'])} (batch #{a['batch_id']}); "
        f"unit balance {yuan(a['unit_balance'])}",
        estate=a["estate"],
        unit=a["unit"],
    )


@describes("MaintenanceFund", "BatchDeposited")
def _batch_deposited(a: Args, n: Names) -> Meaning:
    zh, en = CREDIT_KINDS.get(int(a["kind"]), ("入账", "credit"))
    period = int(a["period"])
    amount = int(a["amount_fen"])
    return Meaning(
        "fund",
        f"{n.estate(a['estate'])} {period_text(period)} 维修资金{zh} {yuan(amount)}"
        f"（{a['units']} 户），余额 {yuan(a['estate_balance'])}",
        f"{n.estate(a['estate'])} maintenance fund, {period_text(period)}: {en} {yuan(amount)} "
        f"from {a['units']} units; balance {yuan(a['estate_balance'])}",
        estate=a["estate"],
        amount_fen=amount,
        direction=+1,
        balance_fen=int(a["estate_balance"]),
        period=period,
        at=period_start(period),
        extra={"kind": int(a["kind"])},
    )


@describes("MaintenanceFund", "ProjectProposed")
def _project_proposed(a: Args, n: Names) -> Meaning:
    return Meaning(
        "fund",
        f"{n.estate(a['estate'])} 提出维修项目 #{a['project_id']} {n.label(a['ref'])}，"
        f"预算 {yuan(a['budget_fen'])}",
        f"{n.estate(a['estate'])} proposed repair project #{a['project_id']} "
        f"{n.label(a['ref'])}, budget {yuan(a['budget_fen'])}",
        estate=a["estate"],
        project=int(a["project_id"]),
        amount_fen=int(a["budget_fen"]),
        extra={"project_ref": a["ref"]},
    )


@describes("MaintenanceFund", "ShareAssigned")
def _share_assigned(a: Args, n: Names) -> Meaning:
    return Meaning(
        "fund",
        f"{n.unit(a['unit'])} 分摊维修项目 #{a['project_id']} 费用 {yuan(a['amount_fen'])}",
        f"{n.unit(a['unit'])} shares {yuan(a['amount_fen'])} of repair project #{a['project_id']}",
        unit=a["unit"],
        project=int(a["project_id"]),
    )


@describes("MaintenanceFund", "ProjectApproved")
def _project_approved(a: Args, n: Names) -> Meaning:
    return Meaning(
        "fund",
        f"{n.estate(a['estate'])} 维修项目 #{a['project_id']} 经业主表决 #{a['ballot_id']} 批准，"
        f"预算 {yuan(a['budget_fen'])}",
        f"{n.estate(a['estate'])} repair project #{a['project_id']} approved by owners' "
        f"ballot #{a['ballot_id']}, budget {yuan(a['budget_fen'])}",
        estate=a["estate"],
        project=int(a["project_id"]),
        amount_fen=int(a["budget_fen"]),
    )


@describes("MaintenanceFund", "EmergencyDeclared")
def _emergency(a: Args, n: Names) -> Meaning:
    evidence = len(a["evidence_sm3"])
    return Meaning(
        "fund",
        f"{n.estate(a['estate'])} 应急维修项目 #{a['project_id']}（未经事先表决），预算 "
        f"{yuan(a['budget_fen'])}；理由摘要 {short(a['reason_sm3'])}，证据 {evidence} 份",
        f"{n.estate(a['estate'])} emergency repair #{a['project_id']} without a prior vote, "
        f"budget {yuan(a['budget_fen'])}; reason digest {short(a['reason_sm3'])}, "
        f"{evidence} evidence files",
        estate=a["estate"],
        project=int(a["project_id"]),
        amount_fen=int(a["budget_fen"]),
        extra={"emergency": True},
    )


@describes("MaintenanceFund", "EmergencyRatified")
def _emergency_ratified(a: Args, n: Names) -> Meaning:
    return Meaning(
        "fund",
        f"{n.estate(a['estate'])} 应急维修项目 #{a['project_id']} "
        f"经业主表决 #{a['ballot_id']} 追认",
        f"{n.estate(a['estate'])} emergency repair #{a['project_id']} ratified by owners' "
        f"ballot #{a['ballot_id']}",
        estate=a["estate"],
        project=int(a["project_id"]),
    )


@describes("MaintenanceFund", "PaymentMade")
def _payment(a: Args, n: Names) -> Meaning:
    amount = int(a["amount_fen"])
    period = int(a["period"])
    return Meaning(
        "fund",
        f"{n.estate(a['estate'])} 维修项目 #{a['project_id']} 第 {a['stage']} 期付款 {yuan(amount)}"
        f" 给 {n.account(a['payee'])}（{period_text(period)}，发票摘要 "
        f"{short(a['invoice_sm3'])}），余额 {yuan(a['estate_balance'])}",
        f"{n.estate(a['estate'])} paid {yuan(amount)} to {n.account(a['payee'])} for stage "
        f"{a['stage']} of repair project #{a['project_id']} ({period_text(period)}, invoice "
        f"digest {short(a['invoice_sm3'])}); balance {yuan(a['estate_balance'])}",
        estate=a["estate"],
        project=int(a["project_id"]),
        amount_fen=amount,
        direction=-1,
        balance_fen=int(a["estate_balance"]),
        period=period,
        at=period_start(period),
    )


@describes("MaintenanceFund", "UnitDebited")
def _unit_debited(a: Args, n: Names) -> Meaning:
    return Meaning(
        "fund",
        f"{n.unit(a['unit'])} 支付维修项目 #{a['project_id']} 分摊 {yuan(a['amount_fen'])}"
        f"（付款 #{a['payment_id']}），分户余额 {yuan(a['unit_balance'])}",
        f"{n.unit(a['unit'])} pays {yuan(a['amount_fen'])} of its share of repair project "
        f"#{a['project_id']} (payment #{a['payment_id']}); unit balance "
        f"{yuan(a['unit_balance'])}",
        estate=a["estate"],
        unit=a["unit"],
        project=int(a["project_id"]),
    )


@describes("MaintenanceFund", "CommonPartRecorded")
def _common_part(a: Args, n: Names) -> Meaning:
    zh, en = COMMON_CATEGORIES.get(int(a["category"]), ("其他", "other"))
    period = int(a["period"])
    amount = int(a["amount_fen"])
    side_zh, side_en = ("收入", "income") if a["income"] else ("支出", "expense")
    return Meaning(
        "income",
        f"{n.estate(a['estate'])} {period_text(period)} 共有部分{zh}{side_zh} {yuan(amount)}，"
        f"待转入维修资金的净收益 {yuan(a['net_available'])}",
        f"{n.estate(a['estate'])} common-part {en} {side_en}, {period_text(period)}: "
        f"{yuan(amount)}; net income not yet transferred {yuan(a['net_available'])}",
        estate=a["estate"],
        amount_fen=amount,
        period=period,
        at=period_start(period),
        extra={"common": 1 if a["income"] else -1},
    )


# -- CreditRegistry: 信用评价 ----------------------------------------------------------

SUBJECT_KINDS = {1: ("企业", "firm"), 2: ("从业人员", "staff member")}


def _subject(kind: int) -> tuple[str, str]:
    return SUBJECT_KINDS.get(int(kind), ("主体", "subject"))


@describes("CreditRegistry", "Rated")
def _rated(a: Args, n: Names) -> Meaning:
    zh, en = _subject(a["kind"])
    return Meaning(
        "credit",
        f"{zh} {n.subject(a['subject'])} 信用分变动 {int(a['delta']):+d}，现为 {a['score']}",
        f"{en} {n.subject(a['subject'])} credit score {int(a['delta']):+d}, now {a['score']}",
        subject=a["subject"],
        score=int(a["score"]),
    )


@describes("CreditRegistry", "ScorePublished")
def _score_published(a: Args, n: Names) -> Meaning:
    zh, en = _subject(a["kind"])
    period = int(a["period"])
    return Meaning(
        "credit",
        f"公布{zh} {n.subject(a['subject'])} {period_text(period)} 信用评分 {a['score']}"
        f"（输入摘要 {short(a['inputs_digest'])}）",
        f"credit score of {en} {n.subject(a['subject'])} for {period_text(period)} published: "
        f"{a['score']} (inputs digest {short(a['inputs_digest'])})",
        subject=a["subject"],
        score=int(a["score"]),
        period=period,
        at=period_start(period),
    )


@describes("CreditRegistry", "ScoresPublished")
def _scores_published(a: Args, n: Names) -> Meaning:
    period = int(a["period"])
    return Meaning(
        "credit",
        f"{period_text(period)} 信用评分批次 #{a['batch_id']}：{a['count']} 个主体"
        f"（模型版本 {a['model_version']}）",
        f"credit scores for {period_text(period)}, batch #{a['batch_id']}: {a['count']} "
        f"subjects (model version {a['model_version']})",
        period=period,
    )


@describes("CreditRegistry", "ScoreAdjusted")
def _score_adjusted(a: Args, n: Names) -> Meaning:
    zh, en = _subject(a["kind"])
    period = int(a["period"])
    return Meaning(
        "credit",
        f"监管部门 {n.account(a['regulator'])} 调整{zh} {n.subject(a['subject'])} "
        f"{period_text(period)} 信用分 {int(a['delta']):+d}"
        f"（理由摘要 {short(a['reason_digest'])}）",
        f"regulator {n.account(a['regulator'])} adjusted the {period_text(period)} score of "
        f"{en} {n.subject(a['subject'])} by {int(a['delta']):+d} "
        f"(reason digest {short(a['reason_digest'])})",
        subject=a["subject"],
        period=period,
        at=period_start(period),
        extra={"delta": int(a["delta"])},
    )
