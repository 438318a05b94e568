"""Pure domain types: no I/O, no DuckDB, no broker types."""

from tradekit.model.fills import Fill
from tradekit.model.instruments import Instrument, InstrumentId, InstrumentKind, OptionRight, instrument_id
from tradekit.model.market import Candle, Quote
from tradekit.model.money import round_money, snap_to_tick, to_decimal
from tradekit.model.orders import ClientOrderId, Order, OrderStatus, OrderType, Side
from tradekit.model.positions import Position
from tradekit.model.reports import AccountReport, OrderReport, PositionReport

__all__ = [
    "AccountReport",
    "Candle",
    "ClientOrderId",
    "Fill",
    "Instrument",
    "InstrumentId",
    "InstrumentKind",
    "OptionRight",
    "Order",
    "OrderReport",
    "OrderStatus",
    "OrderType",
    "Position",
    "PositionReport",
    "Quote",
    "Side",
    "instrument_id",
    "round_money",
    "snap_to_tick",
    "to_decimal",
]
