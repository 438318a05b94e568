"""``tradekit run`` and ``tradekit recover``."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer

from tradekit.cli import output


def register(app: typer.Typer) -> None:
    app.command("run")(run_command)
    app.command("recover")(recover_command)
    app.command("backtest")(backtest_command)


def run_command(
    broker: Annotated[str, typer.Option(help="Broker plugin (paper replays market data).")] = "paper",
    strategy: Annotated[str, typer.Option(help="Strategy plugin.")] = "oi-momentum",
    live: Annotated[bool, typer.Option("--live", help="Send real orders (asks for confirmation).")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm --live without asking.")] = False,
    day: Annotated[Optional[str], typer.Option(help="Market day to replay, YYYY-MM-DD (default: the next unfinished one).")] = None,
    data: Annotated[Optional[Path], typer.Option(help="Directory of market days (default: the bundled samples).")] = None,
    fresh_day: Annotated[bool, typer.Option("--fresh-day", help="Start today's strategy state over (refused with open positions).")] = False,
    pace: Annotated[float, typer.Option(help="Replay: wait this many wall-clock seconds per step (watch it, talk to it).", min=0)] = 0.0,
) -> None:
    """Trade one session. An interrupted session is resumed (forced while positions are open)."""
    import sys

    from tradekit.errors import ConfigError
    from tradekit.services.run import RunOptions, run
    from tradekit.services.setup import workspace

    if live and not yes:
        if not sys.stdin.isatty():  # nobody to answer (cron, a pipe): refuse, never hang or guess
            raise ConfigError(f"--live sends REAL orders through {broker}: confirm with --yes when not run from a terminal")
        if not typer.confirm(f"Send REAL orders through {broker}?", default=False):
            raise typer.Abort()
    try:
        wanted = date.fromisoformat(day) if day else None
    except ValueError:
        raise ConfigError(f"--day: expected YYYY-MM-DD, got {day!r}") from None
    ws = workspace()
    outcome = run(ws, RunOptions(broker=broker, strategy=strategy, live=live, day=wanted, data=data, fresh_day=fresh_day, pace=pace), output.line)
    for issue in outcome.data_issues:
        output.note(f"data: {issue}")
    result = outcome.result
    if result is None:
        output.line(outcome.message)
        return
    output.line(
        f"session {outcome.day}: {result.orders_sent} orders, {result.fills} fills, {result.trades_closed} trades closed; "
        f"cash {result.closing_cash:,.2f}, equity {result.closing_equity:,.2f}"
    )


def recover_command(
    strategy: Annotated[str, typer.Option(help="Strategy whose state to show.")] = "oi-momentum",
    apply: Annotated[bool, typer.Option("--apply", help="Apply broker fills missed while down.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show what a restart would restore (positions, working orders, strategy state); --apply settles missed fills."""
    from tradekit.services.recover import recover
    from tradekit.services.setup import workspace

    report = recover(workspace(), strategy, apply=apply)
    if as_json:
        output.print_json(report)
        return
    output.line(f"account {report['account']}: day {report['day'] or '-'}, cash {report['cash']}")
    output.table("open positions", ["instrument", "quantity", "average", "strategy"],
                 [(p["instrument_id"], p["quantity"], p["average_price"], p["strategy"]) for p in report["positions"]])
    output.table("working orders", ["client id", "broker id", "side", "qty", "type", "stop", "status"],
                 [(o["client_order_id"], o["broker_order_id"], o["side"], o["quantity"], o["order_type"], o["stop_price"], o["status"])
                  for o in report["working_orders"]])
    output.line(f"strategy state ({strategy}): " + (f"day {report['strategy_day']} at {report['strategy_ts']}" if report["strategy_day"] else "none"))
    for line in report["missed_fills"]:
        output.line(("applied " if apply else "would apply ") + line)
    if report["positions"]:
        output.line("open positions: the next run resumes them automatically (recovery is forced)")


def backtest_command(
    strategy: Annotated[str, typer.Option(help="Strategy plugin.")] = "oi-momentum",
    start: Annotated[Optional[str], typer.Option("--from", help="First day, YYYY-MM-DD (default: the first in the data).")] = None,
    end: Annotated[Optional[str], typer.Option("--to", help="Last day, YYYY-MM-DD (default: the last in the data).")] = None,
    data: Annotated[Optional[Path], typer.Option(help="Directory of market days (default: the bundled samples).")] = None,
    name: Annotated[Optional[str], typer.Option(help="Keep the store under <home>/backtests/NAME (default: throwaway).")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", help="Print every decision line.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Replay many days at full speed with the same engine and paper venue as `run`, in a separate store."""
    from rich.progress import Progress

    from tradekit.errors import ConfigError
    from tradekit.engine.loop import discard
    from tradekit.services.backtest import backtest
    from tradekit.services.setup import workspace

    try:
        first = date.fromisoformat(start) if start else None
        last = date.fromisoformat(end) if end else None
    except ValueError:
        raise ConfigError("--from/--to: expected YYYY-MM-DD") from None
    with Progress(console=output.errors, transient=True) as progress:
        task = progress.add_task(f"backtest {strategy}", total=None)

        def advance(done: int, total: int, day: date) -> None:
            progress.update(task, completed=done, total=total, description=f"backtest {strategy} {day}")

        summary = backtest(workspace(), strategy, first, last, data=data, name=name, progress=advance,
                           log=output.line if verbose else discard)
    data_out = summary.to_dict()
    if as_json:
        output.print_json(data_out)
        return
    output.line(
        f"backtest {strategy}: {len(summary.days)} days {summary.days[0]} .. {summary.days[-1]}, {summary.trades} trades, "
        f"win rate {data_out['win_rate_pct']}%, net P&L {summary.net_pnl:,.2f} (costs {summary.costs:,.2f}), "
        f"cash {summary.starting_cash:,.2f} -> {summary.final_cash:,.2f}"
    )
