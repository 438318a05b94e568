"""Position accounting: a position is built only by applying fills, and money is conserved."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tradekit.model.book import Book
from tradekit.model.events import DayOpened, FillRecorded
from tradekit.model.fills import Fill
from tradekit.model.orders import Side
from tradekit.model.positions import PRICE_QUANTUM, Position

ACCOUNT = "paper:test"
INSTRUMENT = "NSE:TESTCO"
START_CASH = Decimal("1000000")
T0 = datetime(2025, 12, 9, 3, 45, tzinfo=UTC)
D = Decimal


def _fill(number: int, side: Side, quantity: int, price: str | Decimal, costs: str | Decimal = "0",
          instrument: str = INSTRUMENT) -> Fill:  # fmt: skip
    return Fill(
        fill_id=f"F{number}", account=ACCOUNT, instrument_id=instrument, side=side, quantity=quantity,
        price=D(price), ts=T0 + timedelta(minutes=number), costs=D(costs),
    )  # fmt: skip


fills_strategy = st.lists(
    st.tuples(
        st.sampled_from([Side.BUY, Side.SELL]),
        st.integers(min_value=1, max_value=400),
        st.integers(min_value=1, max_value=40_000).map(lambda ticks: D(ticks) * D("0.05")),  # on a 0.05 tick
        st.integers(min_value=0, max_value=5_000).map(lambda paise: D(paise) / 100),
        st.sampled_from([INSTRUMENT, "NFO:NIFTY25D0925900PE"]),
    ),
    min_size=1,
    max_size=40,
).map(lambda items: [_fill(i, side, q, p, c, iid) for i, (side, q, p, c, iid) in enumerate(items)])


def _replay(fills: list[Fill]) -> dict[str, Position]:
    positions: dict[str, Position] = {}
    for fill in fills:
        position = positions.get(fill.instrument_id) or Position(account=ACCOUNT, instrument_id=fill.instrument_id)
        positions[fill.instrument_id], _ = position.apply(fill)
    return positions


@settings(max_examples=150, deadline=None)
@given(fills_strategy)
def test_position_any_fill_sequence_conserves_money_net_of_costs(fills: list[Fill]) -> None:
    positions = _replay(fills)
    cash = START_CASH - sum((f.side.sign * f.notional for f in fills), D(0)) - sum((f.costs for f in fills), D(0))
    last_price = {f.instrument_id: f.price for f in fills}
    value = sum((p.market_value(last_price[iid]) for iid, p in positions.items()), D(0))
    pnl = sum((p.realized_pnl + p.unrealized_pnl(last_price[iid]) - p.costs for iid, p in positions.items()), D(0))
    # averages are kept to 8 places: each re-averaging may shift the cost basis by half a quantum per unit held
    tolerance = PRICE_QUANTUM * sum(f.quantity for f in fills) * len(fills)
    assert abs((cash + value) - (START_CASH + pnl)) <= tolerance
    for iid, position in positions.items():
        assert position.quantity == sum(f.signed_quantity for f in fills if f.instrument_id == iid)
        assert position.costs == sum((f.costs for f in fills if f.instrument_id == iid), D(0))
        if position.quantity == 0:
            assert position.average_price == 0 and position.opened_at is None


@settings(max_examples=150, deadline=None)
@given(fills_strategy)
def test_book_apply_fill_recorded_matches_position_apply(fills: list[Fill]) -> None:
    book = Book()
    book.apply(DayOpened(ts=T0, account=ACCOUNT, day=date(2025, 12, 9), cash=START_CASH, source="capital"))
    trades = []
    for fill in fills:
        book.apply(FillRecorded(ts=fill.ts, account=ACCOUNT, fill=fill, strategy="s"))
        trades.extend(book.take_dirty().trades)
    expected = _replay(fills)
    for iid, position in expected.items():
        held = book.positions[(ACCOUNT, iid)]
        assert (held.quantity, held.average_price, held.realized_pnl, held.costs, held.opened_at) == (
            position.quantity, position.average_price, position.realized_pnl, position.costs, position.opened_at,
        )  # fmt: skip
        # every realised rupee and every cost belongs to exactly one round trip (closed or still open)
        open_trade = book.open_trades.get((ACCOUNT, iid))
        closed = [t for t in trades if t.instrument_id == iid]
        assert sum((t.gross_pnl for t in closed), D(0)) + (open_trade.gross_pnl if open_trade else 0) == held.realized_pnl
        assert sum((t.costs for t in closed), D(0)) + (open_trade.costs if open_trade else 0) == held.costs
        assert (open_trade is None) == (held.quantity == 0)
    assert book.cash[ACCOUNT] == START_CASH - sum((f.side.sign * f.notional + f.costs for f in fills), D(0))


@given(fills_strategy)
def test_book_fill_reported_twice_applied_once(fills: list[Fill]) -> None:
    once, twice = Book(), Book()
    for fill in fills:
        event = FillRecorded(ts=fill.ts, account=ACCOUNT, fill=fill)
        once.apply(event)
        twice.apply(event)
        twice.apply(event)
    assert once.positions == twice.positions
    assert once.cash == twice.cash


def test_position_round_trips_realised_pnl_hand_computed() -> None:
    position = Position(account=ACCOUNT, instrument_id=INSTRUMENT)
    steps = [
        # side, qty, price -> expected (quantity, average, realised by this fill)
        (Side.BUY, 100, "10", (100, D("10"), D(0))),
        (Side.BUY, 100, "12", (200, D("11"), D(0))),  # (100*10 + 100*12) / 200
        (Side.SELL, 150, "13", (50, D("11"), D("300"))),  # (13 - 11) * 150
        (Side.SELL, 100, "9", (-50, D("9"), D("-100"))),  # closes 50: (9 - 11) * 50; 50 short opens at 9
        (Side.BUY, 20, "8", (-30, D("9"), D("20"))),  # short covers 20: (9 - 8) * 20
        (Side.SELL, 10, "7", (-40, D("8.5"), D(0))),  # adds to the short: (30*9 + 10*7) / 40
        (Side.BUY, 40, "10", (0, D(0), D("-60"))),  # (8.5 - 10) * 40
    ]
    total = D(0)
    for number, (side, quantity, price, (want_qty, want_avg, want_realised)) in enumerate(steps):
        position, realised = position.apply(_fill(number, side, quantity, price))
        total += realised
        assert (position.quantity, position.average_price, realised) == (want_qty, want_avg, want_realised), number
    assert position.realized_pnl == total == D("160")
    assert position.is_flat and position.side_label == "FLAT"


def test_position_average_after_adds_weighted_and_kept_to_eight_places() -> None:
    position = Position(account=ACCOUNT, instrument_id=INSTRUMENT)
    for number, (quantity, price) in enumerate([(3, "100"), (3, "101"), (1, "102.05")]):
        position, _ = position.apply(_fill(number, Side.BUY, quantity, price))
    # (300 + 303 + 102.05) / 7 = 100.72142857142...
    assert position.average_price == D("100.72142857")
    assert position.unrealized_pnl(D("101")) == (D("101") - D("100.72142857")) * 7


def test_position_crossing_zero_reopens_at_fill_price_and_time() -> None:
    position, _ = Position(account=ACCOUNT, instrument_id=INSTRUMENT).apply(_fill(0, Side.BUY, 10, "50"))
    crossed, realised = position.apply(_fill(5, Side.SELL, 30, "55"))
    assert realised == D("50")
    assert (crossed.quantity, crossed.average_price, crossed.side_label) == (-20, D("55"), "SHORT")
    assert crossed.opened_at == T0 + timedelta(minutes=5)


def test_position_fill_for_other_instrument_refused() -> None:
    position = Position(account=ACCOUNT, instrument_id=INSTRUMENT)
    with pytest.raises(ValueError, match="NSE:OTHER"):
        position.apply(_fill(0, Side.BUY, 1, "1", instrument="NSE:OTHER"))
