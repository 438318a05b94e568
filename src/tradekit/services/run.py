"""``run``: trade one session of one strategy on one broker, resuming whatever was interrupted.

Paper runs on the ``paper`` broker replay a market day (the bundled samples
or ``--data``) on a simulated clock: by default the first day the account
has not finished, so running again continues where the last run stopped
(an interrupted day resumes; a finished day carries its cash to the next).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from tradekit.calendars import session as exchange_session
from tradekit.clock import Clock, SimClock
from tradekit.data import list_days, load_day
from tradekit.engine.loop import DayResult, Engine, EngineSettings
from tradekit.errors import ConfigError, DataError, TradekitError
from tradekit.plugins.paper import create_paper_broker, paper_settings, venue_path
from tradekit.plugins.paper.venue import PaperVenue
from tradekit.plugins.replay import ReplayMarket
from tradekit.ports.context import BrokerContext
from tradekit.ports.strategy import SessionInfo
from tradekit.services.setup import Workspace


@dataclass
class RunOptions:
    broker: str = "paper"
    strategy: str = "oi-momentum"
    live: bool = False
    day: date | None = None
    data: Path | None = None
    fresh_day: bool = False
    pace: float = 0.0  # wall seconds per step: watch a replay in real time (and talk to it)


@dataclass
class RunOutcome:
    day: date | None
    result: DayResult | None
    message: str
    data_issues: tuple[str, ...] = ()


def _replay_days(ws: Workspace, market: str, data: Path | None) -> list[Any]:
    root = data or (Path(ws.config.get("data.root")) if ws.config.get("data.root") else None)
    days = [d for d in list_days(root) if d.market == market]
    if not days:
        where = root or "the bundled samples"
        raise DataError(f"no {market} market days in {where}")
    return days


def _choose_day(days: list[Any], book: Any, account: str, wanted: date | None) -> Any | None:
    if wanted is not None:
        for info in days:
            if info.day == wanted:
                return info
        raise DataError(f"no market data for {wanted} (have: {', '.join(str(d.day) for d in days)})")
    for info in days:
        record = book.days.get((account, info.day))
        if record is None or record.close_cash is None:
            return info
    return None


def _session_for(market: str, day: date, replay: Any) -> SessionInfo:
    session = exchange_session(market, day)
    if session is None:
        raise DataError(f"{day} is not a {market} trading day, but data exists for it: {replay.path}")
    return session


@dataclass
class Held:
    """What a backtest keeps open across its days: the store session, the book, the market's days
    as listed once, and the paper venue.

    Each was once redone every day, which made a backtest quadratic in its days: listing a
    year's data (6 s of stat calls over 250 days), and a venue that loaded and rewrote the whole
    account file and re-read every fill from the start. The backtest closes the venue at the end.
    """

    store: Any
    book: Any
    listing: list[Any]
    venue: Any = None


def run(ws: Workspace, options: RunOptions, log: Callable[[str], None], *, clock: Clock | None = None,
        opened: Held | None = None) -> RunOutcome:
    """Replay a day on ``--broker paper``; on any other broker trade today's session on its market data
    (paper execution by default, real orders with ``live``). ``clock`` is injectable for tests.
    ``opened``: what a backtest keeps open across days (no open, load, listing, backup per day)."""
    strategy = ws.strategy(options.strategy)
    if options.broker == "paper":
        if options.live:
            raise ConfigError("--live needs a real broker (--broker zerodha|angelone|ibkr); paper replays recorded data")
        return _run_replay(ws, options, strategy, log, opened)
    from tradekit.services.live import run_session

    return run_session(ws, options, strategy, log, clock=clock)


def _run_replay(ws: Workspace, options: RunOptions, strategy: Any, log: Callable[[str], None],
                opened: Held | None = None) -> RunOutcome:
    market = strategy.market
    settings = paper_settings(ws.config.section("paper"), market)
    account = f"paper:{settings.account}"
    batch = int(ws.config.get("engine.replay_batch", 200))
    store = ws.open_store(batch_size=batch, lazy_projections=True) if opened is None else opened.store
    try:
        book = store.load_book() if opened is None else opened.book
        open_positions = book.open_positions(account)
        record = book.strategies.get((account, strategy.name))
        days = opened.listing if opened is not None else _replay_days(ws, market, options.data)
        unfinished = book.current_day.get(account)
        wanted = options.day
        if wanted is None and unfinished is not None and book.days.get((account, unfinished)) and book.days[(account, unfinished)].close_cash is None:
            wanted = unfinished  # an interrupted day is always finished first
        if options.day is not None and unfinished is not None and options.day != unfinished and open_positions and \
                book.days.get((account, unfinished)) and book.days[(account, unfinished)].close_cash is None:
            raise TradekitError(f"day {unfinished} was interrupted with open positions; it is resumed first (run without --day)")
        info = _choose_day(days, book, account, wanted)
        if info is None:
            return RunOutcome(None, None, f"every {market} day in the data has been traded on {account}; "
                              "add days (tradekit data generate) or use another --home")
        if options.fresh_day and open_positions:
            raise TradekitError(
                f"cannot start the day over: {len(open_positions)} open position(s) on {account}; "
                "recovery is forced while positions are open"
            )
        replay = load_day(info.path)
        issues = tuple(issue.describe() for issue in replay.issues)
        session = _session_for(market, info.day, replay)
        clock = SimClock(session.open)
        quotes = ReplayMarket(replay)
        backtest = bool(ws.config.get("engine.defer_durable", False))
        kept = opened is not None and backtest
        if kept and opened.venue is not None:  # the backtest's venue carries on with today's prices and clock
            broker: Any = opened.venue
            broker.use_market(quotes, clock)
        elif backtest:  # the backtest's own venue: its account in memory, written when the backtest ends
            broker = PaperVenue(venue_path(ws.home, settings.account), settings, quotes, clock, persist="close")
            broker.connect()
            if kept:
                opened.venue = broker
        else:
            broker = create_paper_broker(BrokerContext(name="paper", settings=ws.config.section("paper"), home=ws.home,
                                                       clock=clock, market=quotes))
            broker.connect()
        extras = {"scanner": replay.scanner} if replay.scanner is not None else {}
        if options.fresh_day and record is not None and record.day == info.day:
            log(f"starting {info.day} over for {strategy.name} (no open positions; cash is kept)")
        from tradekit.services.control import engine_controls

        risk, channel, control_server = engine_controls(ws, strategy.name, options.pace, log, serve=not backtest)
        engine = Engine(
            store=store, book=book, broker=broker, feed=quotes, strategy=strategy, clock=clock, session=session,
            settings=EngineSettings(account=account, store_id=store.store_id, live=False,
                                    opening_cash=Decimal(settings.capital), extras=extras,
                                    fresh=options.fresh_day, sync_minutes=float(ws.config.get("engine.sync_minutes", 5)),
                                    sync=ws.config.section("sync"),
                                    defer_durable=backtest),
            log=log, notify=ws.plugins.notify, risk=risk, control=channel,
        )
        try:
            result = engine.run()
        finally:
            control_server.close()
            if not kept:
                broker.close()
        if opened is None:
            store.flush(book)
            store.backup(info.day, keep=int(ws.config.get("store.backups_keep", 10)))
        return RunOutcome(info.day, result, f"{info.day} done", issues)
    finally:
        if opened is None:
            store.close()
