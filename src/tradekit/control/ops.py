"""What a trader can do to an engine: status, listings, close one position, flatten, pause, resume, unlatch.

Each function runs on the engine's thread (the control channel calls it
between steps) or on an engine built for one offline action, and goes the
engine's own way: journal first, then act at the broker, then settle the
fills. Returns plain JSON data for the endpoint.
"""

from __future__ import annotations

import os
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from tradekit.control import ControlError
from tradekit.control.queries import LISTINGS
from tradekit.engine.risk import LATCHES, RiskGate, pause_key
from tradekit.model.intents import Exit
from tradekit.model.orders import OrderStatus
from tradekit.ports.strategy import Decision


def plain(value: Any) -> Any:
    """JSON-safe: decimals and times as text."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def _gate(engine: Any) -> RiskGate:
    gate = getattr(engine, "risk", None)
    if gate is None:
        raise ControlError("this engine runs without a risk gate; latches and pauses need one")
    return gate


def _now(engine: Any) -> datetime:
    return engine.clock.now()


def resolve_instrument(engine: Any, symbol: str) -> str:
    """An open position's instrument id from ``NSE:TESTCO``, ``TESTCO`` or its label (case-insensitive)."""
    wanted = symbol.strip().upper()
    matches = []
    for position in engine.book.open_positions(engine.account):
        iid = position.instrument_id
        _, _, bare = iid.partition(":")
        if wanted in (iid.upper(), bare.upper(), engine._label(iid).upper()):
            matches.append(iid)
    if not matches:
        held = ", ".join(p.instrument_id for p in engine.book.open_positions(engine.account)) or "none"
        raise ControlError(f"no open position in {symbol!r} on {engine.account} (open: {held})")
    if len(matches) > 1:
        raise ControlError(f"{symbol!r} matches several positions: {', '.join(matches)}; give the instrument id")
    return matches[0]


def _act(engine: Any, intents: tuple[Any, ...], now: datetime) -> None:
    engine._apply(Decision(state=engine._state, intents=intents), now)
    engine._settle(now)
    engine._commit(force_durable=True)


def close(engine: Any, symbol: str, reason: str = "MANUAL_CLOSE") -> dict[str, Any]:
    """Close one position at market (its protective stop is cancelled by the exit)."""
    now = _now(engine)
    iid = resolve_instrument(engine, symbol)
    before = engine.book.position(engine.account, iid).quantity
    engine.log(f"CONTROL close {iid} ({before} held)", now)
    _act(engine, (Exit(iid, reason),), now)
    after = engine.book.position(engine.account, iid).quantity
    return {"instrument_id": iid, "closed": before - after, "remaining": after}


def flatten(engine: Any, *, reason: str = "flatten (kill switch)", exit_reason: str = "KILL_SWITCH") -> dict[str, Any]:
    """Kill switch: latch no new entries first (journalled), then close every position and cancel every working order."""
    gate = _gate(engine)
    now = _now(engine)
    gate.latch(engine, now, "kill", reason)
    engine._commit(force_durable=True)
    positions = engine.book.open_positions(engine.account)
    working_before = [o.client_order_id for o in engine.book.working_orders(engine.account)]
    engine.log(f"CONTROL flatten: {len(positions)} position(s), kill switch latched ({reason})", now)
    _act(engine, tuple(Exit(p.instrument_id, exit_reason) for p in positions), now)
    for order in list(engine.book.working_orders(engine.account)):
        if order.broker_order_id is not None:  # stops the exits did not take with them, entries still working
            engine._cancel(order, exit_reason, now)
    engine._settle(now)
    cancelled = sum(1 for cid in working_before if engine.book.orders[cid].status is OrderStatus.CANCELLED)
    engine._commit(force_durable=True)
    left = [p.instrument_id for p in engine.book.open_positions(engine.account)]
    working = [o.client_order_id for o in engine.book.working_orders(engine.account)]
    return {"closed": len(positions) - len(left), "cancelled": cancelled, "open_positions": left, "working_orders": working,
            "latched": "kill"}


def set_paused(engine: Any, strategy: str, paused: bool) -> dict[str, Any]:
    gate = _gate(engine)
    now = _now(engine)
    was = gate.paused(engine, strategy)
    if was != paused:
        value = {"since": now.isoformat()} if paused else None
        gate.set_item(engine, now, pause_key(strategy), value, "paused by trader" if paused else "resumed by trader")
        engine._commit(force_durable=True)
        engine.log(f"CONTROL {'pause' if paused else 'resume'} {strategy}: "
                   f"{'no new entries; exits and stops go on' if paused else 'entries allowed again'}", now)
    return {"strategy": strategy, "paused": paused, "changed": was != paused}


def unlatch(engine: Any, names: list[str]) -> dict[str, Any]:
    unknown = [n for n in names if n not in LATCHES]
    if unknown:
        raise ControlError(f"unknown latch {unknown[0]!r} (known: {', '.join(LATCHES)})")
    gate = _gate(engine)
    now = _now(engine)
    cleared = gate.unlatch(engine, now, names)
    engine._commit(force_durable=True)
    if cleared:
        engine.log(f"CONTROL unlatched {', '.join(cleared)}", now)
    return {"cleared": cleared, "still_latched": sorted(gate.latches(engine))}


def status(engine: Any) -> dict[str, Any]:
    now = _now(engine)
    account = engine.account
    gate = getattr(engine, "risk", None)
    positions = [{"instrument_id": p.instrument_id, "quantity": p.quantity, "average_price": p.average_price,
                  "strategy": p.strategy} for p in engine.book.open_positions(account)]
    working = [{"client_order_id": o.client_order_id, "instrument_id": o.instrument_id, "side": o.side.value,
                "quantity": o.quantity, "type": o.order_type.value, "stop_price": o.stop_price, "status": o.status.value}
               for o in engine.book.working_orders(account)]
    blocks = {rule: count for (acct, strategy, day, rule), count in engine.book.blocks.items()
              if acct == account and day == engine.session.day}
    cash = engine.book.cash.get(account, Decimal(0))
    data: dict[str, Any] = {
        "engine": "running" if getattr(engine, "control", None) is not None else "offline",
        "pid": os.getpid(), "account": account, "strategy": engine.strategy.name, "day": engine.session.day, "time": now,
        "cash": cash, "positions": positions, "working_orders": working, "blocks_today": blocks,
        "pace": getattr(getattr(engine, "control", None), "pace", None),
    }
    if gate is not None:
        data["latches"] = gate.latches(engine)
        data["paused"] = sorted(key.split(":", 1)[1] for (acct, key), record in engine.book.risk.items()
                                if acct == account and key.startswith("pause:") and record.value is not None)
    return plain(data)


def listing(engine: Any, name: str) -> dict[str, Any]:
    sql = LISTINGS.get(name)
    if sql is None:
        raise ControlError(f"unknown listing {name!r} (known: {', '.join(LISTINGS)})")
    engine.store.flush(engine.book)  # rows batched by a replay are written before they are read
    columns, rows = engine.store.query_with_columns(sql)
    return {"columns": columns, "rows": plain([list(row) for row in rows])}


def dispatch(engine: Any, request: dict[str, Any]) -> dict[str, Any]:
    """One endpoint request ``{"op": ..., ...}`` on the engine's thread."""
    op = request.get("op")
    if op == "status":
        return status(engine)
    if op == "listing":
        return listing(engine, str(request.get("name", "")))
    if op == "close":
        return close(engine, str(request.get("symbol", "")))
    if op == "flatten":
        return flatten(engine)
    if op in ("pause", "resume"):
        return set_paused(engine, str(request.get("strategy") or engine.strategy.name), op == "pause")
    if op == "unlatch":
        return unlatch(engine, list(request.get("latches") or ["kill", "drawdown"]))
    if op == "pace":
        control = getattr(engine, "control", None)
        seconds = float(request.get("seconds", 0))
        if control is None or seconds < 0:
            raise ControlError("pace needs a running engine and seconds >= 0")
        control.pace = seconds
        return {"pace": seconds}
    raise ControlError(f"unknown control operation {op!r}")
