"""A real engine on a written market day, for driving the risk gate entry by entry (no strategy timeline)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from tradekit.calendars import session as exchange_session
from tradekit.clock import SimClock
from tradekit.data import load_day
from tradekit.engine.loop import Engine, EngineSettings
from tradekit.engine.risk import RiskGate, RiskLimits
from tradekit.model.intents import Enter, Exit
from tradekit.model.orders import Side
from tradekit.plugins.example_strategy import ExampleStrategy
from tradekit.plugins.paper import create_paper_broker
from tradekit.plugins.replay import ReplayMarket
from tradekit.ports.context import BrokerContext
from tradekit.ports.strategy import Decision
from tradekit.store import DuckDBStore
from tradekit.testing.market import session_bars, write_day

DAY = date(2025, 12, 8)
ACCOUNT = "paper:default"
OPTION = "NIFTY25D0926000CE"
CRASH_BAR = 30  # TESTCO trades at 1000 until this bar, then at 900


def write_market(root: Path) -> Path:
    """TESTCO and OTHERCO (sector IT), BANKCO (BANK), one NIFTY call; TESTCO drops 10% at 09:45."""
    bars = session_bars("NSE")
    directory = write_day(root, "NSE", DAY, {
        "TESTCO": [1000.0] * CRASH_BAR + [900.0] * (bars - CRASH_BAR),
        "OTHERCO": [500.0] * bars,
        "BANKCO": [200.0] * bars,
        OPTION: [100.0] * bars,
    })
    (directory / "instruments.csv").write_text(
        "symbol,exchange,kind,currency,lot_size,tick_size,underlying,expiry,strike,right,sector\n"
        "TESTCO,NSE,EQUITY,INR,1,0.05,,,,,IT\n"
        "OTHERCO,NSE,EQUITY,INR,1,0.05,,,,,IT\n"
        "BANKCO,NSE,EQUITY,INR,1,0.05,,,,,BANK\n"
        f"{OPTION},NFO,OPTION,INR,75,0.05,NIFTY,2025-12-09,26000,CALL,\n"
    )
    return directory


@dataclass
class Desk:
    engine: Engine
    clock: SimClock
    store: DuckDBStore

    @property
    def book(self) -> Any:
        return self.engine.book

    def at(self, minutes: float) -> Any:
        """Move the clock to ``minutes`` after the open."""
        moment = self.engine.session.open + timedelta(minutes=minutes)
        self.clock.sleep_until(moment)
        return moment

    def act(self, *intents: Any) -> None:
        now = self.clock.now()
        self.engine._apply(Decision(state=self.engine._state, intents=intents), now)
        self.engine._settle(now)
        self.engine._commit(force_durable=True)

    def enter(self, iid: str, quantity: int = 10, price: float | None = None, stop: str | None = None, side: Side = Side.BUY) -> None:
        self.act(Enter(iid, side, quantity, signal_price=price, stop_price=Decimal(stop) if stop else None))

    def exit(self, iid: str, quantity: int | None = None, price: float | None = None) -> None:
        self.act(Exit(iid, "TEST_EXIT", quantity=quantity, signal_price=price))

    def blocked(self, rule: str) -> int:
        return sum(c for (a, s, d, r), c in self.book.blocks.items() if r == rule)

    def held(self, iid: str) -> int:
        return self.book.position(ACCOUNT, iid).quantity

    def watch(self) -> None:
        self.engine.risk.watch(self.engine, self.clock.now())
        self.engine._commit(force_durable=True)

    def close(self) -> None:
        self.store.flush(self.book)
        self.store.close()


def open_desk(home: Path, root: Path, *, paper: dict[str, Any] | None = None, minutes: float | None = None, **risk: Any) -> Desk:
    """Engine, store, paper venue and risk gate for ``DAY`` with the ``[risk]`` overrides given (a restart when home exists)."""
    directory = root / "NSE" / DAY.isoformat()
    if not directory.exists():
        write_market(root)
    info = exchange_session("NSE", DAY)
    assert info is not None
    market = ReplayMarket(load_day(directory))
    store = DuckDBStore(home / "tradekit.duckdb")
    book = store.load_book()
    record = book.strategies.get((ACCOUNT, "example"))
    clock = SimClock(info.open + timedelta(minutes=minutes) if minutes is not None else record.ts if record is not None else info.open)
    settings = {"capital": 100000, "costs": {"preset": "none"}, **(paper or {})}
    broker = create_paper_broker(BrokerContext(name="paper", settings=settings, home=home, clock=clock, market=market))
    broker.connect()
    from tradekit.config import DEFAULTS

    limits = RiskLimits.from_config({**DEFAULTS["risk"], "daily_loss_pct": 0, "drawdown_warn_pct": 0, "drawdown_halt_pct": 0,
                                     "drawdown_liquidate_pct": 0, "cooldown_seconds": 0, **risk})
    engine = Engine(store=store, book=book, broker=broker, feed=market, strategy=ExampleStrategy({"instrument": "NSE:TESTCO"}),
                    clock=clock, session=info, settings=EngineSettings(account=ACCOUNT, store_id=store.store_id,
                                                                       opening_cash=Decimal(100000), live=True),
                    risk=RiskGate(limits))
    engine._open_day()
    engine._recover_orders()
    engine.risk.start(engine, clock.now())
    engine._commit(force_durable=True)
    return Desk(engine, clock, store)
