"""Who decides and by what majority: Civil Code Article 278, with the Supreme People's
Court's rule for counting owners.

《中华人民共和国民法典》第二百七十八条 下列事项由业主共同决定：
（一）制定和修改业主大会议事规则；（二）制定和修改管理规约；
（三）选举业主委员会或者更换业主委员会成员；（四）选聘和解聘物业服务企业或者其他管理人；
（五）使用建筑物及其附属设施的维修资金；（六）筹集建筑物及其附属设施的维修资金；
（七）改建、重建建筑物及其附属设施；（八）改变共有部分的用途或者利用共有部分从事经营活动；
（九）有关共有和共同管理权利的其他重大事项。
业主共同决定事项，应当由专有部分面积占比三分之二以上的业主且人数占比三分之二以上的业主参与表决。
决定前款第六项至第八项规定的事项，应当经参与表决专有部分面积四分之三以上的业主且参与表决人数
四分之三以上的业主同意。决定前款其他事项，应当经参与表决专有部分面积过半数的业主且参与表决人数
过半数的业主同意。

Article 1259: "以上"、"以下"、"以内"、"届满"，包括本数 — "at least" includes the bound;
"过半数" (more than half) does not. All comparisons here are exact integer ones.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

__all__ = ["Decision", "MatterType", "Totals", "decide", "head_groups"]


class MatterType(enum.StrEnum):
    """The matters of Article 278, paragraph 1, numbered as the article numbers them."""

    RULES_OF_PROCEDURE = "rules_of_procedure"  # (一) 业主大会议事规则
    MANAGEMENT_STATUTE = "management_statute"  # (二) 管理规约
    COMMITTEE = "committee"  # (三) 选举或更换业主委员会
    PROPERTY_MANAGER = "property_manager"  # (四) 选聘和解聘物业服务企业
    FUND_USE = "fund_use"  # (五) 使用维修资金
    FUND_RAISING = "fund_raising"  # (六) 筹集维修资金
    REBUILDING = "rebuilding"  # (七) 改建、重建
    COMMON_PARTS_USE = "common_parts_use"  # (八) 改变共有部分用途或经营
    OTHER_MAJOR = "other_major"  # (九) 其他重大事项


MATTER_LABELS: dict[MatterType, tuple[str, str]] = {
    MatterType.RULES_OF_PROCEDURE: ("制定和修改业主大会议事规则", "rules of procedure"),
    MatterType.MANAGEMENT_STATUTE: ("制定和修改管理规约", "management statute"),
    MatterType.COMMITTEE: ("选举或更换业主委员会成员", "owners' committee"),
    MatterType.PROPERTY_MANAGER: ("选聘和解聘物业服务企业", "property manager"),
    MatterType.FUND_USE: ("使用维修资金", "use of the maintenance fund"),
    MatterType.FUND_RAISING: ("筹集维修资金", "raising the maintenance fund"),
    MatterType.REBUILDING: ("改建、重建建筑物及其附属设施", "rebuilding"),
    MatterType.COMMON_PARTS_USE: ("改变共有部分用途或从事经营", "use of common parts"),
    MatterType.OTHER_MAJOR: ("其他重大事项", "other major matter"),
}

#: Article 278 paragraph 2: matters (6) to (8) need three quarters of the participants.
SUPERMAJORITY_MATTERS = frozenset(
    {MatterType.FUND_RAISING, MatterType.REBUILDING, MatterType.COMMON_PARTS_USE}
)
QUORUM = Fraction(2, 3)
SUPERMAJORITY = Fraction(3, 4)
MAJORITY = Fraction(1, 2)


@dataclass(frozen=True, slots=True)
class Totals:
    """Area (in hundredths of m²) and heads: of the electorate, of participants, agreeing."""

    eligible_area: int
    eligible_heads: int
    participating_area: int
    participating_heads: int
    agree_area: int
    agree_heads: int


@dataclass(frozen=True, slots=True)
class Decision:
    quorum_met: bool
    approved: bool
    rule: str

    def to_json(self) -> dict[str, object]:
        return {"quorum_met": self.quorum_met, "approved": self.approved, "rule": self.rule}


def _at_least(part: int, whole: int, ratio: Fraction) -> bool:
    """``part/whole ≥ ratio`` (以上 includes the bound, Art. 1259)."""
    return whole > 0 and part * ratio.denominator >= whole * ratio.numerator


def _more_than(part: int, whole: int, ratio: Fraction) -> bool:
    """``part/whole > ratio`` (过半数: more than half)."""
    return whole > 0 and part * ratio.denominator > whole * ratio.numerator


def decide(matter: MatterType, totals: Totals) -> Decision:
    """Apply Article 278 to a tally.

    Paragraph 2: owners holding at least two thirds of the exclusive area and at
    least two thirds of the headcount must take part. Paragraph 2, second
    sentence: matters (6)-(8) pass with at least three quarters of the
    participating area and of the participating headcount; every other matter
    (using the fund, matter (5), included) with more than half of each.
    """
    quorum = _at_least(totals.participating_area, totals.eligible_area, QUORUM) and _at_least(
        totals.participating_heads, totals.eligible_heads, QUORUM
    )
    if matter in SUPERMAJORITY_MATTERS:
        rule = "民法典第278条：参与面积、人数均≥2/3；同意面积、人数均≥3/4 (Civil Code art. 278)"
        passed = _at_least(
            totals.agree_area, totals.participating_area, SUPERMAJORITY
        ) and _at_least(totals.agree_heads, totals.participating_heads, SUPERMAJORITY)
    else:
        rule = "民法典第278条：参与面积、人数均≥2/3；同意面积、人数均过半数 (Civil Code art. 278)"
        passed = _more_than(totals.agree_area, totals.participating_area, MAJORITY) and _more_than(
            totals.agree_heads, totals.participating_heads, MAJORITY
        )
    return Decision(quorum_met=quorum, approved=quorum and passed, rule=rule)


def head_groups(
    units: Iterable[str], owners_of: dict[str, set[str]], developers: set[str]
) -> dict[str, str]:
    """Which head each unit's vote counts towards: unit id -> group id.

    《最高人民法院关于审理建筑物区分所有权纠纷案件具体应用法律若干问题的解释》第九条：
    业主人数按照专有部分的数量计算，一个专有部分按一人计算。但建设单位尚未出售和虽已出售但
    尚未交付的部分，以及同一买受人拥有一个以上专有部分的，按一人计算。

    So a unit is one head, except that all units the developer holds are one head,
    and units held by the same buyer are one head (units linked through a shared
    owner fall into one group). A unit with no registered owner is its own head.
    """
    units = list(units)
    parent: dict[str, str] = {u: u for u in units}

    def find(u: str) -> str:
        while parent[u] != u:
            parent[u] = parent[parent[u]]
            u = parent[u]
        return u

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    first_of_owner: dict[str, str] = {}
    developer_unit: str | None = None
    for unit in units:
        for owner in sorted(owners_of.get(unit, ())):
            key = "developer" if owner in developers else owner
            if key == "developer":
                if developer_unit is None:
                    developer_unit = unit
                union(developer_unit, unit)
            elif owner in first_of_owner:
                union(first_of_owner[owner], unit)
            else:
                first_of_owner[owner] = unit
    return {u: find(u) for u in units}
