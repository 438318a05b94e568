"""``tradekit report`` (tables, --json, --html) and ``tradekit export trades``."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Optional

import typer

from tradekit.cli import output
from tradekit.errors import ConfigError

export_app = typer.Typer(no_args_is_help=True, help="Write the store's records to files (CSV or Parquet).")

Day = Annotated[Optional[str], typer.Option(help="YYYY-MM-DD.")]
Strategies = Annotated[Optional[list[str]], typer.Option("--strategy", help="Only this strategy (repeatable).")]
Accounts = Annotated[Optional[list[str]], typer.Option("--account", help="Only this account, e.g. paper:default (repeatable).")]
Mode = Annotated[Optional[str], typer.Option("--mode", help="paper or live (default: both, always reported apart).")]


def register(app: typer.Typer) -> None:
    app.command("report")(report)
    app.add_typer(export_app, name="export")


def _day(text: str | None, option: str) -> date | None:
    from tradekit.services.report import parse_day

    return None if text is None else parse_day(text, option)


def _mode(text: str | None) -> str | None:
    if text is not None and text not in ("paper", "live"):
        raise ConfigError(f"--mode must be paper or live, got {text!r}")
    return text


def report(
    start: Annotated[Optional[str], typer.Option("--from", help="First day, YYYY-MM-DD (exchange-local).")] = None,
    end: Annotated[Optional[str], typer.Option("--to", help="Last day, YYYY-MM-DD.")] = None,
    strategy: Strategies = None,
    account: Accounts = None,
    mode: Mode = None,
    risk_free: Annotated[Optional[float], typer.Option("--risk-free", help="Annual risk-free rate for Sharpe/Sortino, e.g. 0.065 ([report] risk_free).")] = None,
    benchmark: Annotated[Optional[str], typer.Option("--benchmark", help="Index symbol in the data files (default NIFTY 50 / SPY).")] = None,
    days: Annotated[int, typer.Option("--days", help="Most recent days shown in the per-day table on the terminal.")] = 31,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    html: Annotated[Optional[Path], typer.Option("--html", help="Also write one self-contained HTML page with charts to FILE.")] = None,
) -> None:
    """Performance overall, per account and per strategy (paper and live apart), with benchmark, exits and blocked signals."""
    from tradekit.report.metrics import ReportFilters
    from tradekit.services.report import build_report, report_settings
    from tradekit.services.setup import workspace

    ws = workspace()
    settings = report_settings(ws)
    try:
        filters = ReportFilters(
            start=_day(start, "--from"), end=_day(end, "--to"), strategies=tuple(strategy or ()), accounts=tuple(account or ()),
            mode=_mode(mode), risk_free=settings["risk_free"] if risk_free is None else risk_free,
            periods_per_year=settings["periods_per_year"],
        )  # fmt: skip
    except ValueError as error:
        raise ConfigError(str(error)) from None
    result = build_report(ws, filters, benchmark=benchmark)
    if html is not None:
        from tradekit.report.html import render

        target = html.expanduser()
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        partial.write_text(render(result, generated=datetime.now(UTC)), encoding="utf-8")
        partial.replace(target)
        output.note(f"wrote {target}")
    if as_json:
        output.print_json(result.to_dict())
        return
    _print_tables(result, days)


def _print_tables(result: object, days: int) -> None:
    from tradekit.report import formatting as F
    from tradekit.services.report import Report

    assert isinstance(result, Report)
    if not result.sections:
        output.console.print("no trading days in the store for this selection")
        return
    for section in result.sections:  # one per mode and currency: money is never added across currencies
        mode, currency = section.mode, section.currency
        scopes = result.scopes(mode, currency=currency)
        output.console.rule(f"[bold]{section.title}[/bold]")
        output.table(f"{mode}: results ({currency})", F.RESULT_COLUMNS, [F.result_row(s) for s in scopes])
        output.table(f"{mode}: risk and execution ({currency})", F.RISK_COLUMNS, [F.risk_row(s) for s in scopes])
        bench = [b for b in result.benchmarks if b["account"] in {s["key"] for s in scopes if s["kind"] == "account"}]
        output.table(f"{mode}: benchmark from the first trading day ({currency})", F.BENCHMARK_COLUMNS, [F.benchmark_row(b) for b in bench])
        output.table(f"{mode}: exit reasons and slippage ({currency})", F.EXIT_COLUMNS,
                     [F.exit_row(e) for e in result.metrics.exit_reasons if section.has(e)])  # fmt: skip
        output.table(f"{mode}: blocked signals ({currency})", F.BLOCK_COLUMNS, [F.block_row(b) for b in result.metrics.blocks if section.has(b)])
        overall = [m for m in result.metrics.months if m["kind"] == "overall" and m["key"] == mode and m["currency"] == currency]
        output.table(f"{mode}: per month ({currency})", F.MONTH_COLUMNS, [F.month_row(m) for m in overall])
        rows = [d for d in result.metrics.days if d["kind"] == "overall" and d["key"] == mode and d["currency"] == currency]
        shown = rows[-days:] if days > 0 else rows
        title = f"{mode}: per day ({currency})" + (f" (last {len(shown)} of {len(rows)}; all in --json / --html)" if len(shown) < len(rows) else "")
        output.table(title, F.DAY_COLUMNS, [F.day_row(d) for d in shown])


@export_app.command("trades")
def export_trades(
    day: Day = None,
    all_days: Annotated[bool, typer.Option("--all", help="Every trade in the store (the all-time file).")] = False,
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
    out: Annotated[Optional[Path], typer.Option("--out", help="File to write (default <home>/exports/trades-<day|all>.<format>).")] = None,
    strategy: Strategies = None,
    account: Accounts = None,
    mode: Mode = None,
) -> None:
    """Closed trades of one day (--day D) or all time (--all): the same columns in both, CSV or Parquet."""
    from tradekit.services.report import export_trades as write
    from tradekit.services.setup import workspace

    if (day is None) == (not all_days):
        raise ConfigError("give exactly one of --day YYYY-MM-DD or --all")
    path, count = write(workspace(), day=_day(day, "--day"), out=out, fmt=fmt, accounts=tuple(account or ()),
                        strategies=tuple(strategy or ()), mode=_mode(mode))  # fmt: skip
    output.line(f"{count} trades written to {path}")
