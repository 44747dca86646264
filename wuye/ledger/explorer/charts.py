"""Charts drawn on the server as inline SVG: no script, no framework, nothing fetched.

``line_chart`` plots series over time (a fund's balance, a firm's score); ``bar_chart``
plots grouped bars over categories (a fund's monthly inflows and outflows). Values
are integers (fen, points); labels go through a formatter the caller gives.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 84, 16, 28, 40
PALETTE = ("#0b6e4f", "#c2410c", "#1d4ed8", "#7c3aed", "#b91c1c", "#0f766e", "#a16207")


@dataclass
class Series:
    label: str
    points: list[tuple[int, int]]  # (x, y); x is unix time for line charts
    color: str = ""


def _nice_ticks(lo: int, hi: int, count: int = 5) -> list[int]:
    """Round tick values covering lo..hi."""
    if hi <= lo:
        hi = lo + 1
    raw = (hi - lo) / count
    magnitude = 10 ** max(0, len(str(int(raw))) - 1)
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    start = (lo // step) * step
    ticks = []
    value = start
    while value <= hi + step - 1:
        ticks.append(int(value))
        value += step
        if len(ticks) > 12:
            break
    return ticks


def _date(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d")


def _frame(title: str, kind: str, body: list[str], legend: list[tuple[str, str]]) -> Markup:
    items = "".join(
        f'<rect x="{LEFT + i * 170}" y="8" width="10" height="10" fill="{c}"/>'
        f'<text x="{LEFT + 14 + i * 170}" y="17" font-size="11">{escape(label)}</text>'
        for i, (label, c) in enumerate(legend)
    )
    # Every text inside went through html.escape; the rest is numbers this module wrote.
    return Markup(  # noqa: S704
        f'<svg class="chart" data-chart="{kind}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" font-family="sans-serif">'
        f"<title>{escape(title)}</title>"
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>'
        + items
        + "".join(body)
        + "</svg>"
    )


def _empty(title: str, kind: str) -> Markup:
    return _frame(
        title,
        kind,
        [
            f'<text x="{WIDTH // 2}" y="{HEIGHT // 2}" text-anchor="middle" font-size="13" '
            f'fill="#52606d" class="chart-empty">暂无数据 / no data</text>'
        ],
        [],
    )


def _y_axis(ticks: list[int], y: Callable[[int], float], fmt: Callable[[int], str]) -> list[str]:
    out = []
    for t in ticks:
        py = y(t)
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{py:.1f}" y2="{py:.1f}" '
            f'stroke="#e4e7eb" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{py + 4:.1f}" text-anchor="end" font-size="10" '
            f'fill="#52606d">{escape(fmt(t))}</text>'
        )
    return out


def line_chart(
    title: str,
    series: Sequence[Series],
    fmt: Callable[[int], str] = str,
    step: bool = True,
    zero: bool = True,
) -> Markup:
    """Series over time; ``step`` draws each value until the next (a balance), ``zero``
    starts the axis at 0 (else it fits the values, so a score's changes show)."""
    series = [s for s in series if s.points]
    if not series:
        return _empty(title, "line")
    xs = [x for s in series for x, _ in s.points]
    ys = [y for s in series for _, y in s.points]
    x0, x1 = min(xs), max(xs)
    if x1 == x0:
        x0, x1 = x0 - 86400, x1 + 86400
    low = min(0, min(ys)) if zero else min(ys) - max(10, (max(ys) - min(ys)) // 4)
    ticks = _nice_ticks(low, max(ys))
    y_lo, y_hi = ticks[0], ticks[-1] if ticks[-1] > ticks[0] else ticks[0] + 1
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(x: int) -> float:
        return LEFT + (x - x0) / (x1 - x0) * inner_w

    def py(v: int) -> float:
        return TOP + inner_h - (v - y_lo) / (y_hi - y_lo) * inner_h

    body = _y_axis(ticks, py, fmt)
    for i in range(5):
        t = x0 + (x1 - x0) * i // 4
        anchor = "start" if i == 0 else "end" if i == 4 else "middle"
        body.append(
            f'<text x="{px(t):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="{anchor}" '
            f'font-size="10" fill="#52606d">{_date(t)}</text>'
        )
    legend = []
    for i, s in enumerate(series):
        color = s.color or PALETTE[i % len(PALETTE)]
        legend.append((s.label, color))
        points = sorted(s.points, key=lambda p: p[0])  # stable: same-day points keep order
        coords: list[str] = []
        for j, (x, v) in enumerate(points):
            if step and j:
                coords.append(f"{px(x):.1f},{py(points[j - 1][1]):.1f}")
            coords.append(f"{px(x):.1f},{py(v):.1f}")
        body.append(
            f'<polyline fill="none" stroke="{color}" stroke-width="2.5" '
            f'points="{" ".join(coords)}"/>'
        )
        body.extend(
            f'<circle cx="{px(x):.1f}" cy="{py(v):.1f}" r="3" fill="{color}">'
            f"<title>{_date(x)}: {escape(fmt(v))}</title></circle>"
            for x, v in points
        )
    body.append(
        f'<line x1="{LEFT}" x2="{LEFT}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" stroke="#9aa5b1"/>'
    )
    return _frame(title, "line", body, legend)


def bar_chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    fmt: Callable[[int], str] = str,
) -> Markup:
    """Grouped bars: one group per category, one bar per series."""
    values = [v for _, vs in series for v in vs]
    if not categories or not values or not any(values):
        return _empty(title, "bar")
    ticks = _nice_ticks(min(0, min(values)), max(values))
    y_lo, y_hi = ticks[0], ticks[-1] if ticks[-1] > ticks[0] else ticks[0] + 1
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def py(v: int) -> float:
        return TOP + inner_h - (v - y_lo) / (y_hi - y_lo) * inner_h

    body = _y_axis(ticks, py, fmt)
    group = inner_w / len(categories)
    bar = max(2.0, group * 0.8 / max(1, len(series)))
    label_every = max(1, len(categories) // 12)
    legend = []
    for j, (label, _) in enumerate(series):
        legend.append((label, PALETTE[(j + 1) % len(PALETTE)] if j else PALETTE[0]))
    for i, category in enumerate(categories):
        gx = LEFT + i * group + group * 0.1
        for j, (_, vs) in enumerate(series):
            v = vs[i]
            top, base = py(max(v, 0)), py(min(v, 0))
            body.append(
                f'<rect x="{gx + j * bar:.1f}" y="{top:.1f}" width="{bar - 1:.1f}" '
                f'height="{max(base - top, 0.5):.1f}" fill="{legend[j][1]}">'
                f"<title>{escape(category)} {escape(legend[j][0])}: {escape(fmt(v))}</title></rect>"
            )
        if i % label_every == 0:
            body.append(
                f'<text x="{LEFT + i * group + group / 2:.1f}" y="{HEIGHT - BOTTOM + 16}" '
                f'text-anchor="middle" font-size="10" fill="#52606d">{escape(category)}</text>'
            )
    body.append(
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{py(0):.1f}" y2="{py(0):.1f}" '
        'stroke="#9aa5b1"/>'
    )
    return _frame(title, "bar", body, legend)
