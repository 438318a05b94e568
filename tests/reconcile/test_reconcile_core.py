"""The pure reconcile core: book + broker reports -> classified differences and corrective events."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from tradekit.engine.reconcile import (
    BrokerView,
    Kind,
    SegmentFilter,
    adopt_events,
    classify_symbol,
    normalise_instrument,
    reconcile,
    resolve_instrument,
)
from tradekit.errors import ConfigError
from tradekit.model.book import Book
from tradekit.model.events import (
    DayOpened,
    FillRecorded,
    OrderAccepted,
    OrderCancelled,
    OrderSubmitted,
    PositionAdjusted,
    ReconcileAudit,
)
from tradekit.model.fills import Fill
from tradekit.model.orders import Order, OrderStatus, OrderType, Side
from tradekit.model.reports import OrderReport, PositionReport

IST = ZoneInfo("Asia/Kolkata")
T0 = datetime(2025, 10, 6, 10, 0, tzinfo=IST)
ACCOUNT = "zerodha:AB1234"
HELD = "NFO:NIFTY25O0725000CE"
CLOSED = "NFO:NIFTY25O0725000PE"
OVERNIGHT = "NFO:NIFTY25O0725200PE"
BOUGHT = "NFO:NIFTY25O1424800CE"
D = Decimal


def fill(fill_id: str, instrument: str, side: Side, quantity: int, price: str, at: datetime, tag: str | None = None) -> Fill:
    return Fill(fill_id=fill_id, account=ACCOUNT, instrument_id=instrument, side=side, quantity=quantity, price=D(price),
                ts=at, client_order_id=tag, broker_order_id=f"B{fill_id}")


def book_with(*fills: Fill, cash: str = "500000") -> Book:
    book = Book()
    book.apply(DayOpened(ts=T0, account=ACCOUNT, day=T0.date(), cash=D(cash)))
    for item in fills:
        book.apply(FillRecorded(ts=item.ts, account=ACCOUNT, fill=item, strategy="oi-momentum"))
    book.take_dirty()
    return book


def apply_all(book: Book, events: list) -> Book:
    for event in events:
        book.apply(event)
    return book


def test_reconcile_sync_story_two_added_one_removed_one_reduced() -> None:
    book = book_with(fill("F1", HELD, Side.BUY, 525, "100", T0), fill("F2", CLOSED, Side.BUY, 75, "80", T0))
    view = BrokerView(positions=[
        PositionReport(HELD, 300, D("100")),
        PositionReport(OVERNIGHT, 150, D("88.4")),
        PositionReport(BOUGHT, 75, D("120.5")),
    ])
    result = reconcile(book, ACCOUNT, view, now=T0 + timedelta(hours=1), broker="zerodha", source="sync")

    assert result.summary() == {"added": [OVERNIGHT, BOUGHT] if OVERNIGHT < BOUGHT else [BOUGHT, OVERNIGHT],
                                "removed": [CLOSED], "updated": [HELD], "unchanged": []}
    assert {d.instrument_id: d.kind for d in result.differences} == {
        HELD: Kind.QUANTITY, CLOSED: Kind.CLOSED_OUTSIDE, OVERNIGHT: Kind.EXTERNAL, BOUGHT: Kind.EXTERNAL}
    assert not result.in_sync
    adjustments = {e.instrument_id: e for e in result.events if isinstance(e, PositionAdjusted)}
    assert adjustments[OVERNIGHT].strategy == "external" and adjustments[OVERNIGHT].external
    assert adjustments[HELD].quantity == 300 and adjustments[HELD].strategy == "oi-momentum"
    audits = [e for e in result.events if isinstance(e, ReconcileAudit)]
    assert {(a.kind, a.instrument_id) for a in audits} == {
        ("quantity", HELD), ("closed_outside", CLOSED), ("external", OVERNIGHT), ("external", BOUGHT)}
    assert next(a for a in audits if a.instrument_id == HELD).before == "525 @ 100"
    assert next(a for a in audits if a.instrument_id == HELD).after == "300 @ 100"

    apply_all(book, result.events)
    held = {p.instrument_id: (p.quantity, p.average_price, p.strategy, p.external) for p in book.open_positions(ACCOUNT)}
    flag = book_with(fill("F1", HELD, Side.BUY, 525, "100", T0)).position(ACCOUNT, HELD).external
    # an update keeps the position's owner and flags
    assert held == {HELD: (300, D("100"), "oi-momentum", flag), OVERNIGHT: (150, D("88.4"), "external", True),
                    BOUGHT: (75, D("120.5"), "external", True)}
    # external positions take cash (they are not free capital); the removed one is valued at its average
    assert book.cash[ACCOUNT] == D(500000) - 525 * 100 - 75 * 80 + 225 * 100 + 75 * 80 - D("150") * D("88.4") - 75 * D("120.5")
    again = reconcile(book, ACCOUNT, view, now=T0 + timedelta(hours=1))
    assert again.in_sync and sorted(again.summary()["unchanged"]) == sorted([HELD, OVERNIGHT, BOUGHT])


def test_reconcile_stop_filled_while_down_closes_trade_at_broker_price_and_time() -> None:
    entry = fill("F1", HELD, Side.BUY, 75, "100", T0, tag="TK1")
    book = book_with(entry)
    stop = Order(client_order_id="TK2", account=ACCOUNT, instrument_id=HELD, side=Side.SELL, quantity=75,
                 order_type=OrderType.STOP_MARKET, stop_price=D("90"), strategy="oi-momentum", reason="STOP")
    book.apply(OrderSubmitted(ts=T0, account=ACCOUNT, order=stop))
    book.apply(OrderAccepted(ts=T0, account=ACCOUNT, client_order_id="TK2", broker_order_id="BSTOP"))
    stopped_at = T0 + timedelta(minutes=17)
    stop_fill = Fill(fill_id="F9", account="elsewhere", instrument_id=HELD, side=Side.SELL, quantity=75, price=D("89.35"),
                     ts=stopped_at, client_order_id=None, broker_order_id="BSTOP")
    view = BrokerView(positions=[], orders=[OrderReport("BSTOP", "TK2", HELD, Side.SELL, 75, OrderStatus.FILLED,
                                                        OrderType.STOP_MARKET, 75, D("89.35"))], fills=[stop_fill])
    result = reconcile(book, ACCOUNT, view, now=T0 + timedelta(minutes=30))

    assert [d.kind for d in result.differences] == [Kind.MISSED_FILL, Kind.MATCHED]
    assert result.summary()["removed"] == [HELD]  # the book held it; the broker's fill closed it
    recorded = [e for e in result.events if isinstance(e, FillRecorded)]
    assert len(recorded) == 1 and recorded[0].inferred and recorded[0].fill.client_order_id == "TK2"
    assert recorded[0].fill.account == ACCOUNT
    apply_all(book, result.events)
    trades = book.take_dirty().trades
    assert len(trades) == 1
    assert (trades[0].exit_price, trades[0].exit_ts, trades[0].exit_reason) == (D("89.35"), stopped_at, "STOP")
    assert book.orders["TK2"].status is OrderStatus.FILLED
    assert reconcile(book, ACCOUNT, view, now=T0 + timedelta(minutes=30)).in_sync


def test_reconcile_fill_after_now_is_pending_and_counted_not_applied() -> None:
    book = book_with(fill("F1", HELD, Side.BUY, 75, "100", T0))
    later = fill("F2", HELD, Side.SELL, 75, "104", T0 + timedelta(minutes=20))
    result = reconcile(book, ACCOUNT, BrokerView(positions=[], fills=[later]), now=T0 + timedelta(minutes=10))
    assert result.in_sync and result.events == []
    assert [f.fill_id for f in result.pending_fills] == ["F2"]


def test_reconcile_quantity_mismatch_with_pending_fill_targets_the_remainder() -> None:
    book = book_with(fill("F1", HELD, Side.BUY, 150, "100", T0))
    later = fill("F2", HELD, Side.SELL, 75, "104", T0 + timedelta(minutes=20))
    result = reconcile(book, ACCOUNT, BrokerView(positions=[], fills=[later]), now=T0 + timedelta(minutes=10))
    adjusted = [e for e in result.events if isinstance(e, PositionAdjusted)]
    assert [(e.instrument_id, e.quantity) for e in adjusted] == [(HELD, 75)]  # + the pending sell of 75 = flat


def test_reconcile_average_price_mismatch_is_updated_without_touching_cash() -> None:
    book = book_with(fill("F1", HELD, Side.BUY, 75, "100", T0))
    cash = book.cash[ACCOUNT]
    result = reconcile(book, ACCOUNT, BrokerView(positions=[PositionReport(HELD, 75, D("101.25"))]), now=T0)
    assert [d.kind for d in result.differences] == [Kind.AVERAGE_PRICE]
    assert result.summary()["updated"] == [HELD]
    apply_all(book, result.events)
    assert book.position(ACCOUNT, HELD).average_price == D("101.25") and book.cash[ACCOUNT] == cash
    within = reconcile(book, ACCOUNT, BrokerView(positions=[PositionReport(HELD, 75, D("101.255"))]), now=T0)
    assert within.in_sync


def test_reconcile_orders_vanished_found_unsent_and_unknown() -> None:
    book = book_with()
    orders = {
        "TKW": Order(client_order_id="TKW", account=ACCOUNT, instrument_id=HELD, side=Side.SELL, quantity=75,
                     order_type=OrderType.STOP_MARKET, stop_price=D("90")),
        "TKS": Order(client_order_id="TKS", account=ACCOUNT, instrument_id=HELD, side=Side.BUY, quantity=75),
        "TKU": Order(client_order_id="TKU", account=ACCOUNT, instrument_id=HELD, side=Side.BUY, quantity=75),
    }
    for order in orders.values():
        book.apply(OrderSubmitted(ts=T0, account=ACCOUNT, order=order))
    book.apply(OrderAccepted(ts=T0, account=ACCOUNT, client_order_id="TKW", broker_order_id="B1"))
    view = BrokerView(positions=[], orders=[
        OrderReport("B1", "TKW", HELD, Side.SELL, 75, OrderStatus.CANCELLED, OrderType.STOP_MARKET),
        OrderReport("B2", "TKS", HELD, Side.BUY, 75, OrderStatus.ACCEPTED, OrderType.LIMIT),
        OrderReport("B3", None, "nfo:nifty25o0725200pe", Side.SELL, 75, OrderStatus.ACCEPTED, OrderType.STOP_MARKET),
    ])
    result = reconcile(book, ACCOUNT, view, now=T0)
    kinds = {(d.kind, d.order_id) for d in result.differences}
    assert kinds == {(Kind.VANISHED_ORDER, "TKW"), (Kind.FOUND_ORDER, "TKS"), (Kind.UNSENT_ORDER, "TKU"),
                     (Kind.UNKNOWN_ORDER, "B3")}
    assert next(d for d in result.differences if d.kind is Kind.UNKNOWN_ORDER).instrument_id == OVERNIGHT
    apply_all(book, result.events)
    assert book.orders["TKW"].status is OrderStatus.CANCELLED
    assert book.orders["TKS"].broker_order_id == "B2" and book.orders["TKU"].status is OrderStatus.SUBMITTED
    assert not any(isinstance(e, OrderCancelled) and e.client_order_id == "TKU" for e in result.events)


def test_segment_filter_keeps_configured_underlyings_and_other_exchanges() -> None:
    segments = SegmentFilter()
    assert segments.keeps("NFO:BANKNIFTY25OCT56000CE") and segments.keeps("NFO:NIFTY25OCTFUT")
    assert segments.keeps("NFO:MIDCPNIFTY25O0712000PE") and segments.keeps("SMART:TSLA")
    assert not segments.keeps("NSE:RELIANCE") and not segments.keeps("NFO:RELIANCE25OCT1400CE")
    only_futures = SegmentFilter.from_config({"underlyings": "NIFTY", "kinds": ["FUTURE"]})
    assert only_futures.keeps("NFO:NIFTY25OCTFUT") and not only_futures.keeps("NFO:NIFTY25O0725000CE")
    with pytest.raises(ConfigError, match="sync.kinds"):
        SegmentFilter.from_config({"kinds": ["SWAPS"]})

    book = book_with(fill("F1", "NSE:RELIANCE", Side.BUY, 10, "1400", T0))  # held by tradekit: compared anyway
    view = BrokerView(positions=[PositionReport("NSE:RELIANCE", 10, D("1400")), PositionReport("NSE:INFY", 5, D("1500"))])
    result = reconcile(book, ACCOUNT, view, now=T0)
    assert result.in_sync and result.ignored == ["NSE:INFY"] and result.summary()["unchanged"] == ["NSE:RELIANCE"]


def test_symbols_normalised_at_the_broker_edge() -> None:
    assert normalise_instrument("NFO:NIFTY25O0725150CE") == ("NFO", "NIFTY25O0725150CE")
    assert normalise_instrument(" nfo:nifty25o0725150ce ") == ("NFO", "NIFTY25O0725150CE")
    assert normalise_instrument("NIFTY25O0725150CE") == ("NFO", "NIFTY25O0725150CE")
    assert normalise_instrument("TSLA", "SMART") == ("SMART", "TSLA")
    assert classify_symbol("NIFTY25OCT25150CE") == ("OPTION", "NIFTY")
    with pytest.raises(ConfigError, match="TSLA"):
        normalise_instrument("TSLA")
    book = book_with(fill("F1", "NFO:NIFTY25O0725150CE", Side.BUY, 75, "10", T0))
    lowercase = BrokerView(positions=[PositionReport("nfo:NIFTY25O0725150CE", 75, D("10"))])
    result = reconcile(book, ACCOUNT, lowercase, now=T0)
    assert result.in_sync
    row = result.differences[0].to_dict()
    assert (row["exchange"], row["symbol"], row["instrument_id"]) == ("NFO", "NIFTY25O0725150CE", "NFO:NIFTY25O0725150CE")
    assert resolve_instrument(book, ACCOUNT, "nifty25o0725150ce") == "NFO:NIFTY25O0725150CE"


def test_adopt_hands_external_position_to_strategy() -> None:
    book = book_with()
    book.apply(FillRecorded(ts=T0, account=ACCOUNT, fill=fill("F1", OVERNIGHT, Side.BUY, 75, "50", T0), strategy="external",
                            inferred=True))
    events = adopt_events(book, ACCOUNT, OVERNIGHT, "oi-momentum", T0)
    apply_all(book, events)
    position = book.position(ACCOUNT, OVERNIGHT)
    assert (position.strategy, position.quantity, position.external) == ("oi-momentum", 75, True)
    assert book.open_trades[(ACCOUNT, OVERNIGHT)].strategy == "oi-momentum"
    with pytest.raises(ConfigError, match="already belongs"):
        adopt_events(book, ACCOUNT, OVERNIGHT, "oi-momentum", T0)
    with pytest.raises(ConfigError, match="no open position"):
        adopt_events(book, ACCOUNT, HELD, "oi-momentum", T0)


def test_store_from_before_the_audit_view_is_migrated_and_lists_audit_rows(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import duckdb

    from tradekit.services.doctor import check
    from tradekit.store import DuckDBStore

    path = tmp_path / "tradekit.duckdb"
    DuckDBStore(path).close()
    connection = duckdb.connect(str(path))  # as the previous release left it
    connection.execute("DROP VIEW reconcile_audit")
    connection.execute("DELETE FROM schema_migrations WHERE name = 'm003_reconcile_audit'")
    connection.close()
    book = book_with(fill("F1", HELD, Side.BUY, 75, "100", T0))
    result = reconcile(book, ACCOUNT, BrokerView(positions=[PositionReport(HELD, 150, D("100"))]), now=T0, source="sync",
                       broker="zerodha")
    with DuckDBStore(path) as store:
        assert "m003_reconcile_audit" in store.migrations()  # re-applied (m004 and later were already there)
        fresh = store.load_book()
        for event in result.events:
            fresh.apply(event)
        store.commit(result.events, fresh)
    with DuckDBStore(path, readonly=True) as store:
        assert store.query("SELECT source, broker, kind, instrument_id, before, after FROM reconcile_audit") == [
            ("sync", "zerodha", "quantity", HELD, "75 @ 100", "150 @ 100")]
        assert check(store).clean
