"""Listings straight from the store: positions, orders, trades (the report lives in report_cmd)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from tradekit.cli import output

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def register(app: typer.Typer) -> None:
    app.command("positions")(positions)
    app.command("orders")(orders)
    app.command("trades")(trades)


def _rows(sql: str, params: tuple[Any, ...] = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
    from tradekit.services.setup import workspace

    store = workspace().open_store(readonly=True)
    try:
        return store.query_with_columns(sql, params)
    finally:
        store.close()


def _engine_rows(listing: str) -> tuple[list[str], list[Any]] | None:
    """Rows of a named listing from the running engine, which holds the store (None: no engine running)."""
    from tradekit.control.client import EngineClient
    from tradekit.services.setup import workspace

    client = EngineClient.find(workspace().home)
    if client is None:
        return None
    answer = client.call("listing", name=listing)
    return answer["columns"], [tuple(row) for row in answer["rows"]]


def _emit(title: str, sql: str, as_json: bool, listing: str | None = None) -> None:
    answered = _engine_rows(listing) if listing is not None else None
    columns, rows = answered if answered is not None else _rows(sql)
    if as_json:
        output.print_json([dict(zip(columns, row)) for row in rows])
    else:
        output.table(title, columns, rows)


def positions(as_json: JsonOption = False) -> None:
    """Open positions tradekit holds."""
    from tradekit.control.queries import POSITIONS

    _emit("positions", POSITIONS, as_json, "positions")


def orders(
    as_json: JsonOption = False,
    all_orders: Annotated[bool, typer.Option("--all", help="Include finished orders.")] = False,
) -> None:
    """Working orders (all orders with --all)."""
    where = "" if all_orders else "WHERE status IN ('SUBMITTED', 'ACCEPTED', 'PARTIALLY_FILLED', 'PENDING_CANCEL')"
    columns = "client_order_id, broker_order_id, account, instrument_id, side, quantity, order_type, stop_price, status, " \
        "filled_quantity, average_fill_price, reason, created_at" if as_json else \
        "client_order_id AS id, instrument_id AS instrument, side, quantity AS qty, order_type AS type, stop_price AS stop, " \
        "status, average_fill_price AS fill, reason"
    _emit("orders", f"SELECT {columns} FROM orders {where} ORDER BY created_at, client_order_id", as_json)


def trades(as_json: JsonOption = False) -> None:
    """Closed trades (round trips)."""
    from tradekit.control.queries import LISTINGS

    name = "trades_json" if as_json else "trades"
    _emit("trades", LISTINGS[name], as_json, name)

