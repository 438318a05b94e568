"""A real store holding fixed trade lists, written through the public model (events -> Book -> DuckDBStore.commit).

For tests and benchmarks of everything that reads the store (reports,
exports). Nothing is faked: every trade is an entry order and fill and an
exit order and fill, journalled and projected exactly as the engine does,
so the trades, orders, accounts_daily and blocks tables are the real
projections.
"""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

from tradekit.model.events import (
    DayClosed,
    DayOpened,
    Event,
    FillRecorded,
    OrderAccepted,
    OrderRejected,
    OrderSubmitted,
    SignalBlocked,
)
from tradekit.model.fills import Fill
from tradekit.model.orders import Order, OrderType, Side
from tradekit.store import DuckDBStore

IST = ZoneInfo("Asia/Kolkata")
NY = ZoneInfo("America/New_York")


def _tz(instrument_id: str) -> ZoneInfo:
    return IST if instrument_id.split(":")[0] in ("NSE", "NFO") else NY


class Ledger:
    """Writes days, round trips, rejected orders and blocked signals into a store."""

    def __init__(self, path: Path) -> None:
        self.store = DuckDBStore(path, batch_size=10_000)  # one transaction at close: fixtures stay fast
        self.book = self.store.load_book()  # empty for a new store; carries on an existing one
        self.orders = len(self.book.orders)
        self.fills = len(self.book.fill_ids)
        self.closed = False

    def _commit(self, *events: Event) -> None:
        for event in events:
            self.book.apply(event)
        self.store.commit(list(events), self.book, durable=False)

    def open_day(self, account: str, day: date, cash: float | None = None, tz: ZoneInfo = IST) -> None:
        amount = Decimal(str(cash)) if cash is not None else self.book.cash[account]
        ts = datetime.combine(day, time(9, 15), tz)
        self._commit(DayOpened(ts=ts, account=account, day=day, cash=amount, source="capital" if cash is not None else "carry-over"))

    def close_day(self, account: str, day: date, tz: ZoneInfo = IST) -> None:
        cash = self.book.cash[account]
        self._commit(DayClosed(ts=datetime.combine(day, time(15, 30), tz), account=account, day=day, cash=cash, equity=cash))

    def _order(self, account: str, strategy: str, instrument: str, side: Side, quantity: int, ts: datetime,
               reason: str, signal: float | None) -> Order:
        self.orders += 1
        return Order(client_order_id=f"O{self.orders}", account=account, instrument_id=instrument, side=side, quantity=quantity,
                     order_type=OrderType.MARKET, strategy=strategy, reason=reason, created_at=ts,
                     signal_price=None if signal is None else Decimal(str(signal)))  # fmt: skip

    def _fill(self, order: Order, price: float, ts: datetime, costs: float) -> None:
        self.fills += 1
        fill = Fill(fill_id=f"F{self.fills}", account=order.account, instrument_id=order.instrument_id, side=order.side,
                    quantity=order.quantity, price=Decimal(str(price)), ts=ts, client_order_id=order.client_order_id,
                    broker_order_id=f"B{order.client_order_id}", costs=Decimal(str(costs)))  # fmt: skip
        self._commit(
            OrderSubmitted(ts=ts, account=order.account, order=order),
            OrderAccepted(ts=ts, account=order.account, client_order_id=order.client_order_id, broker_order_id=f"B{order.client_order_id}"),
            FillRecorded(ts=ts, account=order.account, fill=fill, strategy=order.strategy),
        )

    def trade(self, account: str, strategy: str, instrument: str, day: date, entry: str, entry_price: float, exit: str,
              exit_price: float, *, quantity: int = 10, short: bool = False, reason: str = "TARGET",
              entry_costs: float = 0, exit_costs: float = 0, entry_signal: float | None = None,
              exit_signal: float | None = None) -> None:
        """One round trip on ``day`` between two local times ("HH:MM")."""
        tz = _tz(instrument)
        entry_ts = datetime.combine(day, time.fromisoformat(entry), tz)
        exit_ts = datetime.combine(day, time.fromisoformat(exit), tz)
        side = Side.SELL if short else Side.BUY
        opening = self._order(account, strategy, instrument, side, quantity, entry_ts, "ENTRY", entry_signal)
        self._fill(opening, entry_price, entry_ts, entry_costs)
        closing = self._order(account, strategy, instrument, side.opposite, quantity, exit_ts, reason, exit_signal)
        self._fill(closing, exit_price, exit_ts, exit_costs)

    def rejected(self, account: str, strategy: str, instrument: str, day: date, at: str, reason: str = "margin") -> None:
        ts = datetime.combine(day, time.fromisoformat(at), _tz(instrument))
        order = self._order(account, strategy, instrument, Side.BUY, 10, ts, "ENTRY", None)
        self._commit(OrderSubmitted(ts=ts, account=account, order=order),
                     OrderRejected(ts=ts, account=account, client_order_id=order.client_order_id, reason=reason))

    def block(self, account: str, strategy: str, day: date, at: str, rule: str, reason: str) -> None:
        ts = datetime.combine(day, time.fromisoformat(at), IST)
        self._commit(SignalBlocked(ts=ts, account=account, strategy=strategy, day=day, rule=rule, reason=reason))

    def close(self) -> None:
        if not self.closed:
            self.store.flush(self.book)
            self.store.close()
            self.closed = True


PAPER = "paper:alpha"
LIVE = "zerodha:AB1234"
D1, D2, D3, D4 = date(2025, 12, 1), date(2025, 12, 2), date(2025, 12, 3), date(2025, 12, 4)


def write_scenario(ledger: Ledger) -> None:
    """The fixed trade list every hand-computed number in tests/report is worked out from.

    paper:alpha, capital 100,000, four NSE days:
      D1  T1 momo  AAA long 10 @100 -> 110  09:20-10:00  costs 2+3, signals 99.5 / 110.5  TARGET  net  +95
          T2 momo  AAA long 10 @100 -> 95   10:30-11:00                                    STOP    net  -50
          T4 loser CCC long 20 @50  -> 48   10:45-12:00                                    STOP    net  -40
      D2  no trades; momo blocked twice by MAX_TRADES and once by ALREADY_HELD
      D3  T3 momo  BBB short 5 @200 -> 220  09:30-10:30                                    STOP    net -100
          a momo entry order rejected at 11:00
      D4  T5 loser CCC long 20 @50  -> 45   10:00-11:00                                    STOP    net -100
          T6 momo  AAA long 10 @100 -> 115  12:00-13:00                                    TARGET  net +150
    zerodha:AB1234 (live), capital 50,000, D1: T7 momo NIFTY CE long 50 @100 -> 110 09:30-10:00 TARGET net +500.
    """
    ledger.open_day(PAPER, D1, 100000)
    ledger.trade(PAPER, "momo", "NSE:AAA", D1, "09:20", 100, "10:00", 110, entry_costs=2, exit_costs=3,
                 entry_signal=99.5, exit_signal=110.5, reason="TARGET")
    ledger.trade(PAPER, "momo", "NSE:AAA", D1, "10:30", 100, "11:00", 95, reason="STOP")
    ledger.trade(PAPER, "loser", "NSE:CCC", D1, "10:45", 50, "12:00", 48, quantity=20, reason="STOP")
    ledger.close_day(PAPER, D1)
    ledger.open_day(PAPER, D2)
    ledger.block(PAPER, "momo", D2, "10:00", "MAX_TRADES", "2 trades already today")
    ledger.block(PAPER, "momo", D2, "11:00", "ALREADY_HELD", "position or order in NSE:AAA exists")
    ledger.block(PAPER, "momo", D2, "12:00", "MAX_TRADES", "limit 2 reached")
    ledger.close_day(PAPER, D2)
    ledger.open_day(PAPER, D3)
    ledger.trade(PAPER, "momo", "NSE:BBB", D3, "09:30", 200, "10:30", 220, quantity=5, short=True, reason="STOP")
    ledger.rejected(PAPER, "momo", "NSE:AAA", D3, "11:00")
    ledger.close_day(PAPER, D3)
    ledger.open_day(PAPER, D4)
    ledger.trade(PAPER, "loser", "NSE:CCC", D4, "10:00", 50, "11:00", 45, quantity=20, reason="STOP")
    ledger.trade(PAPER, "momo", "NSE:AAA", D4, "12:00", 100, "13:00", 115, reason="TARGET")
    ledger.close_day(PAPER, D4)
    ledger.open_day(LIVE, D1, 50000)
    ledger.trade(LIVE, "momo", "NFO:NIFTY25D0225900CE", D1, "09:30", 100, "10:00", 110, quantity=50, reason="TARGET")
    ledger.close_day(LIVE, D1)
