"""The Broker port: what every broker plugin (and the paper venue) implements.

Adapters translate at the edge. Transient failures raise
``TemporaryBrokerError`` (the shared retry policy in ``tradekit.retry``
decides whether to try again); an expired session raises ``AuthError`` whose
message names the login command; a refusal raises ``OrderRejected``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Protocol, runtime_checkable

from tradekit.model import AccountReport, Candle, Fill, Instrument, InstrumentId, Order, OrderReport, PositionReport, Quote


@runtime_checkable
class Broker(Protocol):
    name: str
    """Plugin name, e.g. ``paper`` or ``zerodha``."""

    account: str
    """Account id, ``<broker>:<user>`` (``paper:default``, ``zerodha:AB1234``)."""

    def connect(self) -> None:
        """Open sessions/sockets; raise ``AuthError`` when logged out."""

    def close(self) -> None:
        """Release connections. Safe to call twice."""

    def submit_order(self, order: Order) -> str:
        """Send the order carrying ``order.client_order_id`` as the broker's tag; return the broker order id.

        Must not blindly re-send on a timeout: use ``tradekit.retry.place_order_safely``,
        which first looks the tag up in ``order_reports()``.
        """

    def cancel_order(self, broker_order_id: str) -> None:
        """Cancel a working order."""

    def modify_order(
        self,
        broker_order_id: str,
        *,
        quantity: int | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> None:
        """Change a working order (a stop moved to break-even, a smaller remainder)."""

    def order_reports(self) -> list[OrderReport]:
        """Today's orders with tag, status, filled quantity and average price."""

    def fill_reports(self, since: datetime | None = None) -> list[Fill]:
        """Executions at or after ``since`` (all of today's when None), oldest first."""

    def position_reports(self) -> list[PositionReport]:
        """Net positions (day plus overnight)."""

    def account_report(self) -> AccountReport:
        """Cash and equity."""

    def quotes(self, instrument_ids: Iterable[InstrumentId]) -> Mapping[InstrumentId, Quote]:
        """Fresh quotes in as few requests as the broker allows; unknown or bad ones are absent."""

    def instruments(self) -> list[Instrument]:
        """What can be traded today (cached per day by the adapter)."""

    def historical(
        self, instrument_id: InstrumentId, start: datetime, end: datetime, interval_seconds: int
    ) -> list[Candle]:
        """Candles in [start, end), with open interest where the broker has it."""

# Optional, looked up with getattr by live sessions (services/live.py):
#   market_feed(market: str, poll_seconds: int) -> Feed
#       the broker's own market-data feed for `run` (e.g. IBKR's real-time
#       bars); without it the session builds candles from polled quotes
#       (tradekit.plugins.broker_feed.BrokerFeed).
