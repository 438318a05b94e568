"""The engine: one strategy, one broker, one feed, one trading day.

Every step follows the same path: collect what happened (broker fills and
order statuses with event time up to the step), let the strategy decide,
journal the resulting events (orders included) in one transaction, and
only then act (send, cancel, modify) and log. A restart loads the book,
settles orders that were journalled but maybe not sent (looking each tag up
at the broker before sending anything), and continues from the last
checkpoint; replays make identical decisions.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from tradekit.clock import Clock, LiveClock
from tradekit.collector import LongLived
from tradekit.engine.broker_sync import BrokerSync
from tradekit.engine.orders import OrderFactory, pending_orders, working_stop
from tradekit.engine.safe import call_strategy, guard, state_json
from tradekit.engine.streaming import QuoteStream
from tradekit.faults import crashpoint
from tradekit.errors import BrokerError, ConfigError, OrderRejected, TemporaryBrokerError
from tradekit.model.book import Book
from tradekit.model.events import (
    DayClosed,
    DayOpened,
    Event,
    OrderAccepted,
    OrderCancelled,
    OrderModified,
    OrderRejected as OrderRejectedEvent,
    OrderSubmitted,
    SignalBlocked,
    StrategyCheckpoint,
)
from tradekit.model.fills import Fill
from tradekit.model.intents import Block, CancelStop, Enter, Exit, MoveStop
from tradekit.model.money import to_decimal
from tradekit.model.orders import Order, OrderType, Side
from tradekit.ports.broker import Broker
from tradekit.ports.feed import Feed
from tradekit.ports.strategy import Decision, PositionView, SessionInfo, Strategy, StrategyContext

MAX_ROUNDS = 8  # fill -> decision -> order -> fill chains within one step
FLUSH_BEHIND_SECONDS = 1.0  # live runs: DuckDB catches up with the ahead log at most this often (wall clock) ...
FLUSH_BEHIND_EVENTS = 2000  # ... or when this many journalled events wait


@dataclass
class EngineSettings:
    account: str
    store_id: str
    live: bool = False  # live and real-time runs commit every step
    opening_cash: Decimal | None = None  # day 1 capital when the account is new
    fresh: bool = False  # start the strategy's day over (only allowed without open positions)
    defer_durable: bool = False  # backtests: order steps join the batch too (a rerun rebuilds the store); no reconcile at start
    extras: Mapping[str, Any] = field(default_factory=dict)
    sync_minutes: float = 0  # reconcile with the broker at start and every N minutes of event time (0: only at start)
    sync: Mapping[str, Any] = field(default_factory=dict)  # the [sync] config section (segment filter, tolerance)
    stream_quotes: str = "auto"  # exit monitor on streamed ticks: "auto" (on the wall clock, if the feed streams), "on", "off"


@dataclass
class DayResult:
    day: Any
    resumed: bool
    orders_sent: int = 0
    fills: int = 0
    trades_closed: int = 0
    closing_cash: Decimal | None = None
    closing_equity: Decimal | None = None


def discard(line: str) -> None:
    """A log sink that keeps nothing. An engine given it formats no log lines at all (a backtest's
    default: thousands of order and fill lines a second would be built only to be dropped)."""


class Engine(BrokerSync):
    def __init__(
        self,
        *,
        store: Any,
        book: Book,
        broker: Broker,
        feed: Feed,
        strategy: Strategy,
        clock: Clock,
        session: SessionInfo,
        settings: EngineSettings,
        log: Callable[[str], None] = discard,
        notify: Callable[[Event], object] | None = None,
        risk: Any = None,
        control: Any = None,
    ) -> None:
        self.store = store
        self.book = book
        self.broker = broker
        self.feed = feed
        self.strategy = strategy
        self.clock = clock
        self.session = session
        self.settings = settings
        self.account = settings.account
        self._log = log
        self.logging = log is not discard  # False: hot paths skip building their lines
        self._notify = notify
        self.risk = risk  # tradekit.engine.risk.RiskGate: every Enter passes it
        if control is None:
            from tradekit.control.server import ControlChannel

            control = ControlChannel()  # no endpoint: still the one queue the engine waits on (streamed ticks)
        self.control = control  # tradekit.control.server.ControlChannel: served between steps
        self._tz = ZoneInfo(session.timezone)
        self._orders = OrderFactory(settings.account, strategy.name, settings.store_id)
        self._state: dict[str, Any] = {}
        self._pending: list[Event] = []
        self._durable = False
        self._instruments = dict(feed.instruments())
        self.result = DayResult(day=session.day, resumed=False)
        self._next_reconcile: datetime | None = None
        self._held_outside: set[str] = set()  # held at the broker outside the [sync] filter: never entered
        self._subscription: Any = None  # the strategy's last answer, for the streamed exit monitor
        self._stream: QuoteStream | None = None
        self._fill_cursor: int | None = None  # with a venue offering fills_after: fills already read (None: ask it)
        self._unknown: set[str] = set()  # orders whose sending ended without an answer this session
        self._flushed_at = time.monotonic()
        self._later_fills: list[Fill] = []  # read, but stamped after the step that read them
        self._stepped_to = session.open  # event time of the last step: streamed ticks never decide before it
        self._context_key: tuple[datetime, int] | None = None
        self._context_cache: Any = None
        self._acted = 0  # orders sent, cancelled or modified at the broker (any outcome): see _settle

    # ---- logging and journalling ---------------------------------------
    def log(self, line: str, at: datetime | None = None) -> None:
        if not self.logging:
            return
        moment = (at or self.clock.now()).astimezone(self._tz)
        self._log(f"{moment:%Y-%m-%d %H:%M:%S} {self.strategy.name}: {line}")

    def _record(self, event: Event, *, durable: bool = False) -> None:
        self.book.apply(event)
        self._pending.append(event)
        self._durable |= durable

    def _commit(self, *, force_durable: bool = False) -> None:
        durable = self._durable or force_durable or self.settings.live
        durable &= not self.settings.defer_durable or self.settings.live
        if not self._pending and (not durable or not self.book.dirty):
            return  # nothing to journal; changed projections alone wait for the next batch or durable commit
        events, self._pending = self._pending, []
        self._durable = False
        self.store.commit(events, self.book, durable=durable)
        crashpoint("after_commit")
        if self._notify is not None:
            for event in events:
                self._notify(event)

    # ---- the day ------------------------------------------------------------
    def run(self) -> DayResult:
        self._open_day()
        record = self.book.strategies.get((self.account, self.strategy.name))
        today = record is not None and record.day == self.session.day
        watermark = record.ts if today and record is not None else None
        saved = record.state if today and record is not None and not self.settings.fresh else None
        self.result.resumed = saved is not None
        now = max(self.clock.now(), watermark or self.session.open)
        self.clock.sleep_until(now)
        self._state = dict(saved) if saved is not None else {}
        self._recover_orders()
        if not self.settings.defer_durable:  # a backtest's venue is its own: nothing else trades in it
            self._reconcile(now, "at start")
        if self.risk is not None:
            self.risk.start(self, now)
        decision = call_strategy(self.strategy.name, "start", self.strategy.start, self._context(now), saved)
        if saved is not None and watermark is not None:
            self.log(f"resumed from checkpoint at {watermark.astimezone(self._tz):%H:%M:%S}", now)
        self._apply(decision, now, checkpoint=True)
        self._settle(now)
        self._commit(force_durable=True)
        self._stepped_to = now
        timeline = self._timeline(watermark or self.session.open)
        self._start_streaming()
        # a live session's reaction time: the imported libraries and the loaded book stay out of the cyclic
        # collector's full passes (20-30 ms each on this thread, a tick's stop included); see tradekit/collector.py
        long_lived = LongLived() if self.settings.live else None
        if long_lived is not None:
            long_lived.keep()
        try:
            for moment, candle_due, monitor_due in timeline:
                self.control.wait_until(self, moment)  # serves control requests and streamed ticks (and paces a watched replay)
                self._step(moment, candle_due, monitor_due)
            self.control.wait_until(self, self.session.close)  # the day ends at the close, whatever the timers
        finally:
            if long_lived is not None:
                long_lived.close()
            if self._stream is not None:
                self._stream.close()
        self._close_day()
        return self.result

    # ---- streamed quotes -------------------------------------------------------
    def _start_streaming(self) -> None:
        mode = {"true": "on", "false": "off"}.get(str(self.settings.stream_quotes).lower(), str(self.settings.stream_quotes).lower())
        if mode not in ("auto", "on", "off"):
            raise ConfigError(f"engine.stream_quotes: {self.settings.stream_quotes!r} is not one of auto, on, off")
        if mode == "off" or not getattr(self.feed, "can_stream", False):
            return
        if mode == "auto" and not isinstance(self.clock, LiveClock):
            return  # a simulated clock jumps between timers: ticks arriving in wall time would not fit in it
        self._stream = QuoteStream(self.feed.stream, lambda: self.control.call_soon(self._on_ticks),  # type: ignore[attr-defined]
                                   lambda line: self.log(line))
        self._watch()

    def _watch(self) -> None:
        """Stream exactly what the exit monitor watches: the monitor list and the strategy's open positions."""
        if self._stream is None or self._subscription is None or not self._subscription.monitor_seconds:
            return
        wanted = set(self._subscription.monitor_instruments) | {p.instrument_id for p in self._my_positions()}
        self._stream.watch(frozenset(wanted))

    def _on_ticks(self) -> None:
        """Engine thread, between timers: the exit monitor on the newest streamed quotes."""
        if self._stream is None:
            return
        quotes = self._stream.take()
        if not quotes:
            return
        # event time: the newest tick's own time, never before the last step nor after the clock (a skewed exchange stamp)
        now = min(max(max(q.ts for q in quotes.values()), self._stepped_to), self.clock.now())
        if now >= self.session.close:
            return
        decision = call_strategy(self.strategy.name, "on_quotes", self.strategy.on_quotes, self._context(now), quotes, self._state,
                                    previous=self._state)
        self._apply(decision, now)
        self._settle(now)
        self._commit()
        self._flush_behind()
        self._stepped_to = now
        self._watch()

    def _open_day(self) -> None:
        day = self.session.day
        if self.book.current_day.get(self.account) == day:
            return
        if self.account in self.book.cash:
            cash, source = self.book.cash[self.account], "carry-over"
        elif self.settings.opening_cash is not None:
            cash, source = self.settings.opening_cash, "capital"
        else:
            cash, source = self.broker.account_report().cash, "broker"
        self._record(DayOpened(ts=self.session.open, account=self.account, day=day, cash=cash, source=source), durable=True)
        self._commit(force_durable=True)
        self.log(f"day {day} opens with cash {cash:,.2f} ({source})", self.session.open)

    def _close_day(self) -> None:
        close = self.session.close
        self._sync_broker(close)
        recorded = getattr(self.broker, "fills_recorded", None)
        if recorded is not None and self._fill_cursor is not None and not self._later_fills:
            recorded(self._fill_cursor)  # every fill read so far is in the book: tomorrow's engine starts here
        equity = self._equity(close)
        cash = self.book.cash.get(self.account, Decimal(0))
        self._record(DayClosed(ts=close, account=self.account, day=self.session.day, cash=cash, equity=equity), durable=True)
        self._commit(force_durable=True)
        self.result.closing_cash = cash
        self.result.closing_equity = equity
        self.log(f"day {self.session.day} closed: cash {cash:,.2f}, equity {equity:,.2f}", close)

    def _timeline(self, after: datetime) -> list[tuple[datetime, bool, bool]]:
        context = self._context(after)
        subscription = guard(self.strategy.name, "subscription", self.strategy.subscription, context, self._state)
        self._subscription = subscription
        candle = subscription.candle_seconds
        monitor = subscription.monitor_seconds
        moments: dict[datetime, list[bool]] = {}
        open_, close = self.session.open, self.session.close
        total = int((close - open_).total_seconds())
        wake = self._wake_times(context)
        if wake is not None:  # the strategy named the only candle closes where it can decide anything today
            for moment in wake:
                if open_ < moment <= close:
                    moments.setdefault(moment, [False, False])[0] = True
        else:
            for offset in range(candle, total + 1, candle):
                moments.setdefault(open_ + timedelta(seconds=offset), [False, False])[0] = True
        if monitor:
            for offset in range(monitor, total + 1, monitor):
                moments.setdefault(open_ + timedelta(seconds=offset), [False, False])[1] = True
        poll = getattr(self.feed, "poll_seconds", None)  # live feeds sample quotes to build candles
        if poll:
            for offset in range(0, total + 1, poll):
                moments.setdefault(open_ + timedelta(seconds=offset), [False, False])
        return [(m, flags[0], flags[1]) for m, flags in sorted(moments.items()) if m > after]

    def _flush_behind(self) -> None:
        """Live runs: bring DuckDB up to the ahead log at most once a wall-clock second (or every 2,000 events).

        The log is what makes a step durable; DuckDB only has to catch up before
        anyone reads it, and a rehearsal at full speed (thousands of steps a
        minute) would otherwise spend its time in DuckDB statements.
        """
        if not self.settings.live:
            return
        elapsed = time.monotonic() - self._flushed_at
        if elapsed >= FLUSH_BEHIND_SECONDS or getattr(self.store, "behind", 0) >= FLUSH_BEHIND_EVENTS:
            self.store.flush(self.book)
            self._flushed_at = time.monotonic()

    def _wake_times(self, context: StrategyContext) -> list[datetime] | None:
        """Replays only: a strategy with ``wake_times`` computes from the day's arrays (one vectorised pass)
        the candle closes worth a step; every other candle is skipped. None: every candle."""
        hook = getattr(self.strategy, "wake_times", None)
        day = getattr(self.feed, "day", None)  # the replay market's MarketDay; live feeds have none
        if hook is None or day is None or getattr(day, "series", None) is None:
            return None
        wake = guard(self.strategy.name, "wake_times", hook, context, day)
        return None if wake is None else sorted(wake)

    # ---- one step ------------------------------------------------------------
    def _step(self, now: datetime, candle_due: bool, monitor_due: bool) -> None:
        if self._unknown:
            pending = [o for o in pending_orders(self.book, self.account) if o.client_order_id in self._unknown]
            if pending:
                self._settle_unacknowledged(pending, now)
            else:
                self._unknown.clear()
        self._sync_broker(now)
        if self._next_reconcile is not None and now >= self._next_reconcile:
            self._reconcile(now, "periodic")
        subscription = guard(self.strategy.name, "subscription", self.strategy.subscription, self._context(now), self._state)
        self._subscription = subscription
        poll = getattr(self.feed, "poll", None)
        if poll is not None:
            poll(subscription.instruments, now)
        if candle_due:
            start = now - timedelta(seconds=subscription.candle_seconds)
            candles = self.feed.candles(subscription.instruments, start, subscription.candle_seconds)
            decision = call_strategy(self.strategy.name, "on_candles", self.strategy.on_candles, self._context(now), candles, self._state,
                                      previous=self._state)
            self._apply(decision, now)
            self._settle(now)
        if monitor_due:
            wanted = set(subscription.monitor_instruments)
            wanted |= {p.instrument_id for p in self._my_positions()}
            if wanted:
                try:
                    quotes = self.broker.quotes(sorted(wanted))
                except TemporaryBrokerError as error:
                    self.log(f"exit monitor skipped: quotes unavailable ({error})", now)
                    quotes = {}
                if quotes:
                    decision = call_strategy(self.strategy.name, "on_quotes", self.strategy.on_quotes, self._context(now), quotes, self._state,
                                    previous=self._state)
                    self._apply(decision, now)
                    self._settle(now)
        if self.risk is not None:
            self.risk.watch(self, now)
        self._commit()
        self._flush_behind()  # the step's journal is in the ahead log; DuckDB follows now that it acted
        self._stepped_to = now
        self._watch()

    def _apply(self, decision: Decision, now: datetime, *, checkpoint: bool = False) -> None:
        """Record blocks and state, turn intents into orders (journalled, then sent)."""
        changed = decision.state != self._state
        self._state = decision.state
        for block in decision.blocks:
            self._record(SignalBlocked(ts=now, account=self.account, strategy=self.strategy.name, day=self.session.day,
                                       rule=block.rule, reason=block.reason, instrument_id=block.instrument_id))
        actions: list[Callable[[], None]] = []
        for intent in decision.intents:
            if isinstance(intent, Enter):
                actions += self._enter(intent, now)
            elif isinstance(intent, Exit):
                actions += self._exit(intent, now)
            elif isinstance(intent, MoveStop):
                actions += self._move_stop(intent, now)
            elif isinstance(intent, CancelStop):
                stop = working_stop(self.book, self.account, intent.instrument_id)
                if stop is not None:
                    actions.append(lambda s=stop, r=intent.reason: self._cancel(s, r, now))
        if changed or checkpoint or actions or decision.blocks:
            self._record(StrategyCheckpoint(ts=now, account=self.account, strategy=self.strategy.name,
                                            day=self.session.day, state=self._state, state_json=state_json(decision)))
        for line in decision.logs:
            self.log(line, now)
        if actions:
            self._commit(force_durable=True)  # journal first ...
            for action in actions:
                action()  # ... then act
            self._commit(force_durable=True)

    # ---- intents -------------------------------------------------------------
    def _instrument(self, instrument_id: str) -> Any:
        return self._instruments.get(instrument_id)

    def _enter(self, intent: Enter, now: datetime) -> list[Callable[[], None]]:
        position = self.book.position(self.account, intent.instrument_id)
        if position.quantity != 0 or intent.instrument_id in self._held_outside or any(o.instrument_id == intent.instrument_id and o.is_open and o.order_type is not OrderType.STOP_MARKET
                                         for o in self.book.working_orders(self.account)):
            self._record(SignalBlocked(ts=now, account=self.account, strategy=self.strategy.name, day=self.session.day,
                                       rule="ALREADY_HELD", reason=f"position or order in {intent.instrument_id} exists",
                                       instrument_id=intent.instrument_id))
            return []
        if intent.quantity <= 0:
            self._record(SignalBlocked(ts=now, account=self.account, strategy=self.strategy.name, day=self.session.day,
                                       rule="BAD_QUANTITY", reason=f"quantity {intent.quantity}", instrument_id=intent.instrument_id))
            return []
        if self.risk is not None:
            verdict = self.risk.review(self, intent, now)
            if isinstance(verdict, Block):
                self._record(SignalBlocked(ts=now, account=self.account, strategy=self.strategy.name, day=self.session.day,
                                           rule=verdict.rule, reason=verdict.reason, instrument_id=intent.instrument_id))
                self.log(f"entry {intent.side} {intent.quantity} {self._label(intent.instrument_id)} blocked by {verdict.rule}: {verdict.reason}", now)
                return []
            intent = verdict
        order = self._orders.market(self.book, intent.instrument_id, intent.side, intent.quantity, intent.reason, now,
                                    intent.signal_price, self._instrument(intent.instrument_id),
                                    protective_stop=intent.stop_price, limit_price=intent.limit_price)
        self._record(OrderSubmitted(ts=now, account=self.account, order=order), durable=True)
        return [lambda: self._send(order, now)]

    def _exit(self, intent: Exit, now: datetime) -> list[Callable[[], None]]:
        position = self.book.position(self.account, intent.instrument_id)
        if position.quantity == 0:
            self.log(f"exit {intent.reason} ignored: no position in {intent.instrument_id}", now)
            return []
        held = abs(position.quantity)
        quantity = held if intent.quantity is None else min(intent.quantity, held)
        if quantity <= 0:
            return []
        side = Side.SELL if position.quantity > 0 else Side.BUY
        actions: list[Callable[[], None]] = []
        stop = working_stop(self.book, self.account, intent.instrument_id)
        if stop is not None:
            if quantity == held:
                actions.append(lambda: self._cancel(stop, f"position exit {intent.reason}", now))
            else:
                actions.append(lambda: self._modify(stop, now, quantity=held - quantity))
        order = self._orders.market(self.book, intent.instrument_id, side, quantity, intent.reason, now,
                                    intent.signal_price, self._instrument(intent.instrument_id))
        self._record(OrderSubmitted(ts=now, account=self.account, order=order), durable=True)
        actions.append(lambda: self._send(order, now))
        return actions

    def _move_stop(self, intent: MoveStop, now: datetime) -> list[Callable[[], None]]:
        position = self.book.position(self.account, intent.instrument_id)
        if position.quantity == 0:
            return []
        stop = working_stop(self.book, self.account, intent.instrument_id)
        if stop is not None:
            return [lambda: self._modify(stop, now, stop_price=intent.stop_price, reason=intent.reason)]
        side = Side.SELL if position.quantity > 0 else Side.BUY
        order = self._orders.stop(self.book, intent.instrument_id, side, abs(position.quantity), intent.stop_price,
                                  intent.reason, now, self._instrument(intent.instrument_id))
        self._record(OrderSubmitted(ts=now, account=self.account, order=order), durable=True)
        return [lambda: self._send(order, now)]

    # ---- acting at the broker -----------------------------------------------
    def _send(self, order: Order, now: datetime) -> None:
        self._acted += 1
        try:
            crashpoint("before_send")
            broker_id = self.broker.submit_order(order)
            crashpoint("after_send")
        except OrderRejected as error:
            self._record(OrderRejectedEvent(ts=now, account=self.account, client_order_id=order.client_order_id, reason=str(error)), durable=True)
            self.log(f"order {order.client_order_id} {order.side} {order.quantity} {order.instrument_id} rejected: {error}", now)
            return
        except BrokerError as error:
            # unknown outcome: leave it SUBMITTED; the next step looks the tag up before anything is re-sent
            self._unknown.add(order.client_order_id)
            self.log(f"order {order.client_order_id} outcome unknown ({error}); will look it up by tag", now)
            return
        self.result.orders_sent += 1
        self._record(OrderAccepted(ts=now, account=self.account, client_order_id=order.client_order_id, broker_order_id=broker_id), durable=True)
        if not self.logging:
            return
        label = self._label(order.instrument_id)
        price = f" stop {order.stop_price}" if order.stop_price is not None else ""
        self.log(f"order {order.client_order_id} sent: {order.side} {order.quantity} {label}{price} ({order.reason})", now)

    def _cancel(self, order: Order, reason: str, now: datetime) -> None:
        if order.broker_order_id is None:
            return
        self._acted += 1
        try:
            self.broker.cancel_order(order.broker_order_id)
        except OrderRejected as error:
            self.log(f"cancel of {order.client_order_id} refused: {error}", now)
            return
        self._record(OrderCancelled(ts=now, account=self.account, client_order_id=order.client_order_id, reason=reason), durable=True)
        self.log(f"order {order.client_order_id} cancelled ({reason})", now)

    def _modify(self, order: Order, now: datetime, *, stop_price: Decimal | None = None, quantity: int | None = None,
                reason: str | None = None) -> None:
        if order.broker_order_id is None:
            return
        instrument = self._instrument(order.instrument_id)
        if stop_price is not None and instrument is not None:
            stop_price = instrument.snap(stop_price)
        self._acted += 1
        try:
            self.broker.modify_order(order.broker_order_id, quantity=quantity, stop_price=stop_price)
        except OrderRejected as error:
            self.log(f"modify of {order.client_order_id} refused: {error}", now)
            return
        self._record(OrderModified(ts=now, account=self.account, client_order_id=order.client_order_id,
                                   stop_price=stop_price, quantity=quantity, reason=reason), durable=True)
        if stop_price is not None:
            self.log(f"stop on {self._label(order.instrument_id)} moved to {stop_price} ({reason or 'moved'})", now)

    # ---- context -------------------------------------------------------------
    def _my_positions(self) -> list[Any]:
        return [p for p in self.book.open_positions(self.account) if p.strategy == self.strategy.name]

    def _context(self, now: datetime) -> StrategyContext:
        """What a strategy sees at ``now``; built once for a moment and book version (a step asks two or three times)."""
        key = (now, self.book.version)
        if self._context_key == key:
            return self._context_cache
        context = self._build_context(now)
        self._context_key, self._context_cache = key, context
        return context

    def _build_context(self, now: datetime) -> StrategyContext:
        positions = {}
        for position in self._my_positions():
            stop = working_stop(self.book, self.account, position.instrument_id)
            positions[position.instrument_id] = PositionView(
                instrument_id=position.instrument_id,
                quantity=position.quantity,
                average_price=position.average_price,
                opened_at=position.opened_at,
                stop_price=stop.stop_price if stop is not None else None,
                external=position.external,
            )
        working = tuple(o for o in self.book.working_orders(self.account) if o.strategy == self.strategy.name)
        cash = self.book.cash.get(self.account, Decimal(0))
        # equity at cost: cash plus every open position at its average price (no broker call per step)
        equity = cash + sum((p.average_price * p.quantity for p in self.book.open_positions(self.account)), Decimal(0))
        return StrategyContext(now=now, session=self.session, instruments=self._instruments, positions=positions,
                               working_orders=working, cash=cash, equity=equity, extras=self.settings.extras)

    def _equity(self, now: datetime) -> Decimal:
        cash = self.book.cash.get(self.account, Decimal(0))
        positions = self.book.open_positions(self.account)
        if not positions:
            return cash
        try:
            quotes = self.broker.quotes([p.instrument_id for p in positions])
        except BrokerError:
            quotes = {}
        total = cash
        for position in positions:
            quote = quotes.get(position.instrument_id)
            mark = to_decimal(quote.last) if quote is not None else position.average_price
            total += mark * position.quantity
        return total

    def _label(self, instrument_id: str) -> str:
        instrument = self._instrument(instrument_id)
        return instrument.describe() if instrument is not None else instrument_id

    def _settle(self, now: datetime) -> None:
        """Fills that orders sent in this step produced (a paper market order fills at once).

        Another round only when the last one both brought fills and acted at the broker (an
        entry's protective stop, an ``on_fill`` order): only those actions can have produced
        fills this step has not seen. Anything else arriving is read at the next step, as
        before, without a broker poll after every fill.
        """
        for _ in range(MAX_ROUNDS):
            before, acted = len(self.book.fill_ids), self._acted
            self._sync_broker(now)
            if len(self.book.fill_ids) == before or self._acted == acted:
                return
