"""The paper venue over a replayed day: fills at the quote, stops along the price path, rejects that say why."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tradekit.clock import SimClock
from tradekit.data import load_day
from tradekit.errors import OrderRejected
from tradekit.model import Order, OrderStatus, OrderType, Side
from tradekit.plugins.paper.costs import PRESETS, cost_model
from tradekit.plugins.paper.venue import PaperSettings, PaperVenue
from tradekit.plugins.replay import ReplayMarket
from tradekit.testing.market import write_day

IST = ZoneInfo("Asia/Kolkata")
DAY = date(2025, 12, 9)
D = Decimal
TESTCO = "NSE:TESTCO"
OPTION_LOT = "NSE:LOTCO"

# (open, high, low, close) per one-minute bar from 09:15 IST; bar i ends at 09:16 + i
BARS = [
    (100.00, 100.00, 100.00, 100.00),  # ends 09:16
    (100.00, 101.00, 100.00, 101.00),  # ends 09:17
    (101.00, 102.00, 100.50, 101.50),  # ends 09:18
    (101.50, 101.50, 98.00, 99.00),  # ends 09:19: trades down through 98.50
    (99.00, 99.00, 96.00, 96.50),  # ends 09:20
    (94.00, 95.00, 93.00, 94.50),  # ends 09:21: opens with a gap below 96
    (94.50, 95.00, 94.00, 94.50),  # ends 09:22
]


def at(hour: int, minute: int) -> datetime:
    return datetime(2025, 12, 9, hour, minute, tzinfo=IST)


@pytest.fixture
def market(tmp_path: Path) -> ReplayMarket:
    root = tmp_path / "data"
    directory = write_day(root, "NSE", DAY, {"TESTCO": [c for *_, c in BARS], "LOTCO": [c for *_, c in BARS]})
    rows = ["ts,symbol,open,high,low,close,volume,oi"]
    for symbol in ("TESTCO", "LOTCO"):
        for index, (o, h, low, c) in enumerate(BARS):
            rows.append(f"{datetime(2025, 12, 9, 9, 15 + index, tzinfo=IST).isoformat()},{symbol},{o:.2f},{h:.2f},{low:.2f},{c:.2f},1000,0")
    (directory / "bars.csv").write_text("\n".join(rows) + "\n")
    instruments = (directory / "instruments.csv").read_text().splitlines()
    instruments = [line.replace("LOTCO,NSE,EQUITY,INR,1,", "LOTCO,NSE,EQUITY,INR,75,") for line in instruments]
    (directory / "instruments.csv").write_text("\n".join(instruments) + "\n")
    day = load_day(directory)
    assert day.issues == ()
    return ReplayMarket(day)


def venue(tmp_path: Path, market: ReplayMarket, clock: SimClock, **settings: object) -> PaperVenue:
    values = {"account": "test", "capital": D("100000"), **settings}
    return PaperVenue(tmp_path / "paper" / "test.json", PaperSettings(**values), market, clock)  # type: ignore[arg-type]


def order(tag: str, side: Side, quantity: int, instrument: str = TESTCO, **extra: object) -> Order:
    return Order(client_order_id=tag, account="paper:test", instrument_id=instrument, side=side, quantity=quantity, **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize(("side", "expected"), [(Side.BUY, D("101.05")), (Side.SELL, D("100.95"))])
def test_paper_market_order_fills_at_quote_plus_slippage_snapped(tmp_path: Path, market: ReplayMarket, side: Side, expected: D) -> None:
    clock = SimClock(at(9, 17))  # the last closed bar ended 09:17 at 101.00
    paper = venue(tmp_path, market, clock, slippage_bps=D(7))
    if side is Side.SELL:
        paper.submit_order(order("OPEN", Side.BUY, 10))
    broker_id = paper.submit_order(order("TK-1", side, 10))
    # 101 * (1 +/- 0.0007) = 101.0707 / 100.9293, snapped to the 0.05 tick
    [fill] = [f for f in paper.fill_reports() if f.broker_order_id == broker_id]
    assert fill.price == expected
    assert (fill.quantity, fill.side, fill.client_order_id, fill.ts) == (10, side, "TK-1", at(9, 17))
    [report] = [r for r in paper.order_reports() if r.broker_order_id == broker_id]
    assert (report.status, report.filled_quantity, report.average_price, report.client_order_id) == (OrderStatus.FILLED, 10, expected, "TK-1")


def test_paper_stop_triggered_along_price_path_at_crossing_bar(tmp_path: Path, market: ReplayMarket) -> None:
    clock = SimClock(at(9, 17))
    paper = venue(tmp_path, market, clock)
    paper.submit_order(order("E", Side.BUY, 10))
    stop_id = paper.submit_order(order("S", Side.SELL, 10, order_type=OrderType.STOP_MARKET, stop_price=D("98.50")))
    assert {r.broker_order_id: r.status for r in paper.order_reports()}[stop_id] is OrderStatus.ACCEPTED
    clock.set(at(9, 30))  # one visit long after the crossing
    [report] = [r for r in paper.order_reports() if r.broker_order_id == stop_id]
    assert report.status is OrderStatus.FILLED
    [fill] = [f for f in paper.fill_reports() if f.broker_order_id == stop_id]
    assert fill.ts == at(9, 19)  # the bar that traded through 98.50, not the visit time
    assert fill.price == D("98.50")  # it opened above the stop: filled at the stop
    assert paper.position_reports() == []


def test_paper_stop_gapped_through_fills_at_open(tmp_path: Path, market: ReplayMarket) -> None:
    clock = SimClock(at(9, 20))  # last close 96.50
    paper = venue(tmp_path, market, clock)
    paper.submit_order(order("E", Side.BUY, 10))
    stop_id = paper.submit_order(order("S", Side.SELL, 10, order_type=OrderType.STOP_MARKET, stop_price=D("96.00")))
    clock.set(at(9, 22))
    [fill] = [f for f in paper.fill_reports() if f.broker_order_id == stop_id]
    assert (fill.ts, fill.price) == (at(9, 21), D("94.00"))  # gapped below 96: the bar's open


def test_paper_buy_limit_fills_when_path_crosses(tmp_path: Path, market: ReplayMarket) -> None:
    clock = SimClock(at(9, 18))
    paper = venue(tmp_path, market, clock)
    limit_id = paper.submit_order(order("L", Side.BUY, 10, order_type=OrderType.LIMIT, limit_price=D("97.00")))
    clock.set(at(9, 25))
    [fill] = [f for f in paper.fill_reports() if f.broker_order_id == limit_id]
    assert (fill.ts, fill.price) == (at(9, 20), D("97.00"))


def test_paper_quantity_not_multiple_of_lot_rejected_naming_lot_size(tmp_path: Path, market: ReplayMarket) -> None:
    paper = venue(tmp_path, market, SimClock(at(9, 17)))
    with pytest.raises(OrderRejected, match="not a multiple of lot size 75"):
        paper.submit_order(order("TK-L", Side.BUY, 50, instrument=OPTION_LOT))
    [report] = paper.order_reports()
    assert (report.status, report.client_order_id) == (OrderStatus.REJECTED, "TK-L")
    assert "lot size 75" in report.status_reason
    assert paper.submit_order(order("TK-L2", Side.BUY, 150, instrument=OPTION_LOT))  # two lots are fine


def test_paper_insufficient_funds_rejected_cash_unchanged(tmp_path: Path, market: ReplayMarket) -> None:
    paper = venue(tmp_path, market, SimClock(at(9, 17)), capital=D("1000"))
    with pytest.raises(OrderRejected, match="insufficient funds: need 1010.00, cash 1000.00"):
        paper.submit_order(order("TK-F", Side.BUY, 10))  # 10 x 101.00
    assert paper.account_report().cash == D("1000")
    assert paper.fill_reports() == [] and paper.position_reports() == []
    assert paper.order_reports()[0].status is OrderStatus.REJECTED


def test_paper_price_off_tick_rejected(tmp_path: Path, market: ReplayMarket) -> None:
    paper = venue(tmp_path, market, SimClock(at(9, 17)))
    with pytest.raises(OrderRejected, match="100.03 is not a multiple of tick 0.05"):
        paper.submit_order(order("TK-T", Side.BUY, 10, order_type=OrderType.LIMIT, limit_price=D("100.03")))


def test_paper_duplicate_client_tag_rejected(tmp_path: Path, market: ReplayMarket) -> None:
    paper = venue(tmp_path, market, SimClock(at(9, 17)))
    paper.submit_order(order("TK-D", Side.BUY, 1))
    with pytest.raises(OrderRejected, match="duplicate client tag TK-D"):
        paper.submit_order(order("TK-D", Side.BUY, 1))
    assert len(paper.fill_reports()) == 1


def test_paper_manual_order_without_tag_reported_with_client_id_none(tmp_path: Path, market: ReplayMarket) -> None:
    paper = venue(tmp_path, market, SimClock(at(9, 17)))
    broker_id = paper.place_manual(TESTCO, Side.BUY, 5)
    [report] = paper.order_reports()
    assert (report.broker_order_id, report.client_order_id, report.status) == (broker_id, None, OrderStatus.FILLED)
    [fill] = paper.fill_reports()
    assert fill.client_order_id is None and fill.broker_order_id == broker_id


def test_paper_state_persists_across_new_instance(tmp_path: Path, market: ReplayMarket) -> None:
    clock = SimClock(at(9, 17))
    first = venue(tmp_path, market, clock)
    first.submit_order(order("E", Side.BUY, 10))
    stop_id = first.submit_order(order("S", Side.SELL, 10, order_type=OrderType.STOP_MARKET, stop_price=D("98.50")))
    cash = first.account_report().cash
    assert cash == D("100000") - D("1010")
    # a new process (a restart) on the same account file, later in the day
    later = SimClock(at(9, 30))
    second = venue(tmp_path, market, later)
    reports = {r.broker_order_id: r for r in second.order_reports()}
    assert reports[stop_id].status is OrderStatus.FILLED  # the stop kept working while "down"
    assert [f.client_order_id for f in second.fill_reports()] == ["E", "S"]
    assert second.account_report().cash == cash + D("985")  # sold 10 at 98.50
    assert second.position_reports() == []
    again = venue(tmp_path, market, SimClock(at(9, 30)))
    assert again.order_reports() == second.order_reports()


def test_paper_fill_costs_charged_to_cash(tmp_path: Path, market: ReplayMarket) -> None:
    paper = venue(tmp_path, market, SimClock(at(9, 17)), costs=PRESETS["india_fo"])
    paper.submit_order(order("TK-C", Side.BUY, 75, instrument=OPTION_LOT))
    [fill] = paper.fill_reports()
    assert fill.costs == PRESETS["india_fo"].costs(Side.BUY, 75, D("101.00"))
    assert paper.account_report().cash == D("100000") - D("7575") - fill.costs
    [position] = paper.position_reports()
    assert (position.instrument_id, position.quantity, position.average_price) == (OPTION_LOT, 75, D("101.00"))


def test_costs_india_fo_hand_computed() -> None:
    model = PRESETS["india_fo"]
    # buy 75 @ 100: turnover 7500; brokerage 20; exchange 7500 * 0.03503% = 2.62725; SEBI 7500 * 10 / 1e7 = 0.0075;
    # stamp 7500 * 0.003% = 0.225; GST 18% of (20 + 2.62725 + 0.0075) = 4.074255 -> 26.934005
    assert model.costs(Side.BUY, 75, D("100")) == D("26.93")
    # sell 75 @ 120: turnover 9000; STT 0.1% = 9; exchange 3.1527; SEBI 0.009; GST 18% of 23.1617 = 4.169106 -> 36.330806
    assert model.costs(Side.SELL, 75, D("120")) == D("36.33")


@pytest.mark.parametrize(
    ("quantity", "price", "expected"),
    [(100, "50", "1.00"),  # 0.005 x 100 = 0.50, raised to the 1.00 minimum
     (1000, "50", "5.00"),  # 0.005 x 1000
     (300, "10", "1.50"),
     (10, "0.50", "0.05")],  # minimum 1.00 capped at 1% of the 5.00 turnover
)  # fmt: skip
def test_costs_us_equity_hand_computed(quantity: int, price: str, expected: str) -> None:
    model = PRESETS["us_equity"]
    assert model.costs(Side.BUY, quantity, D(price)) == D(expected)
    assert model.costs(Side.SELL, quantity, D(price)) == D(expected)  # no sell-side tax


def test_costs_preset_override_and_unknown_key() -> None:
    # without brokerage: 2.62725 + 0.0075 + 0.225 + GST 18% of 2.63475 (0.474255) = 3.334005
    assert cost_model({"preset": "india_fo", "brokerage_per_order": "0"}).costs(Side.BUY, 75, D("100")) == D("3.33")
    from tradekit.errors import ConfigError

    with pytest.raises(ConfigError, match="paper.costs.brokerage: unknown key"):
        cost_model({"preset": "india_fo", "brokerage": 1})
    with pytest.raises(ConfigError, match="unknown preset 'zero'"):
        cost_model("zero")
