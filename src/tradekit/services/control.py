"""Control commands: through the running engine when one holds the store, else on the store and the broker directly.

``engine_controls`` is what ``run`` uses to build its risk gate and start
its control endpoint. ``control`` is what the CLI uses: it asks the running
engine (found through ``<home>/control.json``) or, with no engine running,
performs the same operation itself: latches and pauses are journalled in
the store; ``close`` and ``flatten`` build an engine for the account's
current day on the paper venue and act through it, journal first.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from tradekit.calendars import session as exchange_session
from tradekit.clock import SimClock
from tradekit.control import ControlError, ops
from tradekit.control.client import EngineClient
from tradekit.control.server import ControlChannel, ControlServer
from tradekit.data import find_day, load_day
from tradekit.engine.loop import Engine, EngineSettings
from tradekit.engine.risk import RiskGate, RiskLimits
from tradekit.errors import DataError
from tradekit.model.book import Book
from tradekit.plugins.paper import create_paper_broker, paper_settings
from tradekit.plugins.replay import ReplayMarket
from tradekit.ports.context import BrokerContext
from tradekit.ports.strategy import Decision, Subscription
from tradekit.services.setup import Workspace

MANUAL = "manual"


def risk_gate(ws: Workspace) -> RiskGate:
    return RiskGate(RiskLimits.from_config(ws.config.section("risk")))


class _NoEndpoint:
    """A backtest's day: nobody is there to talk to it, so no endpoint is opened (nor shut down each day)."""

    def close(self) -> None:
        return None


def engine_controls(ws: Workspace, strategy: str, pace: float, log: Callable[[str], None], *,
                    serve: bool = True) -> tuple[RiskGate, ControlChannel, Any]:
    """The risk gate, control channel and (started) endpoint of one run; close the server when the run ends."""
    channel = ControlChannel(pace=pace, log=log)
    if not serve:
        return risk_gate(ws), channel, _NoEndpoint()
    server = ControlServer(ws.home, channel, store=ws.store_path, strategy=strategy)
    server.start()
    log(f"control: listening on 127.0.0.1:{server.port} (pid {os.getpid()}); "
        "tradekit status | close SYMBOL | flatten | pause | resume")
    return risk_gate(ws), channel, server


def running_engine(ws: Workspace) -> EngineClient | None:
    return EngineClient.find(ws.home)


def control(ws: Workspace, op: str, **args: Any) -> tuple[str, Any]:
    """Run ``op`` through the running engine, or offline. Returns ("engine" | "store", result)."""
    client = running_engine(ws)
    if client is not None:
        return "engine", client.call(op, **args)
    with offline_engine(ws, needs_broker=op in ("close", "flatten")) as engine:
        return "store", ops.dispatch(engine, {"op": op, **args})


class _Manual:
    """The strategy of offline control actions: it decides nothing; its orders are tagged ``manual``."""

    name = MANUAL

    def __init__(self, market: str) -> None:
        self.market = market

    def start(self, context: Any, state: Any) -> Decision:
        return Decision(state=state or {})

    def subscription(self, context: Any, state: Any) -> Subscription:
        return Subscription(candle_seconds=60, instruments=())

    def on_candles(self, context: Any, candles: Any, state: Any) -> Decision:
        return Decision(state=state)

    def on_quotes(self, context: Any, quotes: Any, state: Any) -> Decision:
        return Decision(state=state)

    def on_fill(self, context: Any, fill: Any, order: Any, state: Any) -> Decision:
        return Decision(state=state)


def _account_day(ws: Workspace, book: Book, account: str) -> tuple[Any, Any, Any]:
    """The account's current day: its replay, exchange session and the event time to act at."""
    day = book.current_day.get(account)
    if day is None:
        raise ControlError(f"{account} has never traded; nothing to act on")
    root = ws.config.get("data.root") or None
    for market in ("NSE", "NYSE"):
        try:
            replay = load_day(find_day(market, day, root))
        except DataError:
            continue
        info = exchange_session(market, day)
        if info is None:
            continue
        record = book.days.get((account, day))
        marks = [r.ts for (acct, _), r in book.strategies.items() if acct == account and r.day == day]
        marks += [book.last_fill_ts[account]] if account in book.last_fill_ts and book.last_fill_ts[account] >= info.open else []
        moment = info.close if record is not None and record.close_cash is not None else max(marks, default=info.open)
        return replay, info, moment
    raise ControlError(f"no market data for {account}'s day {day}: cannot price a close on the paper venue")


@contextmanager
def offline_engine(ws: Workspace, *, needs_broker: bool) -> Iterator[Any]:
    """An engine for one control action with no ``run`` holding the store (the store lock refuses a race)."""
    settings = paper_settings(ws.config.section("paper"))
    account = f"paper:{settings.account}"
    store = ws.open_store()
    try:
        book = store.load_book()
        engine: Any
        if needs_broker:
            replay, info, moment = _account_day(ws, book, account)
            clock = SimClock(moment)
            market = ReplayMarket(replay)
            broker = create_paper_broker(BrokerContext(name="paper", settings=ws.config.section("paper"), home=ws.home,
                                                       clock=clock, market=market))
            broker.connect()
            engine = Engine(store=store, book=book, broker=broker, feed=market, strategy=_Manual(info.market), clock=clock,
                            session=info, settings=EngineSettings(account=account, store_id=store.store_id,
                                                                  opening_cash=Decimal(settings.capital)),
                            log=lambda line: None, risk=risk_gate(ws))
            engine._recover_orders()  # settle what the venue did since the last run before acting
        else:
            engine = _StoreOnly(store, book, account, risk_gate(ws))
        yield engine
        engine._commit(force_durable=True)
    finally:
        store.close()


@dataclass(frozen=True)
class _Day:
    day: date


class _StoreOnly:
    """Just enough of an engine for latches, pauses and status: the book, the store, the risk gate."""

    def __init__(self, store: Any, book: Book, account: str, risk: RiskGate) -> None:
        self.store, self.book, self.account, self.risk = store, book, account, risk
        self.control = None
        now = datetime.now(UTC)
        self.clock = SimClock(now)
        day = book.current_day.get(account) or now.date()
        self.session = _Day(day)
        self.strategy = _Manual("")
        self._pending: list[Any] = []

    def _record(self, event: Any, *, durable: bool = False) -> None:
        self.book.apply(event)
        self._pending.append(event)

    def _commit(self, *, force_durable: bool = False) -> None:
        events, self._pending = self._pending, []
        if events or self.book.dirty:
            self.store.commit(events, self.book, durable=True)

    def log(self, line: str, at: Any = None) -> None:
        return None

    def _label(self, instrument_id: str) -> str:
        return instrument_id

    def _equity(self, now: Any) -> Decimal:
        return self.book.cash.get(self.account, Decimal(0))
