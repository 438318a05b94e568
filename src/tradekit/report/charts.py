"""Charts as inline SVG strings: no library, no script, nothing fetched when the page is opened.

Each chart is an ``<svg class="chart" id=...>`` whose drawn marks carry the
class ``series`` (lines, areas) or ``bar`` (daily P&L), which is what the
browser test checks. Long histories are drawn point by point for lines; the
daily bars stay one rect per day (a few thousand at most).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from html import escape

WIDTH, HEIGHT = 900, 260
LEFT, RIGHT, TOP, BOTTOM = 80, 20, 16, 36
GREEN, RED, BLUE, GREY = "#1a7f37", "#cf222e", "#0969da", "#8c959f"


def _scale(values: Sequence[float], low: float | None = None, high: float | None = None) -> tuple[float, float]:
    lo = min(values) if low is None else min(low, min(values))
    hi = max(values) if high is None else max(high, max(values))
    if hi == lo:
        pad = abs(hi) * 0.01 or 1.0
        return lo - pad, hi + pad
    pad = (hi - lo) * 0.05
    return lo - pad, hi + pad


def _x(index: int, count: int) -> float:
    inner = WIDTH - LEFT - RIGHT
    return LEFT + (inner * index / (count - 1) if count > 1 else inner / 2)


def _y(value: float, lo: float, hi: float) -> float:
    return TOP + (HEIGHT - TOP - BOTTOM) * (hi - value) / (hi - lo)


def _frame(chart_id: str, title: str, days: Sequence[date], lo: float, hi: float, label: str, body: str, legend: str = "") -> str:
    ticks = []
    levels = [lo, 0.0, hi] if lo < 0 < hi else [lo, (lo + hi) / 2, hi]
    for value in levels:
        y = _y(value, lo, hi)
        text = f"{value * 100:.2f}%" if label == "%" else f"{value:,.0f}"
        ticks.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d0d7de" stroke-width="1"/>'
                     f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#57606a">{text}</text>')  # fmt: skip
    first, last = (days[0].isoformat(), days[-1].isoformat()) if days else ("", "")
    axis = (f'<text x="{LEFT}" y="{HEIGHT - 10}" font-size="11" fill="#57606a">{first}</text>'
            f'<text x="{WIDTH - RIGHT}" y="{HEIGHT - 10}" font-size="11" fill="#57606a" text-anchor="end">{last}</text>')  # fmt: skip
    return (
        f'<svg class="chart" id="{escape(chart_id)}" data-points="{len(days)}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{''.join(ticks)}{axis}{body}{legend}</svg>"
    )


def _path(points: Sequence[tuple[float, float]]) -> str:
    return "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in points)


def equity_chart(chart_id: str, days: Sequence[date], equity: Sequence[float], benchmark: Sequence[float | None] | None = None,
                 benchmark_label: str = "", start: float | None = None) -> str:
    """End-of-day equity as a line (a dashed benchmark line when there is one)."""
    if not days:
        return ""
    values = list(equity) + [v for v in (benchmark or []) if v is not None]
    lo, hi = _scale(values, start, start)
    count = len(days)
    body = f'<path class="series equity" d="{_path([(_x(i, count), _y(v, lo, hi)) for i, v in enumerate(equity)])}" fill="none" stroke="{BLUE}" stroke-width="2"/>'
    if count == 1:
        body += f'<circle class="series point" cx="{_x(0, 1):.1f}" cy="{_y(equity[0], lo, hi):.1f}" r="4" fill="{BLUE}"/>'
    legend = f'<text x="{LEFT + 8}" y="{TOP + 12}" font-size="12" fill="{BLUE}">equity</text>'
    if benchmark and any(v is not None for v in benchmark):
        points = [(_x(i, count), _y(v, lo, hi)) for i, v in enumerate(benchmark) if v is not None]
        body += f'<path class="series benchmark" d="{_path(points)}" fill="none" stroke="{GREY}" stroke-width="1.5" stroke-dasharray="5,4"/>'
        legend += f'<text x="{LEFT + 70}" y="{TOP + 12}" font-size="12" fill="{GREY}">{escape(benchmark_label)} (same capital)</text>'
    return _frame(chart_id, "Equity curve", days, lo, hi, "", body, legend)


def drawdown_chart(chart_id: str, days: Sequence[date], drawdown_pct: Sequence[float]) -> str:
    """Drawdown from the running peak, as a filled area under zero."""
    if not days:
        return ""
    deepest = min(min(drawdown_pct), 0.0)
    lo, hi = (deepest * 1.05, 0.0) if deepest < 0 else (-0.01, 0.0)
    count = len(days)
    zero = _y(0.0, lo, hi)
    line = [(_x(i, count), _y(v, lo, hi)) for i, v in enumerate(drawdown_pct)]
    area = [(line[0][0], zero), *line, (line[-1][0], zero)]
    body = f'<path class="series drawdown" d="{_path(area)} Z" fill="{RED}" fill-opacity="0.25" stroke="{RED}" stroke-width="1.5"/>'
    return _frame(chart_id, "Drawdown", days, lo, hi, "%", body)


def pnl_bars(chart_id: str, days: Sequence[date], pnl: Sequence[float]) -> str:
    """One bar per trading day: green above zero, red below, nothing on a day without P&L."""
    if not days:
        return ""
    lo, hi = _scale(list(pnl), 0.0, 0.0)
    count = len(days)
    inner = WIDTH - LEFT - RIGHT
    width = max(inner / count * 0.7, 0.5)
    zero = _y(0.0, lo, hi)
    bars = []
    for i, (day, value) in enumerate(zip(days, pnl)):
        x = LEFT + inner * (i + 0.5) / count - width / 2
        y = _y(value, lo, hi)
        top, height = (y, zero - y) if value >= 0 else (zero, y - zero)
        kind = "pos" if value > 0 else "neg" if value < 0 else "flat"
        colour = GREEN if value > 0 else RED if value < 0 else GREY
        bars.append(f'<rect class="bar {kind}" x="{x:.2f}" y="{top:.2f}" width="{width:.2f}" height="{max(height, 0.8):.2f}" '
                    f'fill="{colour}"><title>{day.isoformat()}: {value:,.2f}</title></rect>')  # fmt: skip
    body = f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{zero:.1f}" y2="{zero:.1f}" stroke="#57606a" stroke-width="1"/>' + "".join(bars)
    return _frame(chart_id, "Daily P&L", days, lo, hi, "", body)


MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _shade(value: float, worst: float) -> str:
    strength = min(abs(value) / worst, 1.0) if worst else 0.0
    alpha = 0.12 + 0.6 * strength
    return f"rgba(26,127,55,{alpha:.2f})" if value >= 0 else f"rgba(207,34,46,{alpha:.2f})"


def month_grid(grid_id: str, months: Sequence[dict[str, object]]) -> str:
    """Monthly returns as a year x month table, cells shaded by size and sign, with the year's compounded return."""
    if not months:
        return ""
    by_year: dict[str, dict[int, float]] = {}
    for month in months:
        year, number = str(month["month"]).split("-")
        value = month["return"]
        if value is not None:
            by_year.setdefault(year, {})[int(number)] = float(value)  # type: ignore[arg-type]
    worst = max((abs(v) for year in by_year.values() for v in year.values()), default=0.0)
    head = "".join(f"<th>{name}</th>" for name in MONTH_NAMES)
    rows = []
    for year in sorted(by_year):
        cells = []
        compounded = 1.0
        for number in range(1, 13):
            value = by_year[year].get(number)
            if value is None:
                cells.append('<td class="empty"></td>')
                continue
            compounded *= 1 + value
            cells.append(f'<td class="month-cell" style="background:{_shade(value, worst)}">{value * 100:.2f}%</td>')
        rows.append(f"<tr><th>{year}</th>{''.join(cells)}<td class='year'>{(compounded - 1) * 100:.2f}%</td></tr>")
    return f'<table class="month-grid" id="{escape(grid_id)}"><thead><tr><th></th>{head}<th>year</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
