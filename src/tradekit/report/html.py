"""One self-contained HTML page: charts (inline SVG) and the report's tables.

Nothing is loaded when the page is opened: no CDN, no fonts, no images.
The only script is a few lines that, once the browser has laid the page
out, record what it actually drew (each chart's size and path lengths) in
``#render-check``; the browser test reads that from a real Chromium.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from html import escape
from typing import TYPE_CHECKING, Any

from tradekit.report import charts
from tradekit.report import formatting as F

if TYPE_CHECKING:
    from tradekit.services.report import Report, Section

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px; color: #1f2328; max-width: 1200px; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 18px; margin-top: 32px; border-bottom: 1px solid #d0d7de; }
h3 { font-size: 15px; margin: 18px 0 6px; } .meta { color: #57606a; font-size: 13px; }
table { border-collapse: collapse; font-size: 12.5px; margin: 6px 0 14px; }
th, td { border: 1px solid #d0d7de; padding: 3px 7px; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; } thead th { background: #f6f8fa; }
.month-grid td { min-width: 52px; } .month-grid td.year { font-weight: 600; }
svg.chart { display: block; margin: 4px 0 10px; max-width: 100%; height: auto; }
.mode { margin-bottom: 28px; } #render-check { display: none; }
"""

CHECK_SCRIPT = """
window.addEventListener('load', function () {
  var out = [];
  document.querySelectorAll('svg.chart').forEach(function (svg) {
    var box = svg.getBoundingClientRect();
    var lengths = [];
    svg.querySelectorAll('path.series').forEach(function (p) { lengths.push(Math.round(p.getTotalLength())); });
    out.push({id: svg.id, width: Math.round(box.width), height: Math.round(box.height),
              paths: lengths, bars: svg.querySelectorAll('rect.bar').length});
  });
  var grids = [];
  document.querySelectorAll('table.month-grid').forEach(function (t) {
    grids.push({id: t.id, cells: t.querySelectorAll('td.month-cell').length, height: Math.round(t.getBoundingClientRect().height)});
  });
  document.getElementById('render-check').textContent = JSON.stringify({charts: out, grids: grids});
  document.body.setAttribute('data-rendered', 'yes');
});
"""


def _table(columns: Sequence[str], rows: Sequence[Sequence[str]], css: str = "") -> str:
    if not rows:
        return '<p class="meta">none</p>'
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in row) + "</tr>" for row in rows)
    return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _rows(items: Sequence[dict[str, Any]], fn: Callable[[dict[str, Any]], list[str]]) -> list[list[str]]:
    return [fn(item) for item in items]


def _mode_section(report: Report, section: Section) -> str:
    """Everything about one mode in one currency: charts and tables never mix two currencies."""
    mode, currency, sid = section.mode, section.currency, section.id
    curve = report.curves.get(sid, {})
    days = curve.get("days", [])
    scopes = report.scopes(mode, currency=currency)
    overall = next(s for s in scopes if s["kind"] == "overall")
    parts = [f'<section class="mode" id="mode-{escape(sid)}"><h2>{escape(section.title)}</h2>']
    parts.append(
        f'<p class="meta">{overall["days"] or 0} trading days, {overall["trades"]} trades, net P&amp;L '
        f'{escape(F.money(overall["net_pnl"]))} {escape(currency)} ({escape(F.pct(overall["total_return"], 3))}), max drawdown '
        f'{escape(F.pct(overall["max_drawdown_pct"], 3))}, recovered: {escape(F.recovery(overall))}</p>'
    )
    parts.append(f"<h3>Equity curve ({escape(currency)})</h3>")
    parts.append(charts.equity_chart(f"equity-{sid}", days, curve.get("equity", []), curve.get("benchmark"),
                                     curve.get("benchmark_symbol") or "", overall["starting_equity"]))  # fmt: skip
    parts.append("<h3>Drawdown</h3>")
    parts.append(charts.drawdown_chart(f"drawdown-{sid}", days, [v or 0.0 for v in curve.get("drawdown_pct", [])]))
    parts.append(f"<h3>Daily P&amp;L ({escape(currency)})</h3>")
    parts.append(charts.pnl_bars(f"pnl-{sid}", days, curve.get("pnl", [])))
    parts.append("<h3>Monthly returns</h3>")
    parts.append(charts.month_grid(f"months-{sid}", curve.get("months", [])))
    parts.append(f"<h3>Results ({escape(currency)})</h3>" + _table(F.RESULT_COLUMNS, _rows(scopes, F.result_row), "results"))
    parts.append(f"<h3>Risk and execution ({escape(currency)})</h3>" + _table(F.RISK_COLUMNS, _rows(scopes, F.risk_row), "risk"))
    accounts = {s["key"] for s in scopes if s["kind"] == "account"}
    benchmarks = [b for b in report.benchmarks if b["account"] in accounts]
    parts.append("<h3>Benchmark (from each account's first trading day)</h3>" + _table(F.BENCHMARK_COLUMNS, _rows(benchmarks, F.benchmark_row)))
    exits = [e for e in report.metrics.exit_reasons if section.has(e)]
    parts.append(f"<h3>Exit reasons and slippage per strategy ({escape(currency)})</h3>" + _table(F.EXIT_COLUMNS, _rows(exits, F.exit_row)))
    blocks = [b for b in report.metrics.blocks if section.has(b)]
    parts.append("<h3>Blocked signals</h3>" + _table(F.BLOCK_COLUMNS, _rows(blocks, F.block_row)))
    months = [m for m in report.metrics.months if m["kind"] == "overall" and m["key"] == mode and m["currency"] == currency]
    parts.append(f"<h3>Per month ({escape(currency)})</h3>" + _table(F.MONTH_COLUMNS, _rows(months, F.month_row)))
    day_rows = [d for d in report.metrics.days if d["kind"] == "overall" and d["key"] == mode and d["currency"] == currency]
    parts.append(f"<h3>Per day ({escape(currency)})</h3>" + _table(F.DAY_COLUMNS, _rows(day_rows, F.day_row)))
    parts.append("</section>")
    return "".join(parts)


def render(report: Report, *, generated: datetime | None = None) -> str:
    """The whole page as one string."""
    f = report.filters
    window = f"{F.day(f.start) if f.start else 'first day'} to {F.day(f.end) if f.end else 'last day'}"
    chosen = []
    if f.strategies:
        chosen.append("strategies " + ", ".join(f.strategies))
    if f.accounts:
        chosen.append("accounts " + ", ".join(f.accounts))
    stamp = f" · generated {generated:%Y-%m-%d %H:%M}" if generated else ""
    meta = f"{window}{'; ' + '; '.join(chosen) if chosen else ''} · risk-free {f.risk_free:.2%}{stamp}"
    sections = "".join(_mode_section(report, section) for section in report.sections) or '<p class="meta">No trading days in the store for this selection.</p>'
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>tradekit report</title>'
        f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{STYLE}</style></head>'
        f'<body><h1>tradekit report</h1><p class="meta">{escape(meta)}</p>{sections}'
        f'<pre id="render-check"></pre><script>{CHECK_SCRIPT}</script></body></html>\n'
    )
