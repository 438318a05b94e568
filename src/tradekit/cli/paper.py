"""``tradekit paper``: the paper venue's own account, and orders typed "by hand" into it."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Optional

import typer

from tradekit.cli import output

app = typer.Typer(help="The paper venue: its account, and manual orders placed outside tradekit.", no_args_is_help=True)


@app.command("account")
def account(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    market: Annotated[str, typer.Option(help="NSE (account paper:default) or NYSE (paper:us) unless [paper] account is set.")] = "NSE",
) -> None:
    """The paper venue's cash and positions (its own book, not tradekit's)."""
    from tradekit.services.paper import venue_account
    from tradekit.services.setup import workspace

    data = venue_account(workspace(), market)
    if as_json:
        output.print_json(data)
        return
    output.line(f"{data['account']}: cash {data['cash']}")
    output.table("venue positions", ["instrument", "quantity", "average"],
                 [(p["instrument_id"], p["quantity"], p["average_price"]) for p in data["positions"]])


@app.command("order")
def order(
    side: Annotated[str, typer.Argument(help="BUY or SELL")],
    instrument: Annotated[str, typer.Argument(help="Instrument id, e.g. NFO:NIFTY25D0925900PE")],
    quantity: Annotated[int, typer.Argument(help="Units (a multiple of the lot size)")],
    stop: Annotated[Optional[str], typer.Option(help="Stop price (a stop-market order).")] = None,
) -> None:
    """Place an order in the paper venue as if typed into the broker's app (no tradekit tag)."""
    from tradekit.services.paper import manual_order
    from tradekit.services.setup import workspace

    broker_id = manual_order(workspace(), side, instrument, quantity, Decimal(stop) if stop else None)
    output.line(f"paper order {broker_id} placed")


@app.command("fill")
def fill(
    order_id: Annotated[Optional[str], typer.Argument(help="A working order's broker id (PO...) to fill now.")] = None,
    price: Annotated[Optional[str], typer.Option(help="Fill price for ORDER_ID (default: the quote at the venue's time).")] = None,
    until: Annotated[Optional[str], typer.Option(help="Move the venue's market time to HH:MM, +MINUTES or an ISO time first; "
                                                     "working orders the price path crossed fill on the way.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Fills while tradekit is down: advance the venue's market time, and/or fill one working order."""
    from tradekit.errors import ConfigError
    from tradekit.services.paper import fill_while_down
    from tradekit.services.setup import workspace

    try:
        level = Decimal(price) if price else None
    except ArithmeticError:
        raise ConfigError(f"--price: not a number: {price!r}") from None
    fills = fill_while_down(workspace(), order_id, level, until)
    if as_json:
        output.print_json(fills)
        return
    for item in fills:
        output.line(f"paper fill {item['fill_id']}: {item['side']} {item['quantity']} {item['instrument_id']} @ {item['price']} "
                    f"at {item['ts']} (order {item['broker_order_id']}{', ' + item['tag'] if item['tag'] else ''})")
    if not fills:
        output.line("no fills")
