"""Services over the paper venue used outside a run: its account and manual orders."""

from __future__ import annotations

from datetime import datetime, time
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


def open_venue(ws: Workspace, instrument_id: str | None = None, at: datetime | None = None,
               market: str | None = None) -> PaperVenue:
    """The venue at its own watermark (or moved forward to ``at``), priced by the market day it last traded."""
    return _venue(ws, instrument_id, at, market)


def _venue(ws: Workspace, instrument_id: str | None = None, at: datetime | None = None,
           market: str | None = None) -> PaperVenue:
    """The venue at its own watermark, priced by the market day it last traded.

    The market (and so the default account: NSE ``default``, NYSE ``us``) comes from ``market`` or
    the instrument's exchange (SMART/NYSE/NASDAQ are US)."""
    import json

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
    if at is not None:
        if at < moment:
            raise ConfigError(f"--until {at.isoformat()} is before the paper venue's time {moment.isoformat()}; "
                              "its time never runs backwards")
        moment = at
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


def venue_time(ws: Workspace) -> datetime:
    """The paper venue's market time (its watermark)."""
    import json

    path = venue_path(ws.home, paper_settings(ws.config.section("paper")).account)
    if not path.exists():
        raise DataError(f"no paper account yet at {path}; run `tradekit run` first")
    watermark = json.loads(path.read_text()).get("watermark")
    if not watermark:
        raise DataError(f"paper account {path} has no market time yet; run `tradekit run` first")
    return datetime.fromisoformat(watermark)


def parse_until(text: str, current: datetime) -> datetime:
    """``HH:MM`` on the venue's day (exchange time), ``+N`` minutes, or a full ISO time."""
    from datetime import timedelta

    value = text.strip()
    try:
        if value.startswith("+"):
            return current + timedelta(minutes=float(value[1:]))
        if len(value) <= 5 and ":" in value:
            hour, minute = (int(part) for part in value.split(":"))
            return datetime.combine(current.date(), time(hour, minute), current.tzinfo)  # the venue's own offset
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"--until: expected HH:MM, +MINUTES or an ISO time, got {text!r}") from None
    if moment.tzinfo is None:
        raise ConfigError(f"--until {text!r}: give a time zone (e.g. +05:30)")
    return moment


def fill_while_down(ws: Workspace, order_id: str | None, price: Decimal | None, until: str | None) -> list[dict[str, Any]]:
    """Fills "while tradekit is down": move the venue's market time forward (working orders the price path
    crossed fill, as at a real broker), and/or fill one working order now at a price."""
    if order_id is None and until is None:
        raise ConfigError("give a working order id (with --price, or the current quote) or --until TIME")
    before = {f.fill_id for f in _venue(ws).fill_reports(None)}
    moment = parse_until(until, venue_time(ws)) if until else None
    venue = _venue(ws, at=moment)
    venue.connect()  # moves the market time to --until: stops and limits the path crossed fill now
    if order_id is not None:
        venue.fill_working(order_id, price)
    return [
        {"fill_id": f.fill_id, "broker_order_id": f.broker_order_id, "tag": f.client_order_id, "instrument_id": f.instrument_id,
         "side": f.side.value, "quantity": f.quantity, "price": str(f.price), "ts": f.ts.isoformat()}
        for f in venue.fill_reports(None) if f.fill_id not in before
    ]
