"""A small venue that drives ps60 through the Strategy port the way the engine does.

It is a test driver, not a copy of the engine: it delivers 5-second bars in
event time, fills market orders at the price the test names, keeps one
protective stop order per position and fills it when a bar trades through
it, and round-trips the state through JSON after every call (the engine
persists it that way, so anything not plain data must fail here).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tradekit.model import Candle, Fill, Instrument, InstrumentKind, Order, OrderStatus, OrderType, Side
from tradekit.model.intents import Enter, Exit, MoveStop
from tradekit.ports.strategy import Decision, PositionView, SessionInfo, Strategy, StrategyContext

from tradekit_ps60 import factory

NY = ZoneInfo("America/New_York")
DAY = date(2025, 3, 4)
OPEN = datetime(2025, 3, 4, 9, 30, tzinfo=NY)
HEADER = "symbol,resistance,support,long_target_1,long_target_2,short_target_1,short_target_2"
SCANNER = f"""{HEADER}
TSLA,445.00,438.50,447.00,450.00,436.00,433.00
AAPL,230.00,226.00,231.50,233.00,224.50,223.00
"""


def session(day: date = DAY, close: time = time(16, 0)) -> SessionInfo:
    return SessionInfo(
        market="NYSE",
        day=day,
        timezone="America/New_York",
        open=datetime.combine(day, time(9, 30), NY),
        close=datetime.combine(day, close, NY),
    )


def instruments(*symbols: str) -> dict[str, Instrument]:
    return {
        f"SMART:{s}": Instrument(s, "SMART", InstrumentKind.EQUITY, currency="USD", tick_size=Decimal("0.01"))
        for s in symbols
    }


@dataclass
class Held:
    quantity: int
    average_price: Decimal
    opened_at: datetime
    stop: Decimal | None = None


def plain(value: Any) -> Any:
    """The state as the engine's store gives it back: through JSON, nothing else survives."""
    return json.loads(json.dumps(value))


def intent_view(intent: object) -> tuple:
    if isinstance(intent, Enter):
        return ("ENTER", intent.instrument_id, intent.side.value, intent.quantity, intent.reason, str(intent.stop_price))
    if isinstance(intent, Exit):
        return ("EXIT", intent.instrument_id, intent.reason, intent.quantity)
    if isinstance(intent, MoveStop):
        return ("MOVE_STOP", intent.instrument_id, str(intent.stop_price), intent.reason)
    raise AssertionError(f"unexpected intent {intent!r}")


@dataclass
class Sim:
    """Drives one strategy instance; ``restart()`` swaps in a fresh one built from the saved state."""

    settings: dict[str, object]
    scanner: Path | None
    symbols: tuple[str, ...] = ("TSLA", "AAPL")
    session_info: SessionInfo = field(default_factory=session)
    start_at: datetime = OPEN
    stop_orders: bool = True  # False: the venue reports no working stop (PositionView.stop_price None)

    def __post_init__(self) -> None:
        self.strategy: Strategy = factory(self.settings)
        self.ts = self.start_at
        self.positions: dict[str, Held] = {}
        self.record: list[tuple] = []  # (bar start, intents, blocks) of every step, for comparisons
        self.fills: list[tuple[str, str, int, Decimal]] = []
        self.sequence = 0
        self.last_logs: tuple[str, ...] = ()
        self.state: dict[str, Any] = {}
        self.start(None)

    # -- context ---------------------------------------------------------------
    def context(self) -> StrategyContext:
        extras = {"scanner": self.scanner} if self.scanner is not None else {}
        positions = {
            instrument: PositionView(
                instrument, held.quantity, held.average_price, held.opened_at,
                stop_price=held.stop if self.stop_orders else None,
            )
            for instrument, held in self.positions.items()
            if held.quantity != 0
        }
        return StrategyContext(
            now=self.ts, session=self.session_info, instruments=instruments(*self.symbols),
            positions=positions, extras=extras,
        )

    def _take(self, decision: Decision) -> Decision:
        self.state = plain(decision.state)
        self.last_logs = decision.logs
        assert all(isinstance(line, str) for line in decision.logs)
        return decision

    def start(self, state: dict[str, Any] | None) -> Decision:
        return self._take(self.strategy.start(self.context(), plain(state) if state is not None else None))

    def restart(self, settings: dict[str, object] | None = None) -> Decision:
        """A new process: a new strategy object, the saved state, the broker's positions."""
        self.strategy = factory(settings if settings is not None else self.settings)
        return self.start(self.state)

    # -- the venue -------------------------------------------------------------
    def _fill(self, instrument: str, side: Side, quantity: int, price: Decimal, reason: str) -> None:
        self.sequence += 1
        fill = Fill(f"F{self.sequence}", "paper:test", instrument, side, quantity, price, self.ts)
        order = Order(
            f"O{self.sequence}", "paper:test", instrument, side, quantity, reason=reason,
            status=OrderStatus.FILLED, filled_quantity=quantity, average_fill_price=price,
            order_type=OrderType.STOP_MARKET if reason == "STOP" else OrderType.MARKET,
            stop_price=price if reason == "STOP" else None,
        )
        held = self.positions.get(instrument)
        signed = side.sign * quantity
        if held is None or held.quantity == 0:
            self.positions[instrument] = Held(signed, price, self.ts)
        else:
            held.quantity += signed
            if held.quantity == 0:
                held.stop = None
        self.fills.append((instrument, reason, signed, price))
        self._take(self.strategy.on_fill(self.context(), fill, order, self.state))

    def _stops(self, bars: Mapping[str, Candle]) -> None:
        for instrument, candle in bars.items():
            held = self.positions.get(instrument)
            if held is None or held.quantity == 0 or held.stop is None or not self.stop_orders:
                continue
            if held.quantity > 0 and Decimal(str(candle.low)) <= held.stop:
                price = min(held.stop, Decimal(str(candle.open)))
                self._fill(instrument, Side.SELL, held.quantity, price, "STOP")
            elif held.quantity < 0 and Decimal(str(candle.high)) >= held.stop:
                price = max(held.stop, Decimal(str(candle.open)))
                self._fill(instrument, Side.BUY, -held.quantity, price, "STOP")

    def _act(self, decision: Decision, fill_price: Mapping[str, float], bars: Mapping[str, Candle]) -> None:
        for intent in decision.intents:
            instrument = intent.instrument_id
            symbol = instrument.split(":")[1]
            default = bars[instrument].close if instrument in bars else None
            price = Decimal(str(fill_price.get(symbol, default)))
            if isinstance(intent, Enter):
                self._fill(instrument, intent.side, intent.quantity, price, intent.reason)
                self.positions[instrument].stop = intent.stop_price
            elif isinstance(intent, Exit):
                held = self.positions[instrument]
                quantity = intent.quantity or abs(held.quantity)
                side = Side.SELL if held.quantity > 0 else Side.BUY
                self._fill(instrument, side, quantity, price, intent.reason)
            elif isinstance(intent, MoveStop):
                self.positions[instrument].stop = intent.stop_price

    def step(
        self,
        bars: Mapping[str, float | tuple[float, float, float, float]],
        fill: Mapping[str, float] | None = None,
        act: bool = True,
    ) -> Decision:
        """One 5-second bar per named symbol (a close, or open/high/low/close); fills at ``fill`` or the close."""
        candles: dict[str, Candle] = {}
        for symbol, value in bars.items():
            o, h, l, c = value if isinstance(value, tuple) else (value, value, value, value)
            candles[f"SMART:{symbol}"] = Candle(f"SMART:{symbol}", self.ts, 5, o, h, l, c, volume=100)
        self._stops(candles)
        self.ts += timedelta(seconds=5)
        decision = self._take(self.strategy.on_candles(self.context(), candles, self.state))
        self.record.append(
            (self.ts.isoformat(), tuple(intent_view(i) for i in decision.intents),
             tuple((b.rule, b.instrument_id) for b in decision.blocks))
        )
        if act:
            self._act(decision, fill or {}, candles)
        return decision

    def warm_up(self, bars: int = 19, prices: Mapping[str, float] | None = None) -> None:
        """``bars`` quiet bars between the pivots."""
        prices = prices or {"TSLA": 442.0, "AAPL": 228.0}
        for _ in range(bars):
            self.step(prices)

    def held(self, symbol: str) -> Held | None:
        held = self.positions.get(f"SMART:{symbol}")
        return held if held is not None and held.quantity != 0 else None


@pytest.fixture
def scanner_file(tmp_path: Path) -> Callable[[str], Path]:
    def write(text: str = SCANNER, name: str = "scanner-2025-03-04.csv") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


@pytest.fixture
def make_sim(scanner_file: Callable[[str], Path]) -> Callable[..., Sim]:
    def make(settings: dict[str, object] | None = None, scanner: str | None = SCANNER, **options: Any) -> Sim:
        return Sim(dict(settings or {}), scanner_file(scanner) if scanner is not None else None, **options)

    return make
