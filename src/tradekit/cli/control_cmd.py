"""``tradekit status``, ``close``, ``flatten``, ``unlatch``, ``pause``, ``resume``: through the running engine, else offline."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Optional

import typer

from tradekit.cli import output

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def register(app: typer.Typer) -> None:
    app.command("status")(status_command)
    app.command("close")(close_command)
    app.command("flatten")(flatten_command)
    app.command("unlatch")(unlatch_command)
    app.command("pause")(pause_command)
    app.command("resume")(resume_command)


def _control(op: str, **args: Any) -> tuple[str, Any]:
    from tradekit.services.control import control
    from tradekit.services.setup import workspace

    return control(workspace(), op, **args)


def _where(route: str) -> str:
    return "running engine" if route == "engine" else "store (no engine running)"


def status_command(as_json: JsonOption = False) -> None:
    """The engine's state: time, cash, positions, working orders, latches, paused strategies, blocks today."""
    route, data = _control("status")
    if as_json:
        output.print_json({"source": route, **data})
        return
    if route == "engine":
        output.line(f"engine pid {data['pid']} running {data['strategy']} on {data['account']}, day {data['day']}, at {data['time']}"
                    + (f", pace {data['pace']}s/step" if data.get("pace") else ""))
    else:
        output.line(f"no engine running; {data['account']} day {data['day']} (from the store)")
    output.line(f"cash {Decimal(data['cash']):,.2f}")
    latches = data.get("latches") or {}
    output.line("latches: " + ("; ".join(f"{k}: {v}" for k, v in latches.items()) if latches else "none"))
    output.line("paused: " + (", ".join(data.get("paused") or []) or "none"))
    output.table("positions", ["instrument", "quantity", "average", "strategy"],
                 [(p["instrument_id"], p["quantity"], p["average_price"], p["strategy"]) for p in data["positions"]])
    output.table("working orders", ["id", "instrument", "side", "qty", "type", "stop", "status"],
                 [tuple(o.values()) for o in data["working_orders"]])
    blocks = data.get("blocks_today") or {}
    output.line("blocked today: " + (", ".join(f"{rule} {count}" for rule, count in sorted(blocks.items())) or "none"))


def close_command(symbol: Annotated[str, typer.Argument(help="Instrument id (NSE:INFY) or symbol of an open position.")],
                  as_json: JsonOption = False) -> None:
    """Close one position at market (its protective stop is cancelled)."""
    route, data = _control("close", symbol=symbol)
    if as_json:
        output.print_json({"source": route, **data})
        return
    output.line(f"closed {data['closed']} {data['instrument_id']} through the {_where(route)}; remaining {data['remaining']}")


def flatten_command(as_json: JsonOption = False) -> None:
    """Kill switch: cancel working orders, close all positions, no new entries until `tradekit unlatch`."""
    route, data = _control("flatten")
    if as_json:
        output.print_json({"source": route, **data})
        return
    output.line(f"flattened through the {_where(route)}: {data['closed']} position(s) closed, {data['cancelled']} order(s) cancelled; "
                "kill switch latched (tradekit unlatch)")
    if data["open_positions"] or data["working_orders"]:
        output.line(f"still open: positions {data['open_positions']}, orders {data['working_orders']} (fills pending at the broker)")


def unlatch_command(latch: Annotated[Optional[list[str]], typer.Argument(help="kill, drawdown, daily-loss (default: kill and drawdown).")] = None) -> None:
    """Lift latched risk stops so new entries are allowed again."""
    route, data = _control("unlatch", latches=latch or ["kill", "drawdown"])
    cleared = ", ".join(data["cleared"]) or "nothing was latched"
    output.line(f"unlatched through the {_where(route)}: {cleared}; still latched: {', '.join(data['still_latched']) or 'none'}")


def pause_command(strategy: Annotated[str, typer.Argument(help="Strategy name.")]) -> None:
    """No new entries for STRATEGY (exits and stops go on) until `tradekit resume`."""
    route, data = _control("pause", strategy=strategy)
    output.line(f"{strategy} paused through the {_where(route)}" + ("" if data["changed"] else " (it already was)"))


def resume_command(strategy: Annotated[str, typer.Argument(help="Strategy name.")]) -> None:
    """Allow STRATEGY new entries again."""
    route, data = _control("resume", strategy=strategy)
    output.line(f"{strategy} resumed through the {_where(route)}" + ("" if data["changed"] else " (it was not paused)"))
