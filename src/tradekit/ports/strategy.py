"""The Strategy port.

A strategy is a pure decision function: it receives market data, a read-only
view of its positions and its own state, and returns a ``Decision``: the new
state (plain JSON-able data the engine persists in the store with the step),
intents, log lines and blocks. It never calls a broker and never does I/O,
so a replay and a live run make the same decisions and a restart continues
exactly where it stopped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

from tradekit.model import Candle, Fill, Instrument, InstrumentId, Order, Quote
from tradekit.model.intents import Block, Intent

State = dict[str, Any]
"""Plain data only: dict, list, str, int, float, bool, None."""


@dataclass(frozen=True, slots=True)
class Subscription:
    """What the strategy wants the engine to deliver."""

    candle_seconds: int  # strategy loop: candles of this length, delivered when each closes
    instruments: tuple[InstrumentId, ...]  # candles for these every loop
    monitor_seconds: int | None = None  # exit monitor period; None: no monitor
    monitor_instruments: tuple[InstrumentId, ...] = ()  # fresh quotes for these (plus held positions)


@dataclass(frozen=True, slots=True)
class SessionInfo:
    market: str  # "NSE" or "NYSE"
    day: date
    timezone: str  # "Asia/Kolkata", "America/New_York"
    open: datetime  # timezone-aware
    close: datetime


@dataclass(frozen=True, slots=True)
class PositionView:
    """The strategy's position in one instrument as the engine's book holds it."""

    instrument_id: InstrumentId
    quantity: int  # signed
    average_price: Decimal
    opened_at: datetime | None
    stop_price: Decimal | None = None  # the working protective stop, if any
    external: bool = False


@dataclass(frozen=True)
class StrategyContext:
    now: datetime  # event time of this step (a candle's end, a monitor tick), timezone-aware
    session: SessionInfo
    instruments: Mapping[InstrumentId, Instrument]
    positions: Mapping[InstrumentId, PositionView]
    working_orders: tuple[Order, ...] = ()
    cash: Decimal = Decimal(0)
    equity: Decimal = Decimal(0)
    extras: Mapping[str, Any] = field(default_factory=dict)  # day files a strategy may need (e.g. "scanner")


@dataclass(frozen=True)
class Decision:
    state: State
    intents: tuple[Intent, ...] = ()
    logs: tuple[str, ...] = ()
    blocks: tuple[Block, ...] = ()


@runtime_checkable
class Strategy(Protocol):
    name: str
    market: str  # which exchange calendar and sample data it trades: "NSE" or "NYSE"

    def start(self, context: StrategyContext, state: State | None) -> Decision:
        """Begin or resume the day. ``state`` is today's saved state, or None on a fresh day
        (yesterday's state is never passed: intraday counters reset; held positions are in the context)."""

    def subscription(self, context: StrategyContext, state: State) -> Subscription:
        """What to deliver next; asked before every step."""

    def on_candles(self, context: StrategyContext, candles: Mapping[InstrumentId, Candle], state: State) -> Decision:
        """Candles that just closed (each stamped with its own start time)."""

    def on_quotes(self, context: StrategyContext, quotes: Mapping[InstrumentId, Quote], state: State) -> Decision:
        """Exit monitor: quotes fetched fresh for this check (never a cached candle)."""

    def on_fill(self, context: StrategyContext, fill: Fill, order: Order, state: State) -> Decision:
        """One of the strategy's orders filled (partly or wholly)."""

    # Optional (looked up with getattr), replays and backtests only:
    #   wake_times(context, day: tradekit.data.MarketDay) -> Iterable[datetime] | None
    #       the candle closes at which on_candles can decide anything today, from one vectorised
    #       pass over the day's arrays (day.series[instrument_id].close, ...); the engine steps only
    #       there (plus exit-monitor ticks). None: every candle. A strategy whose decisions depend on
    #       each candle in turn must not define it (docs/plugin-authors.md).
