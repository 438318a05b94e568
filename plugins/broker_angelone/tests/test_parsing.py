from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from tradekit.errors import BrokerError
from tradekit.model import InstrumentKind, OptionRight, OrderStatus, OrderType, Side

from tradekit_angelone import parsing
from tradekit_angelone.tags import MAX_TAG_LENGTH, TagBook, tag_for

IST = ZoneInfo("Asia/Kolkata")


def test_parse_scrip_row_option_scales_paise_and_maps_pe_to_put() -> None:
    row = {
        "token": "46430", "symbol": "NIFTY21MAR2421500PE", "name": "NIFTY", "expiry": "21Mar2024",
        "strike": "2150000.000000", "lotsize": "50", "instrumenttype": "OPTIDX", "exch_seg": "NFO",
        "tick_size": "5.000000",
    }
    entry = parsing.parse_scrip_row(row)
    assert entry is not None
    instrument = entry.instrument
    assert instrument.id == "NFO:NIFTY21MAR2421500PE"
    assert (instrument.kind, instrument.right) == (InstrumentKind.OPTION, OptionRight.PUT)
    assert instrument.strike == Decimal("21500")
    assert instrument.tick_size == Decimal("0.05")
    assert instrument.lot_size == 50
    assert instrument.expiry == date(2024, 3, 21)
    assert (entry.token, entry.exchange) == ("46430", "NFO")


def test_parse_scrip_row_fractional_strike_and_index() -> None:
    option = parsing.parse_scrip_row(
        {"token": "1", "symbol": "USDINR24APR2483.25CE", "name": "USDINR", "expiry": "24APR2024",
         "strike": "8325.000000", "lotsize": "1", "instrumenttype": "OPTIDX", "exch_seg": "NFO", "tick_size": "0.250000"}
    )
    assert option is not None and option.instrument.strike == Decimal("83.25")
    assert option.instrument.right is OptionRight.CALL
    index = parsing.parse_scrip_row(
        {"token": "99926000", "symbol": "Nifty 50", "name": "NIFTY", "expiry": "", "strike": "-1.000000",
         "lotsize": "1", "instrumenttype": "AMXIDX", "exch_seg": "NSE", "tick_size": "-1.000000"}
    )
    assert index is not None and index.instrument.kind is InstrumentKind.INDEX
    assert index.instrument.tick_size == Decimal("0.05")  # no usable tick: the default


@pytest.mark.parametrize(
    ("status", "filled", "quantity", "expected"),
    [
        ("open", 0, 75, OrderStatus.ACCEPTED),
        ("open", 25, 75, OrderStatus.PARTIALLY_FILLED),
        ("trigger pending", 0, 75, OrderStatus.ACCEPTED),
        ("complete", 75, 75, OrderStatus.FILLED),
        ("cancelled", 25, 75, OrderStatus.CANCELLED),
        ("rejected", 0, 75, OrderStatus.REJECTED),
        ("Cancel Pending", 0, 75, OrderStatus.PENDING_CANCEL),
        ("validation pending", 0, 75, OrderStatus.SUBMITTED),
    ],
)
def test_parse_order_status_maps_lowercase_statuses(status: str, filled: int, quantity: int, expected: OrderStatus) -> None:
    assert parsing.parse_order_status(status, filled, quantity) is expected


def test_parse_order_status_unknown_names_itself() -> None:
    with pytest.raises(BrokerError, match="unknown order status 'teleported'"):
        parsing.parse_order_status("teleported", 0, 75)


def test_parse_order_row_string_numbers_and_stop_price() -> None:
    row = {
        "orderid": "201020000000080", "ordertag": "t1", "exchange": "NFO", "tradingsymbol": "NIFTY24NOV2624000CE",
        "transactiontype": "SELL", "ordertype": "STOPLOSS_MARKET", "quantity": "75", "filledshares": "0",
        "averageprice": 0.0, "price": "0", "triggerprice": "101.5", "status": "trigger pending",
        "updatetime": "20-Oct-2020 13:10:59", "text": "",
    }
    report = parsing.parse_order_row(row, "t1", IST)
    assert report.side is Side.SELL and report.order_type is OrderType.STOP_MARKET
    assert report.stop_price == Decimal("101.5") and report.limit_price is None
    assert report.quantity == 75 and report.average_price is None
    assert report.ts is not None and report.ts.tzinfo is not None and report.ts.hour == 13


def test_parse_position_row_uses_total_average_including_carry_forward() -> None:
    row = {
        "exchange": "NFO", "tradingsymbol": "NIFTY24NOV2624000PE", "netqty": "150", "buyqty": "75", "sellqty": "0",
        "buyavgprice": "110.00", "totalbuyavgprice": "105.00", "sellavgprice": "0.00", "avgnetprice": "105.00", "ltp": "112.35",
    }
    report = parsing.parse_position_row(row)
    assert report is not None
    assert (report.quantity, report.average_price, report.last_price) == (150, Decimal("105.00"), Decimal("112.35"))
    assert parsing.parse_position_row({**row, "netqty": "0"}) is None


def test_parse_quote_row_rejects_nan_zero_and_negative() -> None:
    base = {"ltp": 101.5, "exchFeedTime": "23-Nov-2026 09:20:00", "tradeVolume": 7500, "opnInterest": 150000}
    from datetime import datetime

    fallback = datetime(2026, 11, 23, 9, 20, tzinfo=IST)
    quote = parsing.parse_quote_row(base, "NFO:X", IST, fallback)
    assert quote is not None and quote.oi == 150000 and quote.last == 101.5
    for bad in (float("nan"), 0, -3, "abc", None):
        assert parsing.parse_quote_row({**base, "ltp": bad}, "NFO:X", IST, fallback) is None


def test_tags_long_client_ids_get_a_short_digest_that_maps_back(tmp_path: Path) -> None:
    long_id = "oi-momentum-20261123-0001-ENTRY"
    tag = tag_for(long_id)
    assert len(tag) <= MAX_TAG_LENGTH and tag != long_id
    assert tag_for("c-0001") == "c-0001"
    book = TagBook(tmp_path / "tags.json")
    assert book.remember(long_id) == tag
    reopened = TagBook(tmp_path / "tags.json")  # survives a restart
    assert reopened.client_order_id(tag) == long_id
    assert reopened.client_order_id("c-0001") == "c-0001"
    assert reopened.client_order_id("") is None


def test_check_envelope_reads_status_false_even_as_a_string() -> None:
    from tradekit.errors import AuthError, TemporaryBrokerError

    from tradekit_angelone.client import check_envelope

    assert check_envelope({"status": True, "message": "SUCCESS", "errorcode": "", "data": [1]}, "x") == [1]
    with pytest.raises(BrokerError, match=r"x failed: Login Id or password is invalid \(AB1007\)"):
        check_envelope({"status": "false", "message": "Login Id or password is invalid", "errorcode": "AB1007", "data": "null"}, "x")
    with pytest.raises(AuthError, match="token expired"):
        check_envelope({"status": False, "message": "Token Expired", "errorcode": "AG8002"}, "x")
    with pytest.raises(TemporaryBrokerError):
        check_envelope({"status": False, "message": "Access denied because of exceeding access rate", "errorcode": ""}, "x")
