"""The paper venue's account records (the JSON its file holds) read back as the Broker port's reports.

Orders and fills are kept as plain JSON-ready dicts because the same dict is
what ``PaperVenue`` writes to its file; these turn one record into the
``OrderReport`` or ``Fill`` a broker adapter would return.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal as D
from typing import Any

from tradekit.model import Fill, OrderReport, OrderStatus, OrderType, Side

OPEN = {"ACCEPTED", "PARTIALLY_FILLED"}  # statuses of a record still working at the venue

SIDES = {str(side): side for side in Side}  # a record's text to its enum member: a dict lookup, not Enum.__call__
KINDS = {str(kind): kind for kind in OrderType}


def order_report(record: dict[str, Any]) -> OrderReport:
    return OrderReport(
        broker_order_id=record["broker_order_id"],
        client_order_id=record["tag"],
        instrument_id=record["instrument_id"],
        side=SIDES[record["side"]],
        quantity=record["quantity"],
        status=OrderStatus(record["status"]),
        order_type=KINDS[record["order_type"]],
        filled_quantity=record["filled"],
        average_price=D(record["average_price"]) if record["average_price"] else None,
        limit_price=D(record["limit_price"]) if record["limit_price"] else None,
        stop_price=D(record["stop_price"]) if record["stop_price"] else None,
        ts=datetime.fromisoformat(record["updated"]),
        status_reason=record.get("reason", ""),
    )


def fill_from_record(account: str, record: dict[str, Any]) -> Fill:
    return Fill(
        fill_id=record["fill_id"],
        account=account,
        instrument_id=record["instrument_id"],
        side=SIDES[record["side"]],
        quantity=record["quantity"],
        price=D(record["price"]),
        ts=datetime.fromisoformat(record["ts"]),
        client_order_id=record["tag"],
        broker_order_id=record["broker_order_id"],
        costs=D(record["costs"]),
    )
