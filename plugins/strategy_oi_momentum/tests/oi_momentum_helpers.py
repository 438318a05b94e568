"""A small driver for the strategy through its port: a hand-built NIFTY chain, candles, quotes, fills.

It plays the engine's part only as far as the port contract says: it asks for
decisions, keeps the state (round-tripped through JSON every step, as the
store does), fills Enter/Exit intents at their signal price (or a given
price), tells the strategy about the fill and keeps the book of positions.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from tradekit.model import Candle, Fill, Instrument, InstrumentKind, OptionRight, Order, OrderStatus, Quote, Side
from tradekit.model.intents import Block, Enter, Exit, Intent
from tradekit.ports.strategy import Decision, PositionView, SessionInfo, State, StrategyContext
from tradekit_oi_momentum import factory

IST = ZoneInfo("Asia/Kolkata")
DAY = date(2025, 12, 9)
EXPIRY = date(2025, 12, 9)
INDEX = "NSE:NIFTY 50"


def at(hhmm: str, day: date = DAY) -> datetime:
    parts = [int(p) for p in hhmm.split(":")]
    return datetime.combine(day, time(*parts), tzinfo=IST)


def option(strike: int, right: str, expiry: date = EXPIRY, underlying: str = "NIFTY") -> Instrument:
    code = "CE" if right == "CALL" else "PE"  # the broker-style symbol; the right itself is CALL/PUT
    return Instrument(
        symbol=f"{underlying}{expiry:%y%m%d}{strike}{code}",
        exchange="NFO",
        kind=InstrumentKind.OPTION,
        lot_size=75,
        underlying=underlying,
        expiry=expiry,
        strike=Decimal(strike),
        right=OptionRight(right),
    )


def build_instruments(strikes: Iterable[int], expiries: Iterable[date] = (EXPIRY,)) -> dict[str, Instrument]:
    """The index plus CALL and PUT at every strike for each expiry."""
    index = Instrument(symbol="NIFTY 50", exchange="NSE", kind=InstrumentKind.INDEX)
    instruments = {index.id: index}
    for expiry in expiries:
        for strike in strikes:
            for right in ("CALL", "PUT"):
                instrument = option(strike, right, expiry)
                instruments[instrument.id] = instrument
    return instruments


def oid(strike: int, right: str, expiry: date = EXPIRY) -> str:
    return option(strike, right, expiry).id


@dataclass
class Spec:
    """The next candle of one contract; sticky until changed."""

    close: float = 50.0
    oi: int = 1_000_000
    volume: int = 0
    high: float | None = None
    low: float | None = None


@dataclass
class Record:
    kind: str  # "start", "candles", "quotes", "fill"
    at: str
    decision: Decision

    def comparable(self) -> tuple[object, ...]:
        return (self.kind, self.at, self.decision.intents, self.decision.blocks, self.decision.logs)


@dataclass
class Harness:
    settings: dict[str, object] = field(default_factory=dict)
    strikes: tuple[int, ...] = tuple(range(25700, 26250, 50))
    expiries: tuple[date, ...] = (EXPIRY,)
    fill_prices: dict[str, float] = field(default_factory=dict)  # reason -> fill price override
    auto_fill: bool = True

    def __post_init__(self) -> None:
        self.strategy = factory(self.settings)
        self.instruments = build_instruments(self.strikes, self.expiries)
        self.session = SessionInfo("NSE", DAY, "Asia/Kolkata", at("09:15"), at("15:30"))
        self.positions: dict[str, PositionView] = {}
        self.working: tuple[Order, ...] = ()
        self.state: State | None = None
        self.records: list[Record] = []
        self.specs: dict[str, Spec] = {iid: Spec() for iid, i in self.instruments.items() if i.strike is not None}
        self.spot = 25950.0
        self.trades: list[dict[str, object]] = []
        self._fills = 0

    # -- driving ----------------------------------------------------------------------------

    def context(self, now: datetime) -> StrategyContext:
        return StrategyContext(
            now=now, session=self.session, instruments=self.instruments, positions=dict(self.positions),
            working_orders=self.working,
        )

    def _keep(self, kind: str, now: datetime, decision: Decision) -> Decision:
        assert isinstance(decision, Decision)
        self.state = json.loads(json.dumps(decision.state))  # what the store keeps: plain JSON
        self.records.append(Record(kind, now.isoformat(), decision))
        if self.auto_fill:
            for intent in decision.intents:
                self.fill(intent, now)
        return decision

    def start(self, now: str = "09:14") -> Decision:
        moment = at(now)
        return self._keep("start", moment, self.strategy.start(self.context(moment), self.state))

    def restart(self, now: str) -> Decision:
        """A new process: a fresh strategy instance that only gets the saved state."""
        self.strategy = factory(self.settings)
        return self.start(now)

    def set(self, strike: int, right: str, **changes: object) -> None:
        spec = self.specs[oid(strike, right)]
        for key, value in changes.items():
            setattr(spec, key, value)

    def candle(self, hhmm: str, spot: float | None = None, now: datetime | None = None, minutes: int = 5) -> Decision:
        """All subscribed instruments' candles starting at ``hhmm``; delivered at its close unless ``now``."""
        if spot is not None:
            self.spot = spot
        start = at(hhmm)
        moment = now or start + timedelta(minutes=minutes)
        subscription = self.strategy.subscription(self.context(moment), self.state or {})
        candles: dict[str, Candle] = {}
        for iid in subscription.instruments:
            if iid == INDEX:
                candles[iid] = Candle(iid, start, minutes * 60, self.spot, self.spot, self.spot, self.spot)
                continue
            s = self.specs[iid]
            high = s.high if s.high is not None else s.close
            low = s.low if s.low is not None else s.close
            candles[iid] = Candle(iid, start, minutes * 60, s.close, high, low, s.close, s.volume, s.oi)
        assert self.state is not None
        return self._keep("candles", moment, self.strategy.on_candles(self.context(moment), candles, self.state))

    def quote(self, hhmm: str, last: float, oi: int | None = None, instrument: str | None = None) -> Decision:
        """A fresh quote for the monitored contract (or ``instrument``) at ``hhmm[:ss]``."""
        moment = at(hhmm)
        assert self.state is not None
        subscription = self.strategy.subscription(self.context(moment), self.state)
        quotes = {}
        for iid in ([instrument] if instrument else subscription.monitor_instruments):
            quotes[iid] = Quote(iid, moment, last, oi=oi if oi is not None else self.specs[iid].oi)
        return self._keep("quotes", moment, self.strategy.on_quotes(self.context(moment), quotes, self.state))

    def fill(self, intent: Intent, now: datetime, price: float | None = None, quantity: int | None = None) -> Decision:
        """Fill an intent like a paper venue would, update the book, tell the strategy."""
        assert isinstance(intent, (Enter, Exit))
        held = self.positions.get(intent.instrument_id)
        side = intent.side if isinstance(intent, Enter) else Side.SELL
        qty = quantity or (intent.quantity if isinstance(intent, Enter) else (held.quantity if held else 0))
        fill_price = price or self.fill_prices.get(intent.reason) or intent.signal_price
        assert fill_price is not None and qty
        self._fills += 1
        fill = Fill(f"F{self._fills}", "paper:test", intent.instrument_id, side, qty, Decimal(str(fill_price)), now)
        order = Order(f"O{self._fills}", "paper:test", intent.instrument_id, side, qty, reason=intent.reason,
                      status=OrderStatus.FILLED, filled_quantity=qty, average_fill_price=fill.price)
        if side is Side.BUY:
            old_qty = held.quantity if held else 0
            old_avg = held.average_price if held else Decimal(0)
            avg = (old_avg * old_qty + fill.price * qty) / (old_qty + qty)
            self.positions[intent.instrument_id] = PositionView(intent.instrument_id, old_qty + qty, avg, now)
        else:
            assert held is not None
            remaining = held.quantity - qty
            if remaining:
                self.positions[intent.instrument_id] = PositionView(intent.instrument_id, remaining, held.average_price, held.opened_at)
            else:
                del self.positions[intent.instrument_id]
                self.trades.append({"instrument": intent.instrument_id, "exit_reason": intent.reason, "exit_time": now,
                                    "entry": held.average_price, "exit": fill.price})
        assert self.state is not None
        decision = self.strategy.on_fill(self.context(now), fill, order, self.state)
        self.state = json.loads(json.dumps(decision.state))
        self.records.append(Record("fill", now.isoformat(), decision))
        return decision

    # -- reading ----------------------------------------------------------------------------

    def intents(self) -> list[Intent]:
        return [intent for record in self.records for intent in record.decision.intents]

    def blocks(self) -> list[Block]:
        return [block for record in self.records for block in record.decision.blocks]

    def logs(self) -> list[str]:
        return [line for record in self.records for line in record.decision.logs]

    def exits(self) -> list[Exit]:
        return [intent for intent in self.intents() if isinstance(intent, Exit)]

    def entries(self) -> list[Enter]:
        return [intent for intent in self.intents() if isinstance(intent, Enter)]


def put_day_opening(h: Harness, spot: float = 25946.95) -> None:
    """Start and play the 09:15 candle of a PUT day (call OI heavier than put OI)."""
    h.start()
    h.set(26000, "CALL", oi=35_123_625)
    h.set(26000, "PUT", oi=17_592_275)
    h.candle("09:15", spot=spot)


Step = Callable[[Harness], object]
