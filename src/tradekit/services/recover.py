"""``recover``: what a restart restores, and the broker fills it would apply."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from tradekit.clock import SimClock
from tradekit.data import find_day, load_day
from tradekit.errors import DataError
from tradekit.model.events import FillRecorded
from tradekit.plugins.paper import create_paper_broker, paper_settings
from tradekit.plugins.replay import ReplayMarket
from tradekit.ports.context import BrokerContext
from tradekit.services.setup import Workspace


def paper_account(ws: Workspace, market: str = "NSE") -> str:
    return f"paper:{paper_settings(ws.config.section('paper'), market).account}"


def recover(ws: Workspace, strategy: str, *, apply: bool = False) -> dict[str, Any]:
    market = ws.strategy(strategy).market
    account = paper_account(ws, market)
    store = ws.open_store(readonly=not apply)
    try:
        book = store.load_book()
        day = book.current_day.get(account)
        record = book.strategies.get((account, strategy))
        missed: list[str] = []
        if day is not None and (ws.home / "paper").exists():
            replay = None
            for name in (market,):
                try:
                    replay = load_day(find_day(name, day, ws.config.get("data.root") or None))
                    break
                except DataError:
                    continue
            if replay is not None:
                moment = record.ts if record is not None and record.day == day else None
                clock = SimClock(moment or _session_open(replay))
                venue = create_paper_broker(BrokerContext("paper", ws.config.section("paper"), ws.home, clock, market=ReplayMarket(replay)))
                by_tag = {o.client_order_id: o for o in book.orders.values()}
                for fill in venue.fill_reports(None):
                    if (account, fill.fill_id) in book.fill_ids:
                        continue
                    order = by_tag.get(fill.client_order_id or "")
                    missed.append(f"fill {fill.fill_id}: {fill.side} {fill.quantity} {fill.instrument_id} @ {fill.price} at {fill.ts.isoformat()}")
                    if apply:
                        event = FillRecorded(ts=fill.ts, account=account, fill=replace(fill, account=account),
                                             strategy=order.strategy if order else "", inferred=order is None)
                        book.apply(event)
                        store.commit([event], book, durable=True)
        return {
            "account": account,
            "day": day.isoformat() if day else None,
            "cash": str(book.cash.get(account, "")),
            "positions": [p.to_dict() for p in book.open_positions(account)],
            "working_orders": [o.to_dict() for o in book.working_orders(account)],
            "strategy_day": record.day.isoformat() if record is not None else None,
            "strategy_ts": record.ts.isoformat() if record is not None else None,
            "strategy_state": record.state if record is not None else None,
            "missed_fills": missed,
        }
    finally:
        store.close()


def _session_open(replay: Any) -> Any:
    from tradekit.calendars import session

    info = session(replay.market, replay.day)
    if info is None:
        raise DataError(f"{replay.day} is not a {replay.market} session")
    return info.open
