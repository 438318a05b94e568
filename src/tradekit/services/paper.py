"""Services over the paper venue used outside a run: its account and manual orders."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tradekit.clock import SimClock
from tradekit.data import find_day, load_day
from tradekit.errors import ConfigError, DataError
from tradekit.model.orders import OrderType, Side
from tradekit.plugins.paper import create_paper_broker, paper_settings, venue_path
from tradekit.plugins.paper.venue import PaperVenue
from tradekit.plugins.replay import ReplayMarket
from tradekit.ports.context import BrokerContext
from tradekit.services.setup import Workspace


def _venue(ws: Workspace, instrument_id: str | None = None, market: str | None = None) -> PaperVenue:
    """The venue at its own watermark, priced by the market day it last traded.

    The market (and so the default account: NSE ``default``, NYSE ``us``) comes from ``market`` or
    the instrument's exchange (SMART/NYSE/NASDAQ are US)."""
    import json
    from datetime import datetime

    if market is None:
        market = "NYSE" if instrument_id and instrument_id.startswith(("SMART:", "NYSE:", "NASDAQ:")) else "NSE"
    settings = paper_settings(ws.config.section("paper"), market)
    path = venue_path(ws.home, settings.account)
    if not path.exists():
        raise DataError(f"no paper account yet at {path}; run `tradekit run` first")
    state = json.loads(path.read_text())
    if not state.get("watermark"):
        raise DataError(f"paper account {path} has no market time yet; run `tradekit run` first")
    moment = datetime.fromisoformat(state["watermark"])
    replay = None
    for name in (market, "NYSE" if market == "NSE" else "NSE"):
        for candidate in (moment.date(), (moment.astimezone().date())):
            try:
                replay = load_day(find_day(name, candidate, ws.config.get("data.root") or None))
                break
            except DataError:
                continue
        if replay is not None:
            break
    if replay is None:
        raise DataError(f"no market data for the paper venue's day {moment.date()}")
    section = {**ws.config.section("paper"), "account": settings.account}
    context = BrokerContext("paper", section, ws.home, SimClock(moment), market=ReplayMarket(replay))
    return create_paper_broker(context)


def venue_account(ws: Workspace, market: str = "NSE") -> dict[str, Any]:
    venue = _venue(ws, market=market.upper())
    report = venue.account_report()
    return {
        "account": report.account,
        "cash": str(report.cash),
        "equity": str(report.equity),
        "positions": [{"instrument_id": p.instrument_id, "quantity": p.quantity, "average_price": str(p.average_price)}
                      for p in venue.position_reports()],
    }


def manual_order(ws: Workspace, side: str, instrument_id: str, quantity: int, stop: Decimal | None) -> str:
    try:
        parsed = Side(side.upper())
    except ValueError:
        raise ConfigError(f"side must be BUY or SELL, got {side!r}") from None
    venue = _venue(ws, instrument_id)
    if stop is not None:
        return venue.place_manual(instrument_id, parsed, quantity, order_type=OrderType.STOP_MARKET, stop_price=stop)
    return venue.place_manual(instrument_id, parsed, quantity)


