"""ps60: pivot breakouts on US equities, as a pure implementation of the Strategy port.

Per symbol of the day's scanner file: 5-second bars in a rolling buffer; no
entry check before the buffer holds ``warmup_bars`` bars; long when a bar
closes above resistance, short when one closes below support; at most
``max_attempts`` entries per pivot per side per day; stop at the pivot;
``partial_fraction`` off at target 1 with the stop moved to break-even; the
rest out at target 2, the stop, or the square-off time. Everything the next
step needs is in the returned state, so a restart continues exactly here.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from tradekit.errors import StrategyError
from tradekit.model import Candle, Fill, InstrumentId, Order, Quote, Side, snap_to_tick, to_decimal
from tradekit.model.intents import Block, Enter, Exit, Intent, MoveStop
from tradekit.ports.strategy import Decision, State, StrategyContext, Subscription

from tradekit_ps60 import book
from tradekit_ps60.analytics import report_lines, summarize
from tradekit_ps60.book import LONG, SHORT, SIGN
from tradekit_ps60.config import Ps60Config
from tradekit_ps60.scanner import ScannerError, Setup, read_scanner

STATE_VERSION = 1
DEFAULT_TICK = Decimal("0.01")


def bar_row(candle: Candle) -> str:
    """A buffered bar as one string, ``"<start iso> open high low close volume"``.

    One string per bar instead of six values keeps the state small: the
    engine journals it after every step, so its size is paid 4,680 times a day.
    """
    values = (candle.open, candle.high, candle.low, candle.close)
    return " ".join([candle.ts.isoformat(), *(repr(float(v)) for v in values), str(int(candle.volume))])


def bar_start(row: str) -> datetime:
    return datetime.fromisoformat(row.split(" ", 1)[0])


def bar_close(row: str) -> Decimal:
    return to_decimal(row.split(" ")[4])


def _copy(state: State) -> State:
    """A private copy of plain data (a pickle round trip: several times faster than deepcopy)."""
    return pickle.loads(pickle.dumps(state, pickle.HIGHEST_PROTOCOL))


def _started(state: State | None) -> bool:
    return bool(state) and state.get("version") == STATE_VERSION


class _Step:
    """What one call decides, collected in order."""

    def __init__(self) -> None:
        self.intents: list[Intent] = []
        self.logs: list[str] = []
        self.blocks: list[Block] = []


class Ps60Strategy:
    """The ps60 strategy; holds only its config, never day data (that is all in the state)."""

    name = "ps60"
    market = "NYSE"

    def __init__(self, config: Ps60Config | None = None) -> None:
        self.config = config or Ps60Config()
        self._entry_timeout = timedelta(seconds=self.config.entry_timeout_bars * self.config.bar_seconds)

    # -- port -----------------------------------------------------------------

    def start(self, context: StrategyContext, state: State | None) -> Decision:
        """Resume today's saved state as it is, or read the scanner file and begin the day."""
        step = _Step()
        day = context.session.day.isoformat()
        if state is not None and state.get("day") == day and state.get("version") != STATE_VERSION:
            raise StrategyError(
                f"ps60: today's saved state has version {state.get('version')!r}, this ps60 reads "
                f"{STATE_VERSION}; refusing to start the day over with positions possibly open (install the matching tradekit-ps60)"
            )
        if state is not None and state.get("day") == day:
            state = _copy(state)
            buffers = ", ".join(f"{s} {len(b)}" for s, b in sorted(state["buffers"].items()) if b) or "empty"
            step.logs.append(
                f"ps60 resuming {day}: {len(state['setups'])} setups from {state['scanner']} "
                f"(saved, not re-read); bar buffers: {buffers}"
            )
        else:
            if state is not None:
                step.logs.append(
                    f"ps60: saved state is from {state.get('day')}, not {day}; intraday counters reset"
                )
            state = self._fresh_state(context, step)
        book.reconcile(context, state, step.logs, self._entry_timeout)
        return self._decision(state, step)

    def subscription(self, context: StrategyContext, state: State) -> Subscription:
        """5-second bars for every scanner symbol tradable here."""
        instruments = tuple(state["instruments"][symbol] for symbol in sorted(state["setups"]))
        return Subscription(
            candle_seconds=self.config.bar_seconds,
            instruments=instruments,
            monitor_seconds=self.config.monitor_seconds,
        )

    def on_candles(self, context: StrategyContext, candles: Mapping[InstrumentId, Candle], state: State) -> Decision:
        """Buffer each bar, manage open trades, look for breakouts, square off at the end."""
        if not _started(state):
            raise StrategyError("ps60: on_candles called before start(): the day's setups are not loaded")
        by_instrument = {instrument: symbol for symbol, instrument in state["instruments"].items()}
        if self._idle(context, candles, state, by_instrument):
            return Decision(state=state)  # nothing changes: the engine journals no checkpoint
        state = _copy(state)
        step = _Step()
        book.reconcile(context, state, step.logs, self._entry_timeout)
        for instrument in sorted(candles):
            symbol = by_instrument.get(instrument)
            candle = candles[instrument]
            if symbol is None or not self._buffer(state, symbol, candle):
                continue
            trade = state["trades"][symbol]
            if trade is not None and trade["status"] == "open":
                long = trade["side"] == LONG
                reach = candle.close
                if self.config.target_trigger == "extreme":
                    reach = candle.high if long else candle.low
                self._manage(context, state, symbol, reach=reach, last=candle.close, step=step)
            self._entry_check(context, state, symbol, candle, step)
        self._square_off(context, state, step)
        return self._decision(state, step)

    @staticmethod
    def _idle(
        context: StrategyContext, candles: Mapping[InstrumentId, Candle], state: State, by_instrument: dict[str, str]
    ) -> bool:
        """No bar of ours, no trade of ours, no position in our symbols: a step with nothing to do."""
        return (
            not any(instrument in by_instrument for instrument in candles)
            and all(trade is None for trade in state["trades"].values())
            and not any(instrument in context.positions for instrument in by_instrument)
        )

    def on_quotes(self, context: StrategyContext, quotes: Mapping[InstrumentId, Quote], state: State) -> Decision:
        """Exit monitor (only when ``monitor_seconds`` is set): targets and square-off on fresh prices."""
        if not _started(state):
            raise StrategyError("ps60: on_quotes called before start(): the day's setups are not loaded")
        state = _copy(state)
        step = _Step()
        book.reconcile(context, state, step.logs, self._entry_timeout)
        by_instrument = {instrument: symbol for symbol, instrument in state["instruments"].items()}
        for instrument in sorted(quotes):
            symbol = by_instrument.get(instrument)
            trade = state["trades"].get(symbol) if symbol else None
            if symbol is not None and trade is not None and trade["status"] == "open":
                last = quotes[instrument].last
                self._manage(context, state, symbol, reach=last, last=last, step=step)
        self._square_off(context, state, step)
        return self._decision(state, step)

    def on_fill(self, context: StrategyContext, fill: Fill, order: Order, state: State) -> Decision:
        """Book an entry or exit fill (partial fills included) into the trade record."""
        if not _started(state):
            # A fill dispatched before start() (an engine settling missed fills first): nothing to book
            # it into; start() reconciles the record with the broker's positions instead.
            return Decision(state=state, logs=(f"ps60: fill {fill.fill_id} ({order.reason}) before start; left to reconciliation",))
        state = _copy(state)
        step = _Step()
        symbol = {instrument: s for s, instrument in state["instruments"].items()}.get(fill.instrument_id)
        if symbol is None:
            step.logs.append(f"ps60: fill for {fill.instrument_id} is not a scanner symbol; ignored")
        elif order.reason.startswith("ENTRY"):
            book.apply_entry_fill(state, symbol, fill, step.logs)
        else:
            book.apply_exit_fill(state, symbol, fill, order, step.logs)
        return self._decision(state, step)

    # -- extras for the engine and report -------------------------------------

    def analytics(self, state: State) -> dict[str, object]:
        """The day's analytics as plain data (also saved as ``state["analytics"]``)."""
        return summarize(state)

    def report_lines(self, state: State) -> list[str]:
        """Lines for ``tradekit report``."""
        return report_lines(state)

    # -- the day ----------------------------------------------------------------

    def _fresh_state(self, context: StrategyContext, step: _Step) -> State:
        scanner = context.extras.get("scanner")
        if scanner is None:
            raise StrategyError(
                "ps60 needs the day's scanner file: none was given (context extras 'scanner'; "
                "see docs/strategies/ps60.md for where the engine looks for it)"
            )
        path = Path(scanner)
        setups = read_scanner(path)
        instruments: dict[str, InstrumentId] = {}
        for setup in setups:
            instrument = self._instrument_for(context, setup.symbol)
            if instrument is None:
                step.logs.append(f"ps60: {setup.symbol} (scanner line {setup.line}) is not tradable here; skipped")
            else:
                instruments[setup.symbol] = instrument
        if not instruments:
            raise ScannerError(
                f"{path}: none of the {len(setups)} scanner symbols is an instrument here "
                f"({', '.join(s.symbol for s in setups)})"
            )
        active: list[Setup] = [s for s in setups if s.symbol in instruments]
        step.logs.append(
            f"ps60 {context.session.day}: {len(active)} setups from {path}: "
            + "; ".join(f"{s.symbol} R {s.resistance} S {s.support}" for s in active)
        )
        return {
            "version": STATE_VERSION,
            "day": context.session.day.isoformat(),
            "scanner": str(path),
            "setups": {s.symbol: s.to_state() for s in active},
            "instruments": instruments,
            "buffers": {s.symbol: [] for s in active},
            "attempts": {s.symbol: {LONG: 0, SHORT: 0} for s in active},
            "trades": {s.symbol: None for s in active},
            "closed": [],
            "last_block": {},
            "counters": {"entries": 0, "blocks": {}, "paths": {}},
        }

    def _instrument_for(self, context: StrategyContext, symbol: str) -> InstrumentId | None:
        preferred = f"{self.config.exchange}:{symbol}"
        if not context.instruments or preferred in context.instruments:
            return preferred
        matches = sorted(i for i, instrument in context.instruments.items() if instrument.symbol == symbol)
        return matches[0] if matches else None

    def _buffer(self, state: State, symbol: str, candle: Candle) -> bool:
        """Append the bar to the rolling buffer; False for a bar already seen (a re-delivery)."""
        buffer = state["buffers"][symbol]
        if buffer and bar_start(buffer[-1]) >= candle.ts:
            return False
        buffer.append(bar_row(candle))
        size = max(self.config.warmup_bars, 2)
        del buffer[:-size]
        return True

    # -- times ------------------------------------------------------------------

    def _square_off_at(self, context: StrategyContext) -> datetime:
        """The configured square-off, or ``early_close_margin_minutes`` before an earlier close."""
        session = context.session
        moment = datetime.combine(session.day, self.config.square_off, ZoneInfo(session.timezone))
        if moment >= session.close:
            moment = session.close - timedelta(minutes=self.config.early_close_margin_minutes)
        return moment

    def _entry_closed(self, context: StrategyContext, bar_end: datetime) -> bool:
        if bar_end >= self._square_off_at(context):
            return True
        cutoff = self.config.entry_cutoff
        if cutoff is None:
            return False
        session = context.session
        return bar_end > datetime.combine(session.day, cutoff, ZoneInfo(session.timezone))

    # -- entries ----------------------------------------------------------------

    def _entry_check(self, context: StrategyContext, state: State, symbol: str, candle: Candle, step: _Step) -> None:
        setup = state["setups"][symbol]
        close = to_decimal(candle.close)
        resistance, support = Decimal(setup["resistance"]), Decimal(setup["support"])
        if close > resistance:
            side, pivot, target_1 = LONG, resistance, Decimal(setup["long_target_1"])
        elif close < support:
            side, pivot, target_1 = SHORT, support, Decimal(setup["short_target_1"])
        else:
            state["last_block"].pop(f"{symbol}:{LONG}", None)
            state["last_block"].pop(f"{symbol}:{SHORT}", None)
            return
        buffer = state["buffers"][symbol]
        previous = bar_close(buffer[-2]) if len(buffer) >= 2 else None
        fresh = previous is not None and SIGN[side] * (previous - pivot) <= 0
        path = "breakout" if fresh else "continuation"
        instrument = state["instruments"][symbol]
        attempts = state["attempts"][symbol][side]
        word = "above resistance" if side == LONG else "below support"
        signal = f"{symbol} {side}: close {close} {word} {pivot}"
        quantity = 0
        if (
            state["trades"][symbol] is not None
            or (instrument in context.positions and context.positions[instrument].quantity != 0)
            or book.has_working_order(context, instrument, entries_only=False)
        ):
            rule, reason = "IN_POSITION", f"{signal} while a position or order is open"
        elif candle.ts < context.session.open:
            rule, reason = "OUTSIDE_SESSION", f"{signal} before the open"
        elif self._entry_closed(context, candle.end):
            rule, reason = "AFTER_CUTOFF", f"{signal} after the entry cutoff"
        elif len(buffer) < self.config.warmup_bars:
            rule, reason = "WARMUP", f"{signal} during warm-up ({len(buffer)}/{self.config.warmup_bars} bars)"
        elif attempts >= self.config.max_attempts:
            rule, reason = "ATTEMPT_LIMIT", f"{signal}: {attempts} of {self.config.max_attempts} attempts used"
        elif SIGN[side] * (close - target_1) >= 0:
            rule, reason = "PAST_TARGET", f"{signal} but already at or past target 1 {target_1}: nothing left to gain"
        else:
            quantity = self._size(close, pivot)
            rule, reason = "SIZE", f"{signal}: risk sizing gives no whole share"
        if quantity >= 1:
            self._enter(context, state, symbol, side, pivot, candle, quantity, path, step)
            return
        key = f"{symbol}:{side}"
        if state["last_block"].get(key) != rule:  # one block per signal episode and rule, not per bar
            state["last_block"][key] = rule
            counts = state["counters"]["blocks"]
            counts[rule] = counts.get(rule, 0) + 1
            step.blocks.append(Block(rule=rule, reason=reason, instrument_id=instrument))
            step.logs.append(f"blocked {rule}: {reason}")

    def _size(self, close: Decimal, pivot: Decimal) -> int:
        if self.config.sizing == "fixed":
            return self.config.shares
        distance = abs(close - pivot)
        assert self.config.risk_per_trade is not None  # enforced by parse_config
        if distance == 0:
            return 0
        quantity = int((self.config.risk_per_trade / distance).to_integral_value(rounding=ROUND_FLOOR))
        if self.config.max_shares is not None:
            quantity = min(quantity, self.config.max_shares)
        return quantity

    def _enter(
        self,
        context: StrategyContext,
        state: State,
        symbol: str,
        side: str,
        pivot: Decimal,
        candle: Candle,
        quantity: int,
        path: str,
        step: _Step,
    ) -> None:
        state["attempts"][symbol][side] += 1
        attempt = state["attempts"][symbol][side]
        instrument = state["instruments"][symbol]
        trade = book.new_trade(
            symbol=symbol, instrument=instrument, side=side, attempt=attempt, path=path,
            setup=state["setups"][symbol], now=context.now, signal_ts=candle.ts.isoformat(),
            signal_price=candle.close, requested=quantity,
        )
        state["trades"][symbol] = trade
        state["last_block"][f"{symbol}:{side}"] = "IN_POSITION"
        counters = state["counters"]
        counters["entries"] += 1
        path_key = f"{side} {path} #{attempt}"
        counters["paths"][path_key] = counters["paths"].get(path_key, 0) + 1
        step.intents.append(
            Enter(
                instrument_id=instrument,
                side=Side.BUY if side == LONG else Side.SELL,
                quantity=quantity,
                reason=f"ENTRY_{side}",
                signal_price=candle.close,
                stop_price=pivot,
            )
        )
        word = "above resistance" if side == LONG else "below support"
        step.logs.append(
            f"{symbol} {side} entry ({path}, attempt {attempt}/{self.config.max_attempts}): close {candle.close} "
            f"{word} {pivot}; {quantity} shares, stop {pivot}, targets {trade['target_1']}/{trade['target_2']}"
        )

    # -- exits ------------------------------------------------------------------

    def _manage(
        self, context: StrategyContext, state: State, symbol: str, *, reach: float, last: float, step: _Step
    ) -> None:
        """Targets, break-even, and a fallback stop when no stop order is working at the broker."""
        trade = state["trades"][symbol]
        if trade["exit_sent"] is not None or trade["entry_price"] is None:
            return
        instrument = trade["instrument_id"]
        sign = SIGN[trade["side"]]
        price = to_decimal(reach)
        position = book.position_of(context, instrument)
        held = abs(position.quantity) if position is not None else trade["remaining"]
        target_1, target_2 = Decimal(trade["target_1"]), Decimal(trade["target_2"])
        if sign * (price - target_2) >= 0:
            trade["exit_sent"] = "TARGET_2"
            step.intents.append(Exit(instrument_id=instrument, reason="TARGET_2", signal_price=last))
            step.logs.append(f"{symbol} {trade['side']} target 2 {target_2} reached ({price}): closing {held}")
            return
        if not trade["partial_taken"] and sign * (price - target_1) >= 0:
            self._take_partial(context, state, trade, held, price, last, step)
            return
        stop = Decimal(trade["stop"])
        if position is not None and position.stop_price is None:
            if sign * (to_decimal(last) - stop) <= 0:
                trade["exit_sent"] = "STOP"
                step.intents.append(Exit(instrument_id=instrument, reason="STOP", signal_price=last))
                step.logs.append(
                    f"{symbol} {trade['side']}: no stop order working and {last} crossed the stop {stop}; closing {held}"
                )
        elif position is not None and position.stop_price != stop:
            resync = timedelta(seconds=self.config.stop_resync_bars * self.config.bar_seconds)
            if context.now - datetime.fromisoformat(trade["stop_sync_at"]) >= resync:
                trade["stop_sync_at"] = context.now.isoformat()
                step.intents.append(MoveStop(instrument_id=instrument, stop_price=stop, reason="STOP_RESYNC"))
                step.logs.append(f"{symbol}: working stop {position.stop_price} differs from {stop}; moving it back")

    def _take_partial(
        self,
        context: StrategyContext,
        state: State,
        trade: dict[str, object],
        held: int,
        price: Decimal,
        last: float,
        step: _Step,
    ) -> None:
        instrument = trade["instrument_id"]
        quantity = math.floor(held * self.config.partial_fraction)
        instrument_info = context.instruments.get(instrument)
        tick = instrument_info.tick_size if instrument_info is not None else DEFAULT_TICK
        break_even = snap_to_tick(Decimal(trade["entry_price"]), tick)
        trade["partial_taken"] = True
        trade["partial_quantity"] = quantity
        trade["stop"] = str(break_even)
        trade["stop_sync_at"] = context.now.isoformat()
        if quantity >= 1:
            step.intents.append(
                Exit(instrument_id=instrument, reason=book.PARTIAL_REASON, quantity=quantity, signal_price=last)
            )
        step.intents.append(MoveStop(instrument_id=instrument, stop_price=break_even, reason="BREAK_EVEN"))
        step.logs.append(
            f"{trade['symbol']} {trade['side']} target 1 {trade['target_1']} reached ({price}): selling {quantity} "
            f"of {held} ({book.PARTIAL_REASON}), stop -> break-even {break_even}"
        )

    def _square_off(self, context: StrategyContext, state: State, step: _Step) -> None:
        """At the square-off time close every open trade, whether or not its symbol printed a bar."""
        if context.now < self._square_off_at(context):
            return
        for symbol in sorted(state["trades"]):
            trade = state["trades"][symbol]
            if trade is None or trade["status"] != "open" or trade["exit_sent"] is not None:
                continue
            trade["exit_sent"] = "END_OF_DAY"
            step.intents.append(Exit(instrument_id=trade["instrument_id"], reason="END_OF_DAY"))
            step.logs.append(f"{symbol} {trade['side']}: square-off at {self.config.square_off:%H:%M}, closing the position")

    def _decision(self, state: State, step: _Step) -> Decision:
        state["analytics"] = summarize(state)
        return Decision(state=state, intents=tuple(step.intents), logs=tuple(step.logs), blocks=tuple(step.blocks))
