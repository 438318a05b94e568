"""Outgoing TWS messages, field by field, for the server version the fake announces.

Each function mirrors the matching ``decoder.py`` handler of ib_insync 0.9.86
and ib_async 2.x at server version 176 (the highest both accept without
version-specific extras). Empty strings mean "unset": the clients' decoders
turn them into their defaults.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from tradekit_ibkr.fake.book import FakeExecution, FakeOrder, con_id

SERVER_VERSION = 176
PRIMARY_EXCHANGE = "NASDAQ"

Fields = list[object]


def _num(value: float | None) -> str:
    if value is None:
        return ""
    text = repr(float(value))
    return text[:-2] if text.endswith(".0") else text


def contract_fields(symbol: str, exchange: str = "SMART") -> Fields:
    """conId, symbol, secType, lastTradeDate, strike, right, multiplier, exchange, currency, localSymbol, tradingClass."""
    return [con_id(symbol), symbol, "STK", "", "0", "", "", exchange, "USD", symbol, "NMS"]


def server_hello(now: datetime) -> Fields:
    return [SERVER_VERSION, now.astimezone(UTC).strftime("%Y%m%d %H:%M:%S UTC")]


def next_valid_id(order_id: int) -> Fields:
    return [9, 1, order_id]


def managed_accounts(account: str) -> Fields:
    return [15, 1, account]


def error(req_id: int, code: int, text: str) -> Fields:
    return [4, 2, req_id, code, text, ""]


def current_time(now: datetime) -> Fields:
    return [49, 1, int(now.timestamp())]


def position(account: str, symbol: str, quantity: float, average_cost: float) -> Fields:
    return [61, 3, account, *contract_fields(symbol, PRIMARY_EXCHANGE), _num(quantity), _num(average_cost)]


def position_end() -> Fields:
    return [62, 1]


def account_value(key: str, value: str, currency: str, account: str) -> Fields:
    return [6, 2, key, value, currency, account]


def portfolio_value(account: str, symbol: str, quantity: float, mark: float, average_cost: float, realized: float) -> Fields:
    c = contract_fields(symbol, PRIMARY_EXCHANGE)
    # updatePortfolio carries primaryExchange where position carries exchange
    contract = [c[0], c[1], c[2], c[3], c[4], c[5], c[6], PRIMARY_EXCHANGE, c[8], c[9], c[10]]
    unrealized = (mark - average_cost) * quantity
    return [7, 8, *contract, _num(quantity), _num(mark), _num(round(mark * quantity, 2)), _num(average_cost),
            _num(round(unrealized, 2)), _num(round(realized, 2)), account]


def account_time(now: datetime) -> Fields:
    return [8, 1, now.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M")]


def account_download_end(account: str) -> Fields:
    return [54, 1, account]


def account_update_multi(req_id: int, account: str, key: str, value: str, currency: str) -> Fields:
    return [73, 1, req_id, account, "", key, value, currency]


def account_update_multi_end(req_id: int) -> Fields:
    return [74, 1, req_id]


def account_summary(req_id: int, account: str, tag: str, value: str, currency: str) -> Fields:
    return [63, 1, req_id, account, tag, value, currency]


def account_summary_end(req_id: int) -> Fields:
    return [64, 1, req_id]


def open_order_end() -> Fields:
    return [53, 1]


def completed_orders_end() -> Fields:
    return [102]


def exec_details_end(req_id: int) -> Fields:
    return [55, 1, req_id]


def order_status(order: FakeOrder) -> Fields:
    return [3, order.order_id, order.status, _num(order.filled), _num(order.remaining), _num(order.avg_price),
            order.perm_id, 0, _num(order.last_fill_price), order.client_id, "", ""]


def open_order(order: FakeOrder) -> Fields:
    """openOrder (5) at server version 176."""
    o = order
    fields: Fields = [5, o.order_id, *contract_fields(o.symbol)]
    fields += [o.action, _num(o.quantity), o.order_type, _num(o.limit_price), _num(o.stop_price), o.tif, "",
               o.account, "O", 0, o.order_ref, o.client_id, o.perm_id, 0, 0, "", "",
               "",  # sharesAllocation (obsolete)
               "", "", "", ""]  # faGroup, faMethod, faPercentage, faProfile (< 177)
    fields += ["", "", "", "", "", 0, "", "", 0, "", "", "", "", "", "", 0, 0, 0, "", 0, 0, 0, "", 0, 0, "", "", "", ""]
    # modelCode .. deltaNeutralAuxPrice: deltaNeutralOrderType empty, so no delta-neutral block
    fields += [0, "", "", "", "", "", ""]  # continuousUpdate .. comboLegsDescrip
    fields += [0, 0, 0]  # combo legs, order combo legs, smart combo routing params
    fields += ["", "", ""]  # scaleInitLevelSize, scaleSubsLevelSize, scalePriceIncrement (unset)
    fields += [""]  # hedgeType
    fields += [0, "", "", 0, 0]  # optOutSmartRouting, clearingAccount, clearingIntent, notHeld, dncPresent
    fields += [""]  # algoStrategy
    fields += [0, 0, o.status] + [""] * 9 + ["", "", "", "", ""] + [0, 0]
    # solicited, whatIf, status, 9 margin fields, commission/min/max/currency/warning, randomizeSize/Price
    fields += [0]  # conditions
    fields += ["", "", "", "", "", "", "", "", "", "", "", "", 0, 0, "", 0]
    # adjustedOrderType .. usePriceMgmtAlgo
    fields += ["", 0, 0]  # duration (>=159), postToAts (>=160), autoCancelParent (>=162)
    fields += ["", "", "", "", ""]  # minTradeQty .. midOffsetAtHalf (>=170)
    return fields


def completed_order(order: FakeOrder) -> Fields:
    """completedOrder (101) at server version 176: no order id or client id on the wire."""
    o = order
    fields: Fields = [101, *contract_fields(o.symbol)]
    fields += [o.action, _num(o.quantity), o.order_type, _num(o.limit_price), _num(o.stop_price), o.tif, "",
               o.account, "O", 0, o.order_ref, o.perm_id, 0, 0, "", "", "", "", "", ""]
    # .. faGroup, faMethod, faPercentage, faProfile (< 177)
    fields += ["", "", "", "", "", 0, "", "", "", "", "", "", "", "", 0, 0, "", 0, 0, "", 0, "", ""]
    # modelCode .. deltaNeutralAuxPrice (deltaNeutralOrderType empty)
    fields += [0, "", "", "", ""]  # continuousUpdate .. comboLegsDescrip
    fields += [0, 0, 0]
    fields += ["", "", ""]
    fields += [""]  # hedgeType
    fields += ["", "", 0, 0]  # clearingAccount, clearingIntent, notHeld, dncPresent
    fields += [""]  # algoStrategy
    fields += [0, o.status, 0, 0]  # solicited, status, randomizeSize, randomizePrice
    fields += [0]  # conditions
    completed = (o.completed_at or o.placed_at).astimezone(UTC).strftime("%Y%m%d %H:%M:%S UTC")
    fields += ["", "", "", 0, 0, "", _num(o.filled), "", 0, "", 0, 0, "", completed, o.completed_status]
    fields += ["", "", "", "", ""]  # minTradeQty .. midOffsetAtHalf (>=170)
    return fields


def exec_details(req_id: int, execution: FakeExecution) -> Fields:
    e = execution
    when = e.time.astimezone(UTC).strftime("%Y%m%d %H:%M:%S UTC")
    return [11, req_id, e.order_id, *contract_fields(e.symbol, "ISLAND"), e.exec_id, when, e.account, "ISLAND",
            e.side, _num(e.shares), _num(e.price), e.perm_id, e.client_id, 0, _num(e.cum_qty), _num(e.avg_price),
            e.order_ref, "", "", "", 1]


def commission_report(execution: FakeExecution) -> Fields:
    return [59, 1, execution.exec_id, _num(execution.commission), "USD", _num(execution.realized_pnl), "", ""]


def contract_details(req_id: int, symbol: str) -> Fields:
    return [10, req_id, symbol, "STK", "", "0", "", "SMART", "USD", symbol, "NMS", "NMS", con_id(symbol), "0.01",
            "", "ACTIVETIM,LMT,MKT,STP,STPLMT", "SMART,ISLAND,NYSE", 1, 0, f"{symbol} INC", PRIMARY_EXCHANGE, "",
            "Technology", "", "", "US/Eastern", "", "", "", "", 0, 1, "", "", "26", "", "COMMON", "1", "1", "100"]


def contract_details_end(req_id: int) -> Fields:
    return [52, 1, req_id]


def realtime_bar(req_id: int, ts: datetime, o: float, h: float, low: float, c: float, volume: int) -> Fields:
    wap = round((h + low + c) / 3, 4)
    return [50, 3, req_id, int(ts.timestamp()), _num(o), _num(h), _num(low), _num(c), volume, _num(wap), max(1, volume // 100)]


def historical_data(req_id: int, start: str, end: str, rows: list[Fields]) -> Fields:
    fields: Fields = [17, req_id, start, end, len(rows)]
    for row in rows:
        fields += row
    return fields


def tick_price(req_id: int, tick_type: int, price: float, size: int) -> Fields:
    return [1, 6, req_id, tick_type, _num(price), size, 0]


def tick_snapshot_end(req_id: int) -> Fields:
    return [57, 1, req_id]
