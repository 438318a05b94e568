"""``tradekit sync``, ``reconcile`` and ``adopt``: the broker's positions against tradekit's book."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from tradekit.cli import output


def register(app: typer.Typer) -> None:
    app.command("sync")(sync_command)
    app.command("reconcile")(reconcile_command)
    app.command("adopt")(adopt_command)


def _held(quantity: int, average: str | None) -> str:
    if not quantity:
        return "flat"
    return f"{quantity} @ {average.rstrip('0').rstrip('.')}" if average else str(quantity)


def _stop_confirmation(broker: str, yes: bool) -> Callable[[list[str]], bool]:
    """Protective stops at a real broker are real orders: asked as `run --live` asks, never guessed."""

    def confirm(instruments: list[str]) -> bool:
        import sys

        if broker == "paper" or yes:
            return True
        if not sys.stdin.isatty():  # cron, a pipe: nobody to answer; the positions are synced, the stops wait
            output.note(f"protective stops at {broker} are REAL orders: confirm with --yes when not run from a terminal")
            return False
        return typer.confirm(f"Place REAL protective stops at {broker} on {', '.join(instruments)}?", default=False)

    return confirm


def _differences(data: dict[str, Any]) -> None:
    rows = [
        (d["kind"], d["exchange"], d["symbol"], _held(d["book_quantity"], d["book_average"]),
         _held(d["broker_quantity"], d["broker_average"]), d["detail"])
        for d in data["differences"]
    ]
    output.table(f"{data['account']} vs {data['broker']} at {data['at']}",
                 ["kind", "exchange", "symbol", "tradekit", "broker", "detail"], rows)
    for instrument in data["ignored"]:
        output.note(f"ignored (outside the [sync] segment filter): {instrument}")
    if data["pending_fills"]:
        output.note(f"{len(data['pending_fills'])} broker fill(s) after tradekit's time are pending; the next run applies them")


def sync_command(
    broker: Annotated[str, typer.Option(help="Broker plugin (paper: the paper venue at its market time).")] = "paper",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Place [sync] external_stop_pct stops at a real broker without asking.")] = False,
) -> None:
    """Pull the broker's net positions into tradekit: add external ones, remove closed ones, update changed ones."""
    from tradekit.services.setup import workspace
    from tradekit.services.sync import run_reconcile

    outcome = run_reconcile(workspace(), broker, apply=True, source="sync", log=output.note,
                            confirm_stops=_stop_confirmation(broker, yes))
    data = outcome.to_dict()
    if as_json:
        output.print_json({key: data[key] for key in ("added", "removed", "updated", "unchanged")} | {"details": data})
        return
    _differences(data)
    for line in outcome.stops:
        output.line(f"protective stop placed: {line}")
    for line in outcome.warnings:
        output.note(f"warning: {line}")
    output.line(f"sync {broker}: added {len(data['added'])}, removed {len(data['removed'])}, "
                f"updated {len(data['updated'])}, unchanged {len(data['unchanged'])}")


def reconcile_command(
    broker: Annotated[str, typer.Option(help="Broker plugin (paper: the paper venue at its market time).")] = "paper",
    apply: Annotated[bool, typer.Option("--apply", help="Apply the corrections (as sync does).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    yes: Annotated[bool, typer.Option("--yes", help="With --apply: place [sync] external_stop_pct stops at a real broker without asking.")] = False,
) -> None:
    """Show how tradekit's book differs from the broker. Exit code 0: in sync, 1: differences found."""
    from tradekit.services.setup import workspace
    from tradekit.services.sync import run_reconcile

    outcome = run_reconcile(workspace(), broker, apply=apply, source="reconcile", log=output.note,
                            confirm_stops=_stop_confirmation(broker, yes))
    data = outcome.to_dict()
    if as_json:
        output.print_json(data)
    else:
        _differences(data)
        verdict = "in sync" if outcome.result.in_sync else ("differences applied" if outcome.applied else "NOT in sync")
        output.line(f"reconcile {broker}: {verdict} (added {len(data['added'])}, removed {len(data['removed'])}, "
                    f"updated {len(data['updated'])}, unchanged {len(data['unchanged'])})")
    if not outcome.result.in_sync:
        raise typer.Exit(1)


def adopt_command(
    instrument: Annotated[str, typer.Argument(help="Instrument held, e.g. NFO:NIFTY25O0725150CE (or the bare symbol).")],
    strategy: Annotated[str, typer.Option(help="Strategy whose exit rules will manage the position.")],
    broker: Annotated[str, typer.Option(help="Broker whose account holds it.")] = "paper",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Hand an open (usually external) position to a strategy."""
    from tradekit.services.setup import workspace
    from tradekit.services.sync import adopt

    data = adopt(workspace(), instrument, strategy, broker_name=broker)
    if as_json:
        output.print_json(data)
        return
    output.line(f"{data['instrument_id']} ({data['quantity']} @ {data['average_price']}) on {data['account']} "
                f"is now managed by {data['strategy']}")
