"""The sync story of the requirements, at the level of ``position_reports()``.

tradekit holds 525 of one option and 75 of another; by hand in the Kite app
the user closes the second, reduces the first to 300, and two positions
tradekit never saw appear (one carried overnight, one bought today). The
reports must show exactly that, so ``tradekit sync`` can add two, remove
one and update one.
"""

from __future__ import annotations

from decimal import Decimal

from tradekit.model import Order, PositionReport, Side

from tradekit_zerodha.fake import FakeKite
from tradekit_zerodha.parsing import open_lot_average

HELD = "NIFTY25O0725000CE"
CLOSED = "NIFTY25O0725000PE"
OVERNIGHT = "NIFTY25O0725200PE"
BOUGHT = "NIFTY25O1424800CE"


def diff(known: dict[str, int], reports: list[PositionReport]) -> dict[str, object]:
    """What a sync would do; the core's reconcile is the real one."""
    broker = {r.instrument_id: r.quantity for r in reports}
    return {
        "added": sorted(set(broker) - set(known)),
        "removed": sorted(set(known) - set(broker)),
        "updated": {i: (known[i], broker[i]) for i in sorted(set(known) & set(broker)) if known[i] != broker[i]},
    }


def test_sync_story_two_added_one_removed_one_reduced(broker, fake: FakeKite) -> None:
    for client_id, symbol, quantity in (("tkheld", HELD, 525), ("tkclosed", CLOSED, 75)):
        broker.submit_order(Order(client_order_id=client_id, account=broker.account, instrument_id=f"NFO:{symbol}",
                                  side=Side.BUY, quantity=quantity))
    known = {r.instrument_id: r.quantity for r in broker.position_reports()}
    assert known == {f"NFO:{HELD}": 525, f"NFO:{CLOSED}": 75}

    fake.app.square_off(CLOSED, product="MIS")
    fake.app.reduce_to(HELD, 300, product="MIS")
    fake.app.hold_overnight(OVERNIGHT, 150, 88.4)
    fake.app.trade(BOUGHT, "BUY", 75)

    reports = broker.position_reports()
    assert diff(known, reports) == {
        "added": sorted([f"NFO:{BOUGHT}", f"NFO:{OVERNIGHT}"]),
        "removed": [f"NFO:{CLOSED}"],
        "updated": {f"NFO:{HELD}": (525, 300)},
    }
    by_id = {r.instrument_id: r for r in reports}
    assert by_id[f"NFO:{OVERNIGHT}"].average_price == Decimal("88.4")  # overnight: in net, not in day
    assert all(r.quantity != 0 for r in reports)  # closed rows (quantity 0 in net) are not positions
    # the closed position is still in Kite's net list, with quantity 0
    assert any(row["tradingsymbol"] == CLOSED and row["quantity"] == 0 for row in fake.book.positions()["net"])
    assert all(row["tradingsymbol"] != OVERNIGHT for row in fake.book.positions()["day"])


def test_position_filter_keeps_configured_underlyings(make_broker, fake: FakeKite) -> None:
    fake.app.hold_overnight(OVERNIGHT, -75, 50.0)
    assert [r.quantity for r in make_broker().position_reports()] == [-75]
    assert make_broker(underlyings="BANKNIFTY").position_reports() == []
    assert len(make_broker(underlyings="").position_reports()) == 1


def test_position_reopened_today_is_priced_at_its_open_lots_not_kites_day_blend(broker, fake: FakeKite, clock) -> None:
    fake.app.trade(HELD, "BUY", 75, product="MIS")
    clock.advance(1800)
    fake.app.trade(HELD, "SELL", 75, product="MIS")
    clock.advance(1800)
    fake.app.trade(HELD, "BUY", 150, product="MIS")
    buy_prices = [t["average_price"] for t in fake.book.trades if t["transaction_type"] == "BUY"]
    assert buy_prices[0] != buy_prices[1]  # the market moved: the blend differs from the open lot's price
    kite_row = next(r for r in fake.book.positions()["net"] if r["tradingsymbol"] == HELD)
    (report,) = [r for r in broker.position_reports() if r.instrument_id == f"NFO:{HELD}"]
    assert report.quantity == 150
    assert report.average_price == Decimal(str(buy_prices[1]))
    assert report.average_price != Decimal(str(kite_row["average_price"]))  # Kite blends all of today's buys


def test_open_lot_average_is_fifo_over_the_days_trades() -> None:
    rows = [  # bought 100 @ 10, sold 150 @ 12 (now short 50), bought 20 @ 11: short 30 opened at 12
        {"trade_id": "1", "fill_timestamp": "2025-10-06 09:20:00", "transaction_type": "BUY", "quantity": 100, "average_price": 10},
        {"trade_id": "2", "fill_timestamp": "2025-10-06 09:30:00", "transaction_type": "SELL", "quantity": 150, "average_price": 12},
        {"trade_id": "3", "fill_timestamp": "2025-10-06 09:40:00", "transaction_type": "BUY", "quantity": 20, "average_price": 11},
    ]
    assert open_lot_average(rows) == (-30, Decimal(12))
    assert open_lot_average(rows[:1] + [{**rows[1], "quantity": 100}]) is None
