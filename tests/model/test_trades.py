"""Round trips: trade records built by the book from orders and fills, checked against hand computation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from tradekit.model.book import Book
from tradekit.model.events import DayOpened, FillRecorded, OrderAccepted, OrderSubmitted
from tradekit.model.fills import Fill
from tradekit.model.orders import Order, OrderStatus, Side
from tradekit.model.trades import Trade

ACCOUNT = "paper:test"
INSTRUMENT = "NSE:TESTCO"
T0 = datetime(2025, 12, 9, 3, 45, tzinfo=UTC)
D = Decimal


class Session:
    """Drives a book through the events the engine would journal."""

    def __init__(self) -> None:
        self.book = Book()
        self.book.apply(DayOpened(ts=T0, account=ACCOUNT, day=date(2025, 12, 9), cash=D("100000"), source="capital"))
        self.minute = 0
        self.fills = 0
        self.trades: list[Trade] = []

    def at(self) -> datetime:
        self.minute += 1
        return T0 + timedelta(minutes=self.minute)

    def order(self, tag: str, side: Side, quantity: int, reason: str, signal: str) -> None:
        order = Order(
            client_order_id=tag, account=ACCOUNT, instrument_id=INSTRUMENT, side=side, quantity=quantity,
            strategy="demo", reason=reason, signal_price=D(signal), created_at=self.at(),
        )  # fmt: skip
        self.book.apply(OrderSubmitted(ts=order.created_at, account=ACCOUNT, order=order))  # type: ignore[arg-type]
        self.book.apply(OrderAccepted(ts=self.at(), account=ACCOUNT, client_order_id=tag, broker_order_id=f"B-{tag}"))

    def fill(self, tag: str, side: Side, quantity: int, price: str, costs: str) -> datetime:
        self.fills += 1
        ts = self.at()
        fill = Fill(
            fill_id=f"F{self.fills}", account=ACCOUNT, instrument_id=INSTRUMENT, side=side, quantity=quantity,
            price=D(price), ts=ts, client_order_id=tag, broker_order_id=f"B-{tag}", costs=D(costs),
        )  # fmt: skip
        self.book.apply(FillRecorded(ts=ts, account=ACCOUNT, fill=fill))
        self.trades.extend(self.book.take_dirty().trades)
        return ts


def test_trade_long_with_partial_fills_and_partial_exit_hand_computed() -> None:
    s = Session()
    s.order("E1", Side.BUY, 100, "ENTRY", "100.00")
    entry_ts = s.fill("E1", Side.BUY, 60, "100.10", "5")
    assert s.book.orders["E1"].status is OrderStatus.PARTIALLY_FILLED
    s.fill("E1", Side.BUY, 40, "100.20", "4")
    s.order("X1", Side.SELL, 50, "PARTIAL_50", "105.00")
    s.fill("X1", Side.SELL, 50, "104.90", "6")
    assert s.trades == []  # half the position is still open
    s.order("X2", Side.SELL, 50, "TRAILING_STOP", "103.00")
    exit_ts = s.fill("X2", Side.SELL, 50, "102.95", "7")

    [trade] = s.trades
    # entry average (60*100.10 + 40*100.20) / 100 = 100.14; exit average (50*104.90 + 50*102.95) / 100 = 103.925
    assert (trade.side, trade.quantity, trade.entry_price, trade.exit_price) == ("LONG", 100, D("100.14"), D("103.925"))
    assert (trade.entry_ts, trade.exit_ts) == (entry_ts, exit_ts)
    # gross (104.90 - 100.14) * 50 + (102.95 - 100.14) * 50 = 238 + 140.5; costs 5 + 4 + 6 + 7
    assert trade.gross_pnl == D("378.5")
    assert trade.costs == D("22")
    assert trade.net_pnl == D("356.5")
    assert trade.pnl_pct == D("3.7797")  # 378.5 / 10014 * 100 = 3.77970...
    assert trade.exit_reason == "TRAILING_STOP"  # the closing order's reason
    assert trade.partial_exits == 1  # one exit before the closing one
    # slippage against signals: entry 0.10*60 + 0.20*40, exits (105 - 104.90)*50 + (103 - 102.95)*50
    assert trade.slippage == D("21.5")
    assert (trade.trade_id, trade.strategy, trade.external) == ("T1", "demo", False)
    assert s.book.position(ACCOUNT, INSTRUMENT).is_flat
    assert (ACCOUNT, INSTRUMENT) not in s.book.open_trades
    # cash: 100000 - 10014 - 9 + 5245 - 6 + 5147.5 - 7
    assert s.book.cash[ACCOUNT] == D("100356.5")


def test_trade_short_single_exit_hand_computed() -> None:
    s = Session()
    s.order("E1", Side.SELL, 75, "ENTRY", "200")
    s.fill("E1", Side.SELL, 75, "200", "10")
    s.order("S1", Side.BUY, 75, "INITIAL_STOP", "190")
    s.fill("S1", Side.BUY, 75, "190", "12")
    [trade] = s.trades
    assert (trade.side, trade.entry_price, trade.exit_price) == ("SHORT", D("200"), D("190"))
    assert trade.gross_pnl == D("750")  # (200 - 190) * 75
    assert trade.net_pnl == D("728")
    assert trade.pnl_pct == D("5.0000")  # 750 / 15000 * 100
    assert (trade.exit_reason, trade.partial_exits) == ("INITIAL_STOP", 0)


def test_trade_exit_crossing_zero_closes_trade_and_opens_new_one() -> None:
    s = Session()
    s.order("E1", Side.BUY, 10, "ENTRY", "50")
    s.fill("E1", Side.BUY, 10, "50", "1")
    s.order("R1", Side.SELL, 30, "REVERSE", "55")
    s.fill("R1", Side.SELL, 30, "55", "3")
    [trade] = s.trades
    assert (trade.side, trade.quantity, trade.gross_pnl, trade.exit_reason) == ("LONG", 10, D("50"), "REVERSE")
    assert trade.costs == D("2")  # entry 1 + a third of the reversing fill's 3 (10 of 30 units closed)
    fresh = s.book.open_trades[(ACCOUNT, INSTRUMENT)]
    assert (fresh.direction, fresh.entry_quantity, fresh.entry_notional, fresh.costs) == (-1, 20, D("1100"), D("2"))


def test_trade_manual_fill_without_order_is_external_with_manual_reason() -> None:
    s = Session()
    for number, (side, price) in enumerate([(Side.BUY, "10"), (Side.SELL, "11")]):
        s.fills += 1
        fill = Fill(fill_id=f"M{number}", account=ACCOUNT, instrument_id=INSTRUMENT, side=side, quantity=5,
                    price=D(price), ts=s.at())  # fmt: skip
        s.book.apply(FillRecorded(ts=fill.ts, account=ACCOUNT, fill=fill))
        s.trades.extend(s.book.take_dirty().trades)
    [trade] = s.trades
    assert (trade.exit_reason, trade.external, trade.gross_pnl) == ("MANUAL", True, D("5"))
