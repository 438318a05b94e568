"""ps60's own record of its trades, kept in the strategy state.

Everything here works on the plain-data state (dicts, lists, strings for
exact prices) so the engine can persist it after every step and a restart
continues from exactly the same record. Fills drive the record; the
engine's positions are the truth it is reconciled against (the broker's
quantity wins, as in hybrid recovery).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from tradekit.model import Fill, InstrumentId, Order
from tradekit.ports.strategy import PositionView, StrategyContext

State = dict[str, Any]
Trade = dict[str, Any]

LONG = "LONG"
SHORT = "SHORT"
SIGN = {LONG: 1, SHORT: -1}
PARTIAL_REASON = "PARTIAL_50"
CLOSED_AT_BROKER = "CLOSED_AT_BROKER"


def new_trade(
    *,
    symbol: str,
    instrument: InstrumentId,
    side: str,
    attempt: int,
    path: str,
    setup: Mapping[str, object],
    now: datetime,
    signal_ts: str | None,
    signal_price: float | None,
    requested: int,
) -> Trade:
    """A trade record as plain data; prices are strings so they stay exact through JSON."""
    prefix = "long" if side == LONG else "short"
    pivot = setup["resistance"] if side == LONG else setup["support"]
    return {
        "id": f"{symbol}-{side}-{attempt}",
        "symbol": symbol,
        "instrument_id": instrument,
        "side": side,
        "attempt": attempt,
        "path": path,
        "status": "pending",
        "sent_at": now.isoformat(),
        "signal_ts": signal_ts,
        "signal_price": signal_price,
        "requested": requested,
        "pivot": str(pivot),
        "target_1": str(setup[f"{prefix}_target_1"]),
        "target_2": str(setup[f"{prefix}_target_2"]),
        "stop": str(pivot),
        "filled": 0,
        "entry_cost": "0",
        "entry_price": None,
        "remaining": 0,
        "partial_taken": False,
        "partial_quantity": 0,
        "partial_filled": 0,
        "exit_sent": None,
        "stop_sync_at": now.isoformat(),
        "realized_pnl": "0",
        "costs": "0",
        "opened_at": None,
        "closed_at": None,
        "exit_reason": None,
        "unaccounted": 0,
        "exits": [],
    }


def position_of(context: StrategyContext, instrument: InstrumentId) -> PositionView | None:
    """Our (non-external) position in the instrument, or None when flat."""
    position = context.positions.get(instrument)
    if position is None or position.quantity == 0 or position.external:
        return None
    return position


def has_working_order(context: StrategyContext, instrument: InstrumentId, *, entries_only: bool) -> bool:
    for order in context.working_orders:
        if order.instrument_id != instrument or not order.is_open:
            continue
        if not entries_only or order.reason.startswith("ENTRY"):
            return True
    return False


def _add(value: str, amount: Decimal) -> str:
    return str(Decimal(value) + amount)


def close_trade(state: State, symbol: str, reason: str, when: datetime | None) -> Trade:
    trade = state["trades"][symbol]
    trade["status"] = "closed"
    trade["exit_reason"] = reason
    trade["closed_at"] = when.isoformat() if when else None
    state["closed"].append(trade)
    state["trades"][symbol] = None
    return trade


def apply_entry_fill(state: State, symbol: str, fill: Fill, logs: list[str]) -> None:
    """Add an entry fill (partial fills average in) and make the trade open."""
    trade = state["trades"].get(symbol)
    side = LONG if fill.side.sign > 0 else SHORT
    if trade is None:
        trade = _revive_unfilled(state, symbol, side)
        if trade is None:
            logs.append(f"{symbol}: entry fill {fill.quantity} @ {fill.price} without a pending entry; adopting it")
            setup = state["setups"][symbol]
            trade = new_trade(
                symbol=symbol, instrument=fill.instrument_id, side=side, attempt=state["attempts"][symbol][side],
                path="adopted", setup=setup, now=fill.ts, signal_ts=None, signal_price=None,
                requested=fill.quantity,
            )
        state["trades"][symbol] = trade
    if trade["side"] != side:
        logs.append(f"{symbol}: entry fill on {fill.side} does not match the {trade['side']} trade; ignored")
        return
    trade["filled"] += fill.quantity
    trade["remaining"] += fill.quantity
    trade["entry_cost"] = _add(trade["entry_cost"], fill.price * fill.quantity)
    trade["entry_price"] = str(Decimal(trade["entry_cost"]) / trade["filled"])
    trade["costs"] = _add(trade["costs"], fill.costs)
    trade["opened_at"] = trade["opened_at"] or fill.ts.isoformat()
    trade["status"] = "open"
    logs.append(
        f"{symbol} {side} entry filled {fill.quantity} @ {fill.price} (holding {trade['remaining']}, "
        f"average {Decimal(trade['entry_price']):.4f}, stop {trade['stop']})"
    )


def _revive_unfilled(state: State, symbol: str, side: str) -> Trade | None:
    """A fill for an entry given up as unfilled: it did happen after all (its attempt was never released)."""
    for index in range(len(state["closed"]) - 1, -1, -1):
        trade = state["closed"][index]
        if trade["symbol"] == symbol and trade["side"] == side and trade["status"] == "unfilled":
            del state["closed"][index]
            trade["status"] = "pending"
            return trade
    return None


def apply_exit_fill(state: State, symbol: str, fill: Fill, order: Order, logs: list[str]) -> None:
    """Reduce the trade by an exit fill, realise its P&L, close it when nothing remains."""
    trade = state["trades"].get(symbol)
    if trade is None or trade["status"] != "open":
        _late_exit_fill(state, symbol, fill, order, logs)
        return
    quantity = min(fill.quantity, trade["remaining"])
    if quantity <= 0 or fill.side.sign == SIGN[trade["side"]]:
        logs.append(f"{symbol}: fill {fill.side} {fill.quantity} ({order.reason}) does not reduce the trade; ignored")
        return
    pnl = SIGN[trade["side"]] * (fill.price - Decimal(trade["entry_price"])) * quantity
    trade["realized_pnl"] = _add(trade["realized_pnl"], pnl)
    trade["costs"] = _add(trade["costs"], fill.costs)
    trade["remaining"] -= quantity
    trade["exits"].append(
        {"reason": order.reason, "quantity": quantity, "price": str(fill.price), "ts": fill.ts.isoformat()}
    )
    if order.reason == PARTIAL_REASON:
        trade["partial_filled"] += quantity
    logs.append(
        f"{symbol} {trade['side']} exit {order.reason or 'EXIT'} filled {quantity} @ {fill.price} "
        f"(P&L {pnl:+.2f}, {trade['remaining']} remain)"
    )
    if trade["remaining"] == 0:
        closed = close_trade(state, symbol, order.reason or "EXIT", fill.ts)
        logs.append(f"{symbol} {closed['side']} trade closed ({closed['exit_reason']}), P&L {Decimal(closed['realized_pnl']):+.2f}")


def _late_exit_fill(state: State, symbol: str, fill: Fill, order: Order, logs: list[str]) -> None:
    """An exit fill for a trade already closed from the positions (e.g. a stop filled while down)."""
    for trade in reversed(state["closed"]):
        if trade["symbol"] == symbol and trade["status"] == "closed" and trade["unaccounted"] > 0:
            quantity = min(fill.quantity, trade["unaccounted"])
            pnl = SIGN[trade["side"]] * (fill.price - Decimal(trade["entry_price"])) * quantity
            trade["realized_pnl"] = _add(trade["realized_pnl"], pnl)
            trade["costs"] = _add(trade["costs"], fill.costs)
            trade["unaccounted"] -= quantity
            trade["exits"].append(
                {"reason": order.reason, "quantity": quantity, "price": str(fill.price), "ts": fill.ts.isoformat()}
            )
            if trade["exit_reason"] == CLOSED_AT_BROKER:
                trade["exit_reason"] = order.reason or CLOSED_AT_BROKER
            logs.append(f"{symbol}: late fill {quantity} @ {fill.price} ({order.reason}) booked to {trade['id']}")
            return
    logs.append(f"{symbol}: exit fill {fill.side} {fill.quantity} @ {fill.price} ({order.reason}) matches no trade; ignored")


def reconcile(context: StrategyContext, state: State, logs: list[str], timeout: timedelta) -> None:
    """Bring the trade record in line with the engine's positions (the broker's truth).

    An entry neither filled nor working at the broker ``timeout`` after it was
    sent (refused by the risk layer, rejected) is given up; its attempt stays
    counted, so a broker that keeps rejecting sees at most ``max_attempts`` orders.
    """
    for symbol in sorted(state["setups"]):
        instrument = state["instruments"][symbol]
        position = position_of(context, instrument)
        trade = state["trades"].get(symbol)
        if trade is not None and trade["status"] == "pending":
            if position is not None and (position.quantity > 0) == (trade["side"] == LONG):
                _open_from_position(trade, position)
                logs.append(f"{symbol}: entry found filled at the broker: {abs(position.quantity)} @ {position.average_price}")
            elif has_working_order(context, instrument, entries_only=True):
                continue
            elif context.now - datetime.fromisoformat(trade["sent_at"]) >= timeout:
                trade["status"] = "unfilled"
                state["closed"].append(trade)
                state["trades"][symbol] = None
                logs.append(
                    f"{symbol} {trade['side']} entry not filled after {timeout.total_seconds():.0f} s "
                    f"(rejected or refused); attempt {trade['attempt']} stays counted"
                )
        elif trade is not None and trade["status"] == "open":
            if position is None:
                trade["unaccounted"] = trade["remaining"]
                trade["remaining"] = 0
                reason = trade["exit_sent"] or CLOSED_AT_BROKER
                close_trade(state, symbol, reason, context.now)
                logs.append(f"{symbol}: position no longer held at the broker; trade {trade['id']} closed ({reason})")
            elif abs(position.quantity) != trade["remaining"] and not trade.get("quantity_warned"):
                trade["quantity_warned"] = True
                logs.append(
                    f"{symbol}: broker holds {position.quantity}, ps60 counted {trade['remaining']}; "
                    "exits use the broker's quantity"
                )
        elif trade is None and position is not None:
            side = LONG if position.quantity > 0 else SHORT
            adopted = new_trade(
                symbol=symbol, instrument=instrument, side=side, attempt=state["attempts"][symbol][side],
                path="adopted", setup=state["setups"][symbol], now=context.now, signal_ts=None,
                signal_price=None, requested=abs(position.quantity),
            )
            _open_from_position(adopted, position)
            if position.stop_price is not None:
                adopted["stop"] = str(position.stop_price)
            state["trades"][symbol] = adopted
            logs.append(
                f"{symbol}: held position {position.quantity} @ {position.average_price} not in ps60's record; "
                f"managing it (stop {adopted['stop']}, targets {adopted['target_1']}/{adopted['target_2']})"
            )


def _open_from_position(trade: Trade, position: PositionView) -> None:
    quantity = abs(position.quantity)
    trade["filled"] = quantity
    trade["remaining"] = quantity
    trade["entry_cost"] = str(position.average_price * quantity)
    trade["entry_price"] = str(position.average_price)
    trade["opened_at"] = position.opened_at.isoformat() if position.opened_at else None
    trade["status"] = "open"
