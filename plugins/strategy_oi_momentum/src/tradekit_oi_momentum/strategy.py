"""oi-momentum: intraday NIFTY weekly options, direction from open interest.

A pure implementation of the Strategy port: every method takes the saved
state, returns a new one and never does I/O, so a replay, a paper day and a
live day decide alike and a restart continues where the crash left off.
The rules and the log lines are documented in docs/strategies/oi-momentum.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from tradekit.model import Candle, Fill, Instrument, InstrumentId, InstrumentKind, OptionRight, Order, Quote, Side
from tradekit.model.intents import Block, Enter, Exit, Intent
from tradekit.model.money import to_decimal
from tradekit.ports.strategy import Decision, State, StrategyContext, Subscription
from tradekit_oi_momentum.chain import Chain, build_chain, choose_direction, contract_label, format_oi, format_strike
from tradekit_oi_momentum.chain import trading_strike as nearest_otm
from tradekit_oi_momentum.config import OiMomentumConfig
from tradekit_oi_momentum.state import STATE_VERSION, entry_price, filled_quantity, new_state, vwap
from tradekit_oi_momentum.stops import CheckInput, check_exits, price, signed_pct, square_off_due

NAME = "oi-momentum"


def _usable(state: State | None) -> bool:
    return isinstance(state, dict) and state.get("version") == STATE_VERSION


def _plain_copy(value: Any) -> Any:
    """A deep copy of plain JSON data (dicts and lists; everything else is immutable)."""
    if isinstance(value, dict):
        return {key: _plain_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain_copy(item) for item in value]
    return value


class _Step:
    """Collects what one call decides; turned into a Decision at the end.

    Copy-on-write: the state handed in belongs to the engine, which may already hold it in a
    journalled checkpoint that is encoded later (a backtest writes a day's journal at the day's
    end), so nothing reachable from it is ever changed; the engine's state also stays untouched
    if the step raises. The step starts from a copy of the top level and copies the two parts a
    step changes in place before it changes them: the position (small; copied up front when
    there is one) and the per-contract VWAP sums (copied by ``contracts()``, the first time a
    candle updates them; their records are replaced, never edited). Every other top-level value
    is replaced whole. A deep copy of the whole state per call cost half of a backtest's CPU.
    """

    def __init__(self, state: State) -> None:
        self.state = dict(state)
        position = self.state.get("position")
        if position is not None:
            self.state["position"] = _plain_copy(position)
        self._own_contracts = False
        self.intents: list[Intent] = []
        self.logs: list[str] = []
        self.blocks: list[Block] = []

    def contracts(self) -> dict[str, list[Any]]:
        """The state's per-contract records, this step's own copy (records are replaced, not edited)."""
        if not self._own_contracts:
            self.state["contracts"] = dict(self.state["contracts"])
            self._own_contracts = True
        return self.state["contracts"]

    def decision(self) -> Decision:
        return Decision(state=self.state, intents=tuple(self.intents), logs=tuple(self.logs), blocks=tuple(self.blocks))


class OiMomentumStrategy:
    """The strategy; one instance per run, all memory in the state dict."""

    name = NAME
    market = "NSE"

    def __init__(self, config: OiMomentumConfig) -> None:
        self.config = config
        self._chain_key: tuple[int, int, str] | None = None  # cache only; derived from the context
        self._chain: Chain | None = None

    # -- port ---------------------------------------------------------------------------------

    def start(self, context: StrategyContext, state: State | None) -> Decision:
        day = context.session.day.isoformat()
        if not _usable(state) or state is None or state.get("day") != day:
            step = _Step(new_state(day))
            step.logs.append(f"new day {day}")
        else:
            step = _Step(state)
            step.logs.append(f"resumed {day}: {self._summary(step.state)}")
        chain = self._chain_for(context)
        if chain is None:
            step.logs.append(f"no {self.config.underlying} options expiring on or after {day} in today's instruments")
        else:
            step.logs.append(
                f"trading {self.config.underlying} options expiring {chain.expiry} "
                f"({len(chain.calls)} CALL and {len(chain.puts)} PUT strikes)"
            )
        self._sync_position(context, step)
        return step.decision()

    def subscription(self, context: StrategyContext, state: State) -> Subscription:
        chain = self._chain_for(context)
        instruments = (self.config.index_instrument, *(chain.ids() if chain else ()))
        position = state.get("position")
        monitored = (position["instrument_id"],) if position else ()
        return Subscription(
            candle_seconds=self.config.candle_seconds,
            instruments=instruments,
            monitor_seconds=self.config.monitor_seconds,
            monitor_instruments=monitored,
        )

    def on_candles(self, context: StrategyContext, candles: Mapping[InstrumentId, Candle], state: State) -> Decision:
        step = self._begin(context, state)
        chain = self._chain_for(context)
        if chain is None:
            return step.decision()
        self._sync_position(context, step)
        previous_oi = self._update_contracts(chain, candles, step)
        fresh = {iid: candle for iid, candle in candles.items() if iid in previous_oi}
        if step.state["direction"] is None:
            self._decide_direction(context, chain, fresh, step)
        index_candle = candles.get(self.config.index_instrument)
        position = step.state["position"]
        if position is None and step.state["direction"] is not None:
            self._update_strike(context, chain, index_candle, step)
        if position is not None:
            self._check_on_candle(context, fresh, step)
        self._check_entry(context, chain, fresh, previous_oi, step)
        return step.decision()

    def on_quotes(self, context: StrategyContext, quotes: Mapping[InstrumentId, Quote], state: State) -> Decision:
        step = self._begin(context, state)
        self._sync_position(context, step)
        position = step.state["position"]
        if position is None or filled_quantity(position) <= 0:
            return step.decision()
        quote = quotes.get(position["instrument_id"])
        ltp = to_decimal(quote.last) if quote is not None else None
        oi = quote.oi if quote is not None else None
        self._run_exit_check(context, ltp, oi, step)
        return step.decision()

    def on_fill(self, context: StrategyContext, fill: Fill, order: Order, state: State) -> Decision:
        if not _usable(state):
            # a fill reported before start() handed us the saved state: leave the state alone (the
            # book has the fill; start() lines the saved position up with it)
            line = f"fill {fill.fill_id} ({fill.side} {fill.quantity}) arrived before the strategy started; the book has it"
            return Decision(state=state, logs=(line,))
        step = _Step(state)
        position = step.state["position"]
        if position is None or fill.instrument_id != position["instrument_id"]:
            step.logs.append(f"fill {fill.fill_id} for {fill.instrument_id} is not this strategy's position; ignored")
            return step.decision()
        book = position["buys"] if fill.side is Side.BUY else position["sells"]
        if fill.fill_id in book:
            return step.decision()  # the same fill delivered twice (e.g. after a restart)
        book[fill.fill_id] = [fill.quantity, str(fill.price)]
        label = position["label"]
        if fill.side is Side.BUY:
            entry = entry_price(position)
            assert entry is not None
            if position["entry_time"] is None:
                position["entry_time"] = fill.ts.isoformat()
            peak = Decimal(position["peak"]) if position["peak"] else entry
            position["peak"] = str(max(peak, fill.price))
            signal = Decimal(str(position["signal_price"]))
            step.logs.append(
                f"entry filled: BUY {fill.quantity} {label} @ {price(fill.price)} "
                f"(signal {price(signal)}, entry {price(entry)}, OI at entry {format_oi(position['oi_at_entry'] or 0)})"
            )
            return step.decision()
        entry = entry_price(position)
        reason = position["exit"]["reason"] if position.get("exit") else order.reason or "EXIT"
        pnl = f" P&L {signed_pct((fill.price - entry) / entry * 100)}" if entry else ""
        step.logs.append(f"exit filled: SELL {fill.quantity} {label} @ {price(fill.price)} {reason}{pnl}")
        if filled_quantity(position) <= 0:
            step.logs.append(f"flat after {reason}; entries today {step.state['entries_today']}/{self.config.max_entries_per_day}")
            step.state["position"] = None
        return step.decision()

    def _begin(self, context: StrategyContext, state: State) -> _Step:
        """A step from the saved state; a missing or foreign state starts the day fresh (and says so)."""
        if _usable(state) and state.get("day") == context.session.day.isoformat():
            return _Step(state)
        step = _Step(new_state(context.session.day.isoformat()))
        step.logs.append("no saved state for today: starting the day fresh")
        return step

    # -- candles ------------------------------------------------------------------------------

    def _update_contracts(self, chain: Chain, candles: Mapping[InstrumentId, Candle], step: _Step) -> dict[str, int | None]:
        """Add each chain candle to its contract's VWAP sums once; return the OI before it."""
        previous: dict[str, int | None] = {}
        contracts = step.contracts()
        typical = self.config.vwap_price == "typical"
        epochs: dict[datetime, int] = {}  # one conversion per candle time (a step's candles share it)
        for iid in sorted(candles):
            if not chain.contains(iid):
                continue
            candle = candles[iid]
            epoch = epochs.get(candle.ts)
            if epoch is None:
                epoch = epochs[candle.ts] = int(candle.ts.timestamp())
            record = contracts.get(iid)
            if record is not None and record[3] >= epoch:
                continue  # delivered again after a restart: counted already
            if typical:
                traded_at = (candle.high + candle.low + candle.close) / 3
            else:
                traded_at = candle.close
            pv, volume = (record[0], record[1]) if record else (0.0, 0)
            previous[iid] = record[2] if record else None
            contracts[iid] = [pv + traded_at * candle.volume, volume + candle.volume, candle.oi, epoch]
        return previous

    def _decide_direction(self, context: StrategyContext, chain: Chain, fresh: Mapping[str, Candle], step: _Step) -> None:
        call_oi = {strike: fresh[iid].oi for strike, iid in chain.calls.items() if iid in fresh and fresh[iid].oi > 0}
        put_oi = {strike: fresh[iid].oi for strike, iid in chain.puts.items() if iid in fresh and fresh[iid].oi > 0}
        choice = choose_direction(call_oi, put_oi)
        if choice is None:
            step.logs.append("direction not decided: this candle has no CALL and PUT open interest")
            return
        candle_time = self._local(context, next(iter(fresh.values())).ts)
        step.state["direction"] = choice.right.value
        step.state["reference"] = {
            "call_strike": format_strike(choice.call_strike),
            "call_oi": choice.call_oi,
            "put_strike": format_strike(choice.put_strike),
            "put_oi": choice.put_oi,
            "candle": f"{candle_time:%H:%M}",
        }
        step.logs.append(choice.describe())
        opening = self._local(context, context.session.open)
        if candle_time.time() != opening.time():
            step.logs.append(
                f"direction fixed on the {candle_time:%H:%M} candle, not the day's first ({opening:%H:%M}): "
                "the strategy started late"
            )

    def _update_strike(self, context: StrategyContext, chain: Chain, index_candle: Candle | None, step: _Step) -> None:
        right = OptionRight(step.state["direction"])
        if index_candle is None:
            step.logs.append(f"no {self.config.index_instrument} candle: trading strike kept")
            return
        spot = index_candle.close
        strike = nearest_otm(chain.side(right).keys(), right, spot)
        old = step.state["strike"]
        if strike is None:
            step.logs.append(f"no {right.value} strike on the chain for spot {spot:.2f}: no trading strike")
            step.state["strike"] = None
            return
        new = format_strike(strike)
        if old is None:
            step.logs.append(f"trading strike {new} {right.value} (spot {spot:.2f})")
        elif old != new:
            step.logs.append(f"strike updated {old} -> {new} (spot {spot:.2f})")
        step.state["strike"] = new

    def _check_entry(
        self,
        context: StrategyContext,
        chain: Chain,
        fresh: Mapping[str, Candle],
        previous_oi: Mapping[str, int | None],
        step: _Step,
    ) -> None:
        state = step.state
        if state["direction"] is None or state["strike"] is None:
            return
        right = OptionRight(state["direction"])
        iid = chain.side(right).get(Decimal(state["strike"]))
        if iid is None or iid not in fresh:
            return
        candle = fresh[iid]
        instrument = context.instruments[iid]
        label = contract_label(instrument)
        average = vwap(state["contracts"].get(iid))
        before = previous_oi.get(iid)
        candle_time = self._local(context, candle.ts)
        above = average is not None and to_decimal(candle.close) > average
        unwinding = before is not None and candle.oi < before
        oi_text = f"OI {format_oi(before)} -> {format_oi(candle.oi)}" if before is not None else f"OI {format_oi(candle.oi)}"
        vwap_text = price(average) if average is not None else "n/a"
        summary = f"{candle_time:%H:%M} {label}: close {price(candle.close)} VWAP {vwap_text} {oi_text}"
        if not (above and unwinding):
            if state["position"] is None:
                why = "close not above VWAP" if not above else "OI did not fall"
                step.logs.append(f"{summary}: no signal ({why})")
            return
        window = f"{self.config.entry_start:%H:%M}-{self.config.entry_end:%H:%M}"
        if state["position"] is not None:
            held = state["position"]["label"]
            step.blocks.append(Block("IN_POSITION", f"signal at {candle_time:%H:%M}: already in {held}", iid))
            step.logs.append(f"{summary}: signal blocked, already in {held} (one position at a time)")
        elif not (self.config.entry_start <= candle_time.time() <= self.config.entry_end):
            step.blocks.append(Block("OUTSIDE_WINDOW", f"{candle_time:%H:%M} candle is outside {window}", iid))
            step.logs.append(f"{summary}: signal blocked, {candle_time:%H:%M} candle is outside the entry window {window}")
        elif square_off_due(self.config, self._local(context, context.now)):
            step.blocks.append(Block("AFTER_SQUARE_OFF", f"{candle_time:%H:%M} candle arrived after the square-off", iid))
            step.logs.append(f"{summary}: signal blocked, it arrived after the {self.config.square_off:%H:%M} square-off")
        elif state["entries_today"] >= self.config.max_entries_per_day:
            limit = self.config.max_entries_per_day
            step.blocks.append(Block("MAX_ENTRIES", f"{state['entries_today']} of {limit} entries used today", iid))
            step.logs.append(f"{summary}: signal blocked, {state['entries_today']} of {limit} entries used today")
        else:
            self._enter(context, instrument, candle, step, summary)

    def _enter(self, context: StrategyContext, instrument: Instrument, candle: Candle, step: _Step, summary: str) -> None:
        quantity = self.config.lots * instrument.lot_size
        label = contract_label(instrument)
        step.state["entries_today"] += 1
        step.state["position"] = {
            "instrument_id": instrument.id,
            "label": label,
            "order_quantity": quantity,
            "signal_price": candle.close,
            "signal_time": self._local(context, candle.ts).isoformat(),
            "oi_at_entry": candle.oi,
            "buys": {},
            "sells": {},
            "adopted": None,
            "entry_time": None,
            "peak": None,
            "exit": None,
        }
        broker_stop = None  # a resting stop at the broker: the position's protection while tradekit is down
        if self.config.broker_stop_pct > 0:
            broker_stop = to_decimal(candle.close) * (1 - self.config.broker_stop_pct / 100)
        step.intents.append(Enter(instrument.id, Side.BUY, quantity, reason="ENTRY", signal_price=candle.close,
                                  stop_price=broker_stop))
        step.logs.append(
            f"{summary}: ENTRY BUY {self.config.lots} lot{'s' if self.config.lots != 1 else ''} ({quantity}) {label} "
            f"(entry {step.state['entries_today']} of {self.config.max_entries_per_day} today)"
        )

    def _check_on_candle(self, context: StrategyContext, fresh: Mapping[str, Candle], step: _Step) -> None:
        position = step.state["position"]
        if filled_quantity(position) <= 0:
            return
        candle = fresh.get(position["instrument_id"])
        if candle is None and not square_off_due(self.config, self._local(context, context.now)):
            return  # no candle for it this time; the monitor checks on fresh quotes
        ltp = to_decimal(candle.close) if candle is not None else None
        oi = candle.oi if candle is not None else None
        self._run_exit_check(context, ltp, oi, step)

    # -- exits --------------------------------------------------------------------------------

    def _run_exit_check(self, context: StrategyContext, ltp: Decimal | None, oi: int | None, step: _Step) -> None:
        position = step.state["position"]
        if position.get("exit"):
            self._retry_exit(context, step)
            return
        entry = entry_price(position)
        if entry is None:
            return
        peak = Decimal(position["peak"]) if position["peak"] else entry
        if ltp is not None and ltp > peak:
            peak = ltp
            position["peak"] = str(peak)
        now = self._local(context, context.now)
        if ltp is None and not square_off_due(self.config, now):
            step.logs.append(f"{position['label']}: no fresh quote; exit check skipped")
            return
        result = check_exits(
            self.config,
            CheckInput(
                label=position["label"],
                ltp=ltp,
                entry=entry,
                peak=peak,
                vwap=vwap(step.state["contracts"].get(position["instrument_id"])),
                oi=oi,
                oi_at_entry=position["oi_at_entry"],
                now=now,
            ),
        )
        step.logs.append(result.line)
        if result.reason is None:
            return
        position["exit"] = {
            "reason": result.reason,
            "time": now.isoformat(),
            "signal_price": float(ltp) if ltp is not None else None,
        }
        step.intents.append(
            Exit(position["instrument_id"], reason=result.reason, signal_price=float(ltp) if ltp is not None else None)
        )

    def _retry_exit(self, context: StrategyContext, step: _Step) -> None:
        """Re-send an exit that neither filled nor is working a monitor period later (rejected or lost)."""
        position = step.state["position"]
        pending = position["exit"]
        working = any(order.instrument_id == position["instrument_id"] and order.is_open for order in context.working_orders)
        now = self._local(context, context.now)
        if working or now - datetime.fromisoformat(pending["time"]) < timedelta(seconds=self.config.monitor_seconds):
            return
        pending["time"] = now.isoformat()
        step.logs.append(f"{position['label']}: {pending['reason']} exit not filled and no order working; sending it again")
        step.intents.append(Exit(position["instrument_id"], reason=pending["reason"], signal_price=pending["signal_price"]))

    # -- book ---------------------------------------------------------------------------------

    def _sync_position(self, context: StrategyContext, step: _Step) -> None:
        """Line the saved position up with the engine's book (the truth after a crash or a manual trade)."""
        state = step.state
        position = state["position"]
        if position is not None:
            held = context.positions.get(position["instrument_id"])
            held_quantity = held.quantity if held is not None else 0
            if filled_quantity(position) > 0 and held_quantity <= 0:
                step.logs.append(f"{position['label']}: the book shows no position any more (closed outside the strategy); flat")
                state["position"] = None
            elif filled_quantity(position) <= 0 and held_quantity > 0 and held is not None:
                position["adopted"] = [held_quantity, str(held.average_price)]
                position["entry_time"] = position["entry_time"] or (held.opened_at.isoformat() if held.opened_at else None)
                position["peak"] = position["peak"] or str(held.average_price)
                step.logs.append(
                    f"{position['label']}: entry filled while away: {held_quantity} @ {price(held.average_price)}"
                )
            elif filled_quantity(position) <= 0 and not position.get("exit") and not self._entry_working(context, position):
                if self._entry_stale(context, position):
                    step.logs.append(f"{position['label']}: entry order did not fill; flat (the entry still counts today)")
                    state["position"] = None
            return
        for iid in sorted(context.positions):
            view = context.positions[iid]
            instrument = context.instruments.get(iid)
            if view.quantity <= 0 or view.external or instrument is None:
                continue
            if instrument.kind is not InstrumentKind.OPTION or instrument.underlying != self.config.underlying:
                continue
            label = contract_label(instrument)
            state["position"] = {
                "instrument_id": iid,
                "label": label,
                "order_quantity": view.quantity,
                "signal_price": float(view.average_price),
                "signal_time": None,
                "oi_at_entry": None,
                "buys": {},
                "sells": {},
                "adopted": [view.quantity, str(view.average_price)],
                "entry_time": view.opened_at.isoformat() if view.opened_at else None,
                "peak": str(view.average_price),
                "exit": None,
            }
            state["entries_today"] = max(state["entries_today"], 1)
            step.logs.append(
                f"adopted {view.quantity} {label} @ {price(view.average_price)} from the book "
                "(OI at entry unknown: OI stop off for it)"
            )
            return

    def _entry_working(self, context: StrategyContext, position: dict[str, Any]) -> bool:
        return any(order.instrument_id == position["instrument_id"] and order.is_open for order in context.working_orders)

    def _entry_stale(self, context: StrategyContext, position: dict[str, Any]) -> bool:
        """An entry is given up one full candle after its signal candle closed without a fill."""
        signal = datetime.fromisoformat(position["signal_time"]) if position["signal_time"] else None
        if signal is None:
            return False
        deadline = signal + timedelta(seconds=2 * self.config.candle_seconds)
        return context.now >= deadline

    # -- helpers ------------------------------------------------------------------------------

    def _chain_for(self, context: StrategyContext) -> Chain | None:
        key = (id(context.instruments), len(context.instruments), context.session.day.isoformat())
        if key != self._chain_key:
            self._chain = build_chain(
                context.instruments, self.config.underlying, context.session.day, self.config.strike_step
            )
            self._chain_key = key
        return self._chain

    def _local(self, context: StrategyContext, moment: datetime) -> datetime:
        return moment.astimezone(ZoneInfo(context.session.timezone))

    def _summary(self, state: State) -> str:
        position = state.get("position")
        held = "flat"
        if position is not None:
            entry = entry_price(position)
            held = f"in {position['label']} entry {price(entry)}" if entry else f"entry pending in {position['label']}"
        return (
            f"direction {state.get('direction') or 'undecided'}, strike {state.get('strike') or '-'}, "
            f"entries today {state.get('entries_today', 0)}, {held}"
        )
