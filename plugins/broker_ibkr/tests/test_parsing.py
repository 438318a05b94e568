"""IB objects (built with the real client library's own classes) -> tradekit reports."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from tradekit.model import Order, OrderStatus, OrderType, Side

from tradekit_ibkr import parsing

MOMENT = datetime(2025, 1, 2, 15, 0, tzinfo=UTC)


def _trade(lib: Any, status: str, *, filled: float = 0, error: int = 0, order_type: str = "STP") -> Any:
    order = lib.Order(action="SELL", totalQuantity=100, orderType=order_type, auxPrice=440.0, orderRef="tk-1", permId=42)
    log = [lib.TradeLogEntry(MOMENT, status, "Error" if error else "", error)]
    state = lib.OrderStatus(orderId=3, status=status, filled=filled, remaining=100 - filled,
                            avgFillPrice=440.0 if filled else 0.0)
    return lib.Trade(lib.Stock("TSLA", "SMART", "USD"), order, state, [], log)


@pytest.mark.parametrize(
    ("status", "filled", "error", "expected"),
    [("PendingSubmit", 0, 0, OrderStatus.SUBMITTED), ("PreSubmitted", 0, 0, OrderStatus.ACCEPTED),
     ("Submitted", 40, 0, OrderStatus.PARTIALLY_FILLED), ("Filled", 100, 0, OrderStatus.FILLED),
     ("PendingCancel", 0, 0, OrderStatus.PENDING_CANCEL), ("Cancelled", 0, 202, OrderStatus.CANCELLED),
     ("Cancelled", 0, 201, OrderStatus.REJECTED), ("Inactive", 0, 0, OrderStatus.REJECTED)],
)
def test_parsing_order_status_maps_ib_words(library: Any, status: str, filled: float, error: int, expected: OrderStatus) -> None:
    report = parsing.order_report(_trade(library, status, filled=filled, error=error))
    assert report.status is expected
    assert (report.broker_order_id, report.client_order_id, report.instrument_id) == ("42", "tk-1", "SMART:TSLA")
    assert report.filled_quantity == int(filled) and report.stop_price == Decimal("440") and report.limit_price is None
    assert report.order_type is OrderType.STOP_MARKET


def test_parsing_build_order_carries_the_client_tag(library: Any) -> None:
    order = Order(client_order_id="ps60-TSLA-stop-1", account="ibkr:DU1", instrument_id="SMART:TSLA", side=Side.SELL,
                  quantity=50, order_type=OrderType.STOP_LIMIT, stop_price=Decimal("440.10"), limit_price=Decimal("439.90"))
    ib_order = parsing.build_order(library, order, "DU1")
    assert (ib_order.action, ib_order.totalQuantity, ib_order.orderType) == ("SELL", 50.0, "STP LMT")
    assert (ib_order.auxPrice, ib_order.lmtPrice, ib_order.orderRef, ib_order.account) == (440.10, 439.90, "ps60-TSLA-stop-1", "DU1")


@pytest.mark.parametrize("value", [None, "", 0.0, -1.0, float("nan"), 1.7976931348623157e308])
def test_parsing_unset_prices_are_none(value: object) -> None:
    assert parsing.price_or_none(value) is None


def test_parsing_instrument_ids() -> None:
    assert parsing.symbol_of("NASDAQ:tsla") == "TSLA" and parsing.stock_id("TSLA") == "SMART:TSLA"
    with pytest.raises(ValueError, match="no symbol"):
        parsing.symbol_of("SMART:")
