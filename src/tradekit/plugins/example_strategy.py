"""``example``: a deliberately small strategy that shows the port and exercises the engine.

Each candle of the configured instrument: flat and the candle rose by at
least ``entry_move_pct`` -> buy with a protective stop ``stop_pct`` below
the close; in a position: exit after ``hold_candles`` candles
(``TIME_EXIT``) or at ``square_off`` (``END_OF_DAY``). Real strategies live
in their own packages (``oi-momentum``, ``ps60``); this one is for tests,
examples and the plugin author guide.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from tradekit.model import Candle, Fill, InstrumentId, Order, Quote, Side
from tradekit.model.intents import Block, Enter, Exit
from tradekit.plugins.hookspecs import hookimpl
from tradekit.ports.strategy import Decision, State, StrategyContext, Subscription
from tradekit.settings import Converter, clock_time, non_negative, nonempty, positive, read_section, text, whole

DEFAULTS: dict[str, Any] = {
    "market": "NSE",
    "instrument": "",  # instrument id; empty: the first tradable instrument of the day
    "quantity": 0,  # units; 0: one lot
    "candle_seconds": 300,
    "monitor_seconds": 60,
    "entry_move_pct": 0.2,
    "stop_pct": 1.0,
    "hold_candles": 3,
    "max_entries": 3,
    "square_off": "15:15",
}
CONVERTERS: dict[str, Converter] = {
    "market": nonempty, "instrument": text, "quantity": whole(0), "candle_seconds": whole(1), "monitor_seconds": whole(1),
    "entry_move_pct": non_negative, "stop_pct": positive, "hold_candles": whole(1), "max_entries": whole(0),
    "square_off": clock_time,
}


class ExampleStrategy:
    name = "example"

    def __init__(self, settings: Mapping[str, Any]) -> None:
        values = read_section("strategies.example", settings, CONVERTERS, defaults=DEFAULTS)  # one line naming a bad key
        self.market = values["market"]
        self.instrument = values["instrument"]
        self.quantity = values["quantity"]
        self.candle_seconds = values["candle_seconds"]
        self.monitor_seconds = values["monitor_seconds"]
        self.entry_move = values["entry_move_pct"] / 100
        self.stop = values["stop_pct"] / 100
        self.hold = values["hold_candles"]
        self.max_entries = values["max_entries"]
        self.square_off = values["square_off"]

    def _target(self, context: StrategyContext) -> InstrumentId:
        if self.instrument:
            return self.instrument
        tradable = sorted(i for i, instrument in context.instruments.items() if instrument.tradable)
        if not tradable:
            raise ValueError("no tradable instrument in today's data")
        return tradable[0]

    def start(self, context: StrategyContext, state: State | None) -> Decision:
        if state is not None:
            return Decision(state=state)
        target = self._target(context)
        lot = context.instruments[target].lot_size if target in context.instruments else 1
        return Decision(
            state={"instrument": target, "quantity": self.quantity or lot, "entries": 0, "held_candles": 0},
            logs=(f"watching {target}",),
        )

    def subscription(self, context: StrategyContext, state: State) -> Subscription:
        target = state.get("instrument") or self._target(context)
        return Subscription(candle_seconds=self.candle_seconds, instruments=(target,),
                            monitor_seconds=self.monitor_seconds, monitor_instruments=())

    def _past_square_off(self, context: StrategyContext) -> bool:
        local = context.now.astimezone(ZoneInfo(context.session.timezone)).time()
        return local >= self.square_off

    def on_candles(self, context: StrategyContext, candles: Mapping[InstrumentId, Candle], state: State) -> Decision:
        target = state["instrument"]
        candle = candles.get(target)
        state = dict(state)
        if candle is None:
            return Decision(state=state)
        if target in context.positions:
            state["held_candles"] = state["held_candles"] + 1
            if state["held_candles"] >= self.hold:
                return Decision(state=state, intents=(Exit(target, "TIME_EXIT", signal_price=candle.close),))
            return Decision(state=state)
        if self._past_square_off(context):
            return Decision(state=state)
        move = (candle.close - candle.open) / candle.open
        if move < self.entry_move:
            return Decision(state=state)
        if state["entries"] >= self.max_entries:
            return Decision(state=state, blocks=(Block("MAX_ENTRIES", f"{self.max_entries} entries today", target),))
        state["entries"] += 1
        state["held_candles"] = 0
        stop = Decimal(repr(candle.close * (1 - self.stop)))
        return Decision(
            state=state,
            intents=(Enter(target, Side.BUY, state["quantity"], signal_price=candle.close, stop_price=stop),),
            logs=(f"entry signal: candle {candle.ts.astimezone(ZoneInfo(context.session.timezone)):%H:%M} rose {move:.2%}, "
                  f"stop {stop:.2f}",),
        )

    def on_quotes(self, context: StrategyContext, quotes: Mapping[InstrumentId, Quote], state: State) -> Decision:
        target = state["instrument"]
        if target in context.positions and self._past_square_off(context) and target in quotes:
            return Decision(state=state, intents=(Exit(target, "END_OF_DAY", signal_price=quotes[target].last),))
        return Decision(state=state)

    def on_fill(self, context: StrategyContext, fill: Fill, order: Order, state: State) -> Decision:
        return Decision(state=state)


@hookimpl
def register_strategies(register: Any) -> None:
    register("example", ExampleStrategy)
