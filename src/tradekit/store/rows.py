"""Rows of the projection tables, computed from a book.

Writing (``DuckDBStore``) and checking (``doctor``) use these same functions,
so a rebuilt book and the stored projections are compared like for like.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from tradekit.model.book import Book
from tradekit.model.events import canonical_json
from tradekit.model.fills import Fill
from tradekit.model.orders import Order
from tradekit.model.trades import Trade
from tradekit.store import trades_daily

Q = Decimal("0.00000001")
Row = tuple[Any, ...]


def money(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(Q)


def utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def order_row(order: Order) -> Row:
    return (
        order.client_order_id, order.account, order.instrument_id, str(order.side), order.quantity,
        str(order.order_type), money(order.limit_price), money(order.stop_price), order.strategy, order.reason,
        utc(order.created_at), str(order.status), order.broker_order_id, order.filled_quantity,
        money(order.average_fill_price), money(order.signal_price), order.status_reason, money(order.protective_stop),
    )  # fmt: skip


def fill_row(fill: Fill) -> Row:
    return (
        fill.account, fill.fill_id, fill.instrument_id, str(fill.side), fill.quantity, money(fill.price),
        utc(fill.ts), fill.client_order_id, fill.broker_order_id, money(fill.costs),
    )  # fmt: skip


def position_row(book: Book, key: tuple[str, str]) -> Row:
    position = book.positions[key]
    trade = book.open_trades.get(key)
    return (
        position.account, position.instrument_id, position.quantity, money(position.average_price),
        money(position.realized_pnl), money(position.costs), utc(position.opened_at), position.strategy,
        position.external, canonical_json(trade.to_dict()) if trade else None,
    )  # fmt: skip


def trade_row(trade: Trade) -> Row:
    return (
        trade.account, trade.trade_id, trade.strategy, trade.instrument_id, trade.side, trade.quantity,
        utc(trade.entry_ts), money(trade.entry_price), utc(trade.exit_ts), money(trade.exit_price),
        money(trade.gross_pnl), money(trade.costs), money(trade.net_pnl), trade.pnl_pct.quantize(Decimal("0.0001")),
        trade.exit_reason, money(trade.slippage), trade.partial_exits, trade.external,
    )  # fmt: skip


def account_row(book: Book, account: str) -> Row:
    return (
        account, money(book.cash.get(account, Decimal(0))), book.current_day.get(account),
        book.order_count.get(account, 0), book.trade_count.get(account, 0), utc(book.last_fill_ts.get(account)),
    )  # fmt: skip


def day_row(book: Book, key: tuple[str, date]) -> Row:
    record = book.days[key]
    return (record.account, record.day, money(record.open_cash), money(record.close_cash), money(record.close_equity))


def strategy_row(book: Book, key: tuple[str, str]) -> Row:
    record = book.strategies[key]
    return (record.account, record.strategy, record.day, utc(record.ts), canonical_json(record.state))


def block_row(book: Book, key: tuple[str, str, date, str]) -> Row:
    return (*key, book.blocks[key])


def risk_row(book: Book, key: tuple[str, str]) -> Row:
    record = book.risk[key]
    value = None if record.value is None else canonical_json(record.value)
    return (record.account, record.key, record.day, utc(record.ts), value, record.reason)


def all_rows(book: Book, trades: Iterable[Trade], fills: Iterable[Fill]) -> dict[str, list[Row]]:
    """Every projection row a book implies (for ``doctor``)."""
    accounts = set(book.cash) | {a for a, _ in book.positions} | set(book.order_count)
    trade_rows = [trade_row(t) for t in trades]
    return {
        "orders": [order_row(o) for o in book.orders.values()],
        "fills": [fill_row(f) for f in fills],
        "positions": [position_row(book, k) for k in book.positions],
        "trades": trade_rows,
        "trades_daily": trades_daily.rows(trade_rows),
        "accounts": [account_row(book, a) for a in accounts],
        "accounts_daily": [day_row(book, k) for k in book.days],
        "strategy_state": [strategy_row(book, k) for k in book.strategies],
        "blocks": [block_row(book, k) for k in book.blocks],
        "risk_state": [risk_row(book, k) for k in book.risk],
    }


def normalise(rows: Iterable[Row]) -> Iterator[Row]:
    """Make DB rows and computed rows comparable (JSON text parsed, datetimes in UTC)."""
    for row in rows:
        out = []
        for value in row:
            if isinstance(value, datetime):
                value = value.astimezone(UTC)
            elif isinstance(value, str) and value[:1] in "{[":
                try:
                    value = canonical_json(json.loads(value))
                except ValueError:
                    pass
            out.append(value)
        yield tuple(out)
