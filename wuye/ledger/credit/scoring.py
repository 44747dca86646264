"""The credit scoring model (信用评价模型): the one place its weights and formula live.

Everything here is a pure function of a subject's canonical inputs (see
:func:`canonical_inputs`), in integer arithmetic with one explicit rounding
rule (:func:`div_round`, half up), so anyone holding the inputs recomputes the
exact score published on the ledger. The explanation page (``/credit/model``)
is generated from the constants below, so page and code cannot disagree.

A score is 0..1000. It is the weighted mean of four components, each 0..1000:

* SLA (工单时效): per work order due in the month, points for responding and
  for resolving within its deadlines, smoothed towards a prior;
* complaints (投诉处理): 1000 less points per upheld complaint, by how it was resolved;
* satisfaction (满意度): residents' 1-5 star ratings, smoothed towards a prior;
* regulatory (监管记录): a baseline moved by regulators' penalties and commendations.

Regulators' later adjustments (监管调整) are never part of this model: they are
separate signed ledger entries added on top (effective = computed + adjustments).

An inputs document (serialised by :func:`canonical_bytes`; its SM3 goes on chain)::

    {"complaints":[{"id":"..","received_at":"2026-10-03T02:00:00Z","resident_accepted":true,
                    "resolved_at":"2026-10-05T09:30:00Z","unfounded":false}],
     "model":"wuye-credit/1","period":"2026-10",
     "ratings":[{"id":"..","stars":5}],
     "regulator_actions":[{"id":"..","kind":"commendation","severity":1}],
     "subject":{"id":"<tenant or staff id>","kind":"firm","ref":"<SM3 hex>"},
     "work_orders":[{"assigned_at":"..","id":"..","resolve_due_at":"..","resolved_at":null,
                     "respond_due_at":".."}]}

(shown wrapped; the real bytes have no whitespace, keys sorted, lists sorted by id).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "COMPLAINT_POINTS",
    "GRADES",
    "MODEL_ID",
    "MODEL_VERSION",
    "WEIGHTS",
    "Breakdown",
    "canonical_bytes",
    "canonical_inputs",
    "div_round",
    "grade",
    "score",
]

MODEL_VERSION = 1
#: Written into every inputs document, so a digest also pins the model it was scored by.
MODEL_ID = f"wuye-credit/{MODEL_VERSION}"
MAX_SCORE = 1000

#: Component weights in percent; they sum to 100.
WEIGHTS: dict[str, int] = {"sla": 35, "complaints": 20, "satisfaction": 25, "regulatory": 20}

#: SLA points per work order due in the month: responding (assigned) by ``respond_due_at``
#: and resolving by ``resolve_due_at``. A cancelled order does not count.
SLA_RESPOND_POINTS = 300
SLA_RESOLVE_POINTS = 700
#: The SLA component is (points + PRIOR_ORDERS x PRIOR_POINTS) / (orders + PRIOR_ORDERS):
#: a few orders cannot swing it to either end.
SLA_PRIOR_ORDERS = 2
SLA_PRIOR_POINTS = 800

#: Complaint outcome -> points taken off the complaints component (1000).
#: ``unfounded``: found groundless on inquiry (不成立); ``resolved``: resolved within
#: COMPLAINT_RESOLVE_DAYS and accepted by the resident; ``resolved_unaccepted``: resolved
#: in time but the resident did not accept; ``late``: resolved after the deadline;
#: ``open``: not resolved when the month was scored.
COMPLAINT_POINTS: dict[str, int] = {
    "unfounded": 0,
    "resolved": 30,
    "resolved_unaccepted": 60,
    "late": 100,
    "open": 150,
}
COMPLAINT_RESOLVE_DAYS = 15

#: A rating of s stars (1..5) is worth (s - 1) x 250 points; the component is
#: (points + PRIOR_RATINGS x PRIOR_POINTS) / (ratings + PRIOR_RATINGS).
STAR_POINTS = 250
SATISFACTION_PRIOR_RATINGS = 3
SATISFACTION_PRIOR_POINTS = 750

#: The regulatory component starts at the baseline; each penalty takes off its
#: severity's points, each commendation adds its level's; the result is clamped to 0..1000.
REGULATORY_BASELINE = 800
PENALTY_POINTS: dict[int, int] = {1: 200, 2: 400, 3: 800}  # 轻微 / 一般 / 严重
COMMENDATION_POINTS: dict[int, int] = {1: 100, 2: 200}  # 市级 / 省级

#: Grades by score, highest first: (lowest score, grade, 中文, English).
GRADES: tuple[tuple[int, str, str, str], ...] = (
    (900, "AAA", "诚信优秀", "excellent"),
    (800, "AA", "诚信良好", "good"),
    (700, "A", "诚信合格", "satisfactory"),
    (600, "B", "需关注", "watch"),
    (0, "C", "失信警示", "warning"),
)

_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
SECONDS_PER_DAY = 86_400


def div_round(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half up, for non-negative integers.

    The only rounding in the model: ``(2n + d) // (2d)``.
    """
    if numerator < 0 or denominator <= 0:
        raise ValueError("div_round takes n >= 0 and d > 0")
    return (2 * numerator + denominator) // (2 * denominator)


def _seconds(stamp: str | None) -> int | None:
    """Seconds since the epoch of a canonical UTC time ``YYYY-MM-DDTHH:MM:SSZ``."""
    if stamp is None:
        return None
    if not _TIME.match(stamp):
        raise ValueError(f"time must look like 2026-10-01T08:00:00Z, not {stamp!r}")
    return int(datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())


def _on_time(done: str | None, due: str) -> bool:
    done_s = _seconds(done)
    due_s = _seconds(due)
    return done_s is not None and due_s is not None and done_s <= due_s


def order_points(order: dict[str, Any]) -> int:
    """SLA points (0..1000) of one work order."""
    points = 0
    if _on_time(order.get("assigned_at"), order["respond_due_at"]):
        points += SLA_RESPOND_POINTS
    if _on_time(order.get("resolved_at"), order["resolve_due_at"]):
        points += SLA_RESOLVE_POINTS
    return points


def complaint_outcome(complaint: dict[str, Any]) -> str:
    """How a complaint ended, as a key of :data:`COMPLAINT_POINTS`."""
    if complaint.get("unfounded"):
        return "unfounded"
    resolved = _seconds(complaint.get("resolved_at"))
    if resolved is None:
        return "open"
    received = _seconds(complaint["received_at"]) or 0
    if resolved - received > COMPLAINT_RESOLVE_DAYS * SECONDS_PER_DAY:
        return "late"
    return "resolved" if complaint.get("resident_accepted") else "resolved_unaccepted"


def sla_component(orders: list[dict[str, Any]]) -> int:
    points = sum(order_points(o) for o in orders)
    prior = SLA_PRIOR_ORDERS * SLA_PRIOR_POINTS
    return div_round(points + prior, len(orders) + SLA_PRIOR_ORDERS)


def complaints_component(complaints: list[dict[str, Any]]) -> int:
    taken = sum(COMPLAINT_POINTS[complaint_outcome(c)] for c in complaints)
    return max(0, MAX_SCORE - taken)


def satisfaction_component(ratings: list[dict[str, Any]]) -> int:
    for r in ratings:
        if not (isinstance(r["stars"], int) and 1 <= r["stars"] <= 5):
            raise ValueError(f"stars must be 1..5, not {r['stars']!r}")
    points = sum((r["stars"] - 1) * STAR_POINTS for r in ratings)
    prior = SATISFACTION_PRIOR_RATINGS * SATISFACTION_PRIOR_POINTS
    return div_round(points + prior, len(ratings) + SATISFACTION_PRIOR_RATINGS)


def regulatory_component(actions: list[dict[str, Any]]) -> int:
    value = REGULATORY_BASELINE
    for action in actions:
        if action["kind"] == "penalty":
            value -= PENALTY_POINTS[action["severity"]]
        elif action["kind"] == "commendation":
            value += COMMENDATION_POINTS[action["severity"]]
        else:
            raise ValueError(f"unknown regulator action {action['kind']!r}")
    return min(MAX_SCORE, max(0, value))


@dataclass(frozen=True)
class Breakdown:
    """A computed score and the components it was weighed from."""

    score: int
    components: dict[str, int]

    @property
    def grade(self) -> str:
        return grade(self.score)


def score(inputs: dict[str, Any]) -> Breakdown:
    """The score (0..1000) of one subject's canonical inputs for one month.

    ``score = div_round(sum(WEIGHTS[c] x component[c]), 100)``.
    """
    if inputs.get("model") != MODEL_ID:
        raise ValueError(f"inputs are for model {inputs.get('model')!r}, not {MODEL_ID}")
    components = {
        "sla": sla_component(inputs["work_orders"]),
        "complaints": complaints_component(inputs["complaints"]),
        "satisfaction": satisfaction_component(inputs["ratings"]),
        "regulatory": regulatory_component(inputs["regulator_actions"]),
    }
    total = sum(WEIGHTS[name] * value for name, value in components.items())
    return Breakdown(div_round(total, sum(WEIGHTS.values())), components)


def grade(value: int) -> str:
    """The letter grade of a score (effective scores may leave 0..1000; they still grade)."""
    for lowest, letter, _zh, _en in GRADES:
        if value >= lowest:
            return letter
    return GRADES[-1][1]


# --- canonical inputs -------------------------------------------------------

#: Fields kept per record, in the canonical document; anything else is dropped.
RECORD_FIELDS: dict[str, tuple[str, ...]] = {
    "work_orders": ("id", "respond_due_at", "assigned_at", "resolve_due_at", "resolved_at"),
    "complaints": ("id", "received_at", "resolved_at", "unfounded", "resident_accepted"),
    "ratings": ("id", "stars"),
    "regulator_actions": ("id", "kind", "severity"),
}


def canonical_inputs(
    *,
    period: str,
    subject_kind: str,
    subject_id: str,
    subject_ref: str,
    work_orders: list[dict[str, Any]],
    complaints: list[dict[str, Any]],
    ratings: list[dict[str, Any]],
    regulator_actions: list[dict[str, Any]],
) -> dict[str, Any]:
    """The inputs document of one subject and month, in canonical form.

    Each list keeps only :data:`RECORD_FIELDS` and is sorted by ``id``; times are
    UTC ``YYYY-MM-DDTHH:MM:SSZ``; there are no floats.
    """
    if not _PERIOD.match(period):
        raise ValueError(f"period must look like 2026-10, not {period!r}")
    if subject_kind not in ("firm", "staff"):
        raise ValueError(f"subject kind must be firm or staff, not {subject_kind!r}")
    lists = {
        "work_orders": work_orders,
        "complaints": complaints,
        "ratings": ratings,
        "regulator_actions": regulator_actions,
    }
    doc: dict[str, Any] = {
        "model": MODEL_ID,
        "period": period,
        "subject": {"kind": subject_kind, "id": subject_id, "ref": subject_ref},
    }
    for name, records in lists.items():
        fields = RECORD_FIELDS[name]
        doc[name] = sorted(
            ({f: r.get(f) for f in fields} for r in records), key=lambda r: str(r["id"])
        )
    return doc


def canonical_bytes(inputs: dict[str, Any]) -> bytes:
    """The canonical serialisation whose SM3 digest goes on the ledger.

    JSON (RFC 8259) with keys sorted, no whitespace (``","`` and ``":"``), non-ASCII
    characters kept as UTF-8 (``ensure_ascii=False``), integers only, encoded UTF-8.
    """

    def no_floats(value: Any) -> None:
        if isinstance(value, float):
            raise ValueError("canonical inputs hold no floats")
        if isinstance(value, dict):
            for v in value.values():
                no_floats(v)
        elif isinstance(value, list):
            for v in value:
                no_floats(v)

    no_floats(inputs)
    return json.dumps(inputs, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
