from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import numpy as np
import pytest
from tradekit.model import InstrumentKind, OptionRight, OrderStatus, OrderType, Side

from tradekit_zerodha.parsing import (
    IST,
    kite_instrument,
    parse_instrument,
    parse_option_symbol,
    parse_order,
    parse_order_status,
    parse_position,
    parse_quote,
    parse_timestamp,
)


def test_parse_instrument_id_splits_exchange_prefix() -> None:
    assert kite_instrument("NFO:NIFTY25O0725150CE") == ("NFO", "NIFTY25O0725150CE")
    with pytest.raises(ValueError):
        kite_instrument("NIFTY25O0725150CE")


def test_parse_option_symbol_weekly_and_monthly_forms() -> None:
    weekly = parse_option_symbol("NIFTY25O0725150CE")
    assert weekly is not None
    assert (weekly.underlying, weekly.year, weekly.month, weekly.day) == ("NIFTY", 2025, 10, 7)
    assert weekly.strike == Decimal(25150) and weekly.right is OptionRight.CALL
    monthly = parse_option_symbol("BANKNIFTY25OCT56000PE")
    assert monthly is not None and monthly.day is None and monthly.month == 10
    assert monthly.right is OptionRight.PUT and monthly.underlying == "BANKNIFTY"
    assert parse_option_symbol("INFY") is None


@pytest.mark.parametrize(
    ("kite", "filled", "expected"),
    [
        ("COMPLETE", 75, OrderStatus.FILLED),
        ("OPEN", 0, OrderStatus.ACCEPTED),
        ("OPEN", 75, OrderStatus.PARTIALLY_FILLED),
        ("TRIGGER PENDING", 0, OrderStatus.ACCEPTED),
        ("CANCELLED", 0, OrderStatus.CANCELLED),
        ("REJECTED", 0, OrderStatus.REJECTED),
        ("VALIDATION PENDING", 0, OrderStatus.SUBMITTED),
        ("CANCEL PENDING", 0, OrderStatus.PENDING_CANCEL),
        ("complete", 75, OrderStatus.FILLED),
        ("SOMETHING NEW", 0, OrderStatus.SUBMITTED),
    ],
)
def test_parse_order_status_maps_kite_strings(kite: str, filled: int, expected: OrderStatus) -> None:
    assert parse_order_status(kite, filled) is expected


def test_parse_order_with_numpy_and_string_numbers() -> None:
    report = parse_order({
        "order_id": "251006000000000001", "tag": "tk0001", "exchange": "NFO", "tradingsymbol": "NIFTY25O0725150PE",
        "transaction_type": "SELL", "quantity": np.int64(150), "filled_quantity": "75", "status": "OPEN",
        "order_type": "SL", "price": "95.5", "trigger_price": np.float64(100.0), "average_price": 101.25,
        "order_timestamp": datetime(2025, 10, 6, 10, 1, 2),
    })
    assert report.instrument_id == "NFO:NIFTY25O0725150PE"
    assert report.side is Side.SELL and report.quantity == 150 and report.filled_quantity == 75
    assert report.status is OrderStatus.PARTIALLY_FILLED and report.order_type is OrderType.STOP_LIMIT
    assert report.limit_price == Decimal("95.5") and report.stop_price == Decimal("100.0")
    assert report.average_price == Decimal("101.25")
    assert report.ts == datetime(2025, 10, 6, 10, 1, 2, tzinfo=IST)
    assert report.client_order_id == "tk0001"


def test_parse_position_signed_quantity_and_decimal() -> None:
    position = parse_position({"exchange": "NFO", "tradingsymbol": "NIFTY25O0725000CE", "quantity": np.int32(-75),
                               "average_price": np.float64(120.35), "last_price": 0})
    assert position.quantity == -75 and position.average_price == Decimal("120.35")
    assert position.last_price is None
    with pytest.raises(ValueError, match="average_price"):
        parse_position({"exchange": "NFO", "tradingsymbol": "X", "quantity": 75, "average_price": float("nan")})


def test_parse_timestamp_is_timezone_aware_india_time() -> None:
    assert parse_timestamp("2025-10-06 09:15:00") == datetime(2025, 10, 6, 9, 15, tzinfo=IST)
    assert parse_timestamp("2025-10-06T09:15:00+0530").utcoffset().total_seconds() == 19800  # type: ignore[union-attr]
    assert parse_timestamp(None) is None


def test_parse_quote_rejects_bad_prices() -> None:
    base = {"timestamp": datetime(2025, 10, 6, 10, 0), "volume": 10, "oi": 20}
    assert parse_quote("NFO:X", {**base, "last_price": float("nan")}) is None
    assert parse_quote("NFO:X", {**base, "last_price": 0}) is None
    assert parse_quote("NFO:X", {**base, "last_price": -3}) is None
    quote = parse_quote("NFO:X", {**base, "last_price": np.float64(12.5)})
    assert quote is not None and quote.last == 12.5 and quote.oi == 20 and quote.ts.tzinfo is not None
    untimed = {"last_price": 12.5}  # an index quote from a terse server: no time, volume or OI
    assert parse_quote("NSE:NIFTY 50", untimed) is None
    asked = datetime(2025, 10, 6, 10, 0, 5, tzinfo=IST)
    stamped = parse_quote("NSE:NIFTY 50", untimed, asked)
    assert stamped is not None and stamped.ts == asked and stamped.volume == 0 and stamped.oi == 0


def test_parse_instrument_rows() -> None:
    option = parse_instrument({"tradingsymbol": "NIFTY25O0725150CE", "exchange": "NFO", "name": "NIFTY",
                               "instrument_type": "CE", "segment": "NFO-OPT", "expiry": date(2025, 10, 7),
                               "strike": 25150.0, "tick_size": 0.05, "lot_size": 75})
    assert option.kind is InstrumentKind.OPTION and option.right is OptionRight.CALL
    assert option.strike == Decimal(25150) and option.lot_size == 75 and option.tick_size == Decimal("0.05")
    index = parse_instrument({"tradingsymbol": "NIFTY 50", "exchange": "NSE", "name": "NIFTY 50",
                              "instrument_type": "EQ", "segment": "INDICES", "expiry": "", "strike": 0,
                              "tick_size": 0, "lot_size": 0})
    assert index.kind is InstrumentKind.INDEX and index.id == "NSE:NIFTY 50"
