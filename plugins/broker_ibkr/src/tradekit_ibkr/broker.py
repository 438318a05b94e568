"""The ``ibkr`` broker: tradekit's Broker port over TWS / IB Gateway.

Transient failures (timeouts, a dropped socket, a gateway restart) raise
``TemporaryBrokerError`` and go through the shared ``tradekit.retry`` policy,
whose sleeps use the context's clock. Every call first makes sure the
session is alive and reconnects if not (resubscribing real-time bars), so a
gateway restart costs one retry, not a crash. Orders are placed through
``place_order_safely``: after a failure the broker is asked for our
``orderRef`` before anything is sent again.

Broker order ids are IB ``permId`` values: stable across reconnects and
client ids (the per-client ``orderId`` is not).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from types import ModuleType
from typing import Any

from tradekit.errors import BrokerError, OrderRejected, TemporaryBrokerError
from tradekit.model import (
    AccountReport,
    Candle,
    Fill,
    Instrument,
    InstrumentId,
    Order,
    OrderReport,
    OrderStatus,
    PositionReport,
    Quote,
)
from tradekit.ports import BrokerContext
from tradekit.retry import RetryPolicy, place_order_safely

from tradekit_ibkr import parsing
from tradekit_ibkr.bars import CandleCallback, RealtimeBars
from tradekit_ibkr.client import IBSession, load_library
from tradekit_ibkr.config import IBKRConfig

log = logging.getLogger("tradekit_ibkr")

BAR_SIZES = {5: "5 secs", 10: "10 secs", 15: "15 secs", 30: "30 secs", 60: "1 min", 120: "2 mins", 180: "3 mins",
             300: "5 mins", 600: "10 mins", 900: "15 mins", 1200: "20 mins", 1800: "30 mins", 3600: "1 hour",
             86400: "1 day"}


class IBKRBroker:
    """Interactive Brokers through the unmodified ib_async / ib_insync client."""

    name = "ibkr"

    def __init__(self, config: IBKRConfig, context: BrokerContext, library: ModuleType | None = None) -> None:
        self.config = config
        self.context = context
        self.library = library or load_library(config.client_library)
        self.account = f"ibkr:{config.account}" if config.account else "ibkr:?"
        self.policy = RetryPolicy(tries=config.retries, backoff_seconds=config.backoff_seconds, sleep=context.clock.sleep)
        self.bars = RealtimeBars(what_to_show=config.bar_what_to_show)
        self.session: IBSession | None = None
        self.reconnects = 0
        self._closed = False
        self._instruments: tuple[datetime, list[Instrument]] | None = None

    # ------------------------------------------------------------------ connection

    @property
    def library_name(self) -> str:
        return self.library.__name__

    def connect(self) -> None:
        """Connect and sync (positions, orders, executions, account); retried on transient failures."""
        self._closed = False
        self.policy.call(self._open_session, on_retry=self._log_retry)

    def _open_session(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None
        session = IBSession(
            self.library, host=self.config.host, port=self.config.port, client_id=self.config.client_id,
            account=self.config.account, readonly=self.config.readonly,
            connect_timeout=self.config.connect_timeout, request_timeout=self.config.request_timeout,
        )
        session.connect()
        self.session = session
        self.account = f"ibkr:{session.account}"
        for subscription in self.bars.subscriptions.values():
            session.call(self.bars.start, session.ib, self.library, subscription)
        self.context.log(f"ibkr: connected to {session.where} as {session.account} ({self.library_name})")

    def reconnect(self) -> None:
        """Open a new session (after a gateway restart or a dropped socket) and resubscribe bars."""
        self.reconnects += 1
        self.context.log("ibkr: reconnecting")
        self._open_session()

    def is_connected(self) -> bool:
        return self.session is not None and self.session.is_connected()

    def ensure_connected(self) -> None:
        """Reconnect if the session died; meant for the engine's periodic health check."""
        if self._closed:
            raise BrokerError("ibkr: the broker was closed; create a new one")
        if not self.is_connected():
            self.reconnect()

    def close(self) -> None:
        self._closed = True
        if self.session is not None:
            self.session.close()
            self.session = None

    def _log_retry(self, attempt: int, error: Exception) -> None:
        self.context.log(f"ibkr: retry {attempt} after: {error}")

    def _live(self) -> IBSession:
        self.ensure_connected()
        assert self.session is not None
        return self.session

    def _run(self, work: Callable[[Any], Any], timeout: float | None = None) -> Any:
        """Run ``work(ib)`` on a live session, reconnecting and retrying transient failures."""

        def attempt() -> Any:
            session = self._live()
            try:
                return session.call(work, session.ib, timeout=timeout)
            except TemporaryBrokerError:
                if not session.is_connected():
                    session.lost.set()
                raise

        return self.policy.call(attempt, on_retry=self._log_retry)

    # ------------------------------------------------------------------ orders

    def _guard_orders(self) -> None:
        """Refused here, before anything is sent: an ``OrderRejected`` (a definite no), never an unknown outcome
        that the engine would look up and send again at its next step."""
        if self.config.readonly:
            raise OrderRejected("ibkr: brokers.ibkr.readonly is true; tradekit sends no orders on a read-only connection")
        if not self.context.live:
            raise OrderRejected("ibkr: orders reach Interactive Brokers only in a live run (tradekit run --live)")

    def submit_order(self, order: Order) -> str:
        """Place the order with its client order id in ``orderRef``; return the permId once TWS acknowledges it."""
        self._guard_orders()
        return place_order_safely(lambda: self._place(order), lambda: self._find_by_tag(order.client_order_id),
                                  self.policy, on_retry=self._log_retry)

    def _place(self, order: Order) -> str:
        session = self._live()
        lib = self.library
        contract = parsing.stock_contract(lib, order.instrument_id)
        ib_order = parsing.build_order(lib, order, session.account)
        trade = session.call(lambda ib: ib.placeOrder(contract, ib_order), session.ib)

        def answered() -> bool:
            return bool(trade.order.permId) or trade.isDone() or any(e.errorCode for e in trade.log)

        if not session.wait_until(answered, timeout=self.config.request_timeout):
            raise TemporaryBrokerError(f"ibkr: no acknowledgement for order {order.client_order_id} "
                                       f"within {self.config.request_timeout:g}s")
        status, reason = parsing.order_status(trade)
        if status is OrderStatus.REJECTED or (not trade.order.permId and trade.isDone()):
            raise OrderRejected(f"ibkr: order {order.client_order_id} rejected: {reason or trade.orderStatus.status}")
        return str(trade.order.permId)

    def _find_by_tag(self, client_order_id: str) -> str | None:
        for report in self.order_reports():
            if report.client_order_id == client_order_id:
                if report.status is OrderStatus.REJECTED:
                    raise OrderRejected(f"ibkr: order {client_order_id} rejected: {report.status_reason}")
                return report.broker_order_id
        return None

    def _trade(self, broker_order_id: str) -> Any:
        """This session's Trade for a permId (open orders are re-read if it is not known yet)."""
        perm_id = int(broker_order_id)

        def find(ib: Any) -> Any:
            for trade in ib.trades():
                if trade.order.permId == perm_id:
                    return trade
            return None

        trade = self._run(find)
        if trade is None:
            self._run(lambda ib: ib.reqOpenOrdersAsync())
            trade = self._run(find)
        if trade is None:
            raise BrokerError(f"ibkr: no order with permId {broker_order_id} at {self.account}")
        return trade

    def cancel_order(self, broker_order_id: str) -> None:
        self._guard_orders()
        trade = self._trade(broker_order_id)
        if trade.isDone():
            return
        if not trade.order.orderId or trade.order.clientId not in (self.config.client_id, 0):
            raise BrokerError(f"ibkr: order {broker_order_id} belongs to another API client; cancel it in TWS")
        self._run(lambda ib: ib.cancelOrder(trade.order))
        session = self._live()
        if not session.wait_until(lambda: trade.orderStatus.status in ("Cancelled", "ApiCancelled", "PendingCancel", "Filled"),
                                  timeout=self.config.request_timeout):
            raise TemporaryBrokerError(f"ibkr: no cancel confirmation for order {broker_order_id}")

    def modify_order(self, broker_order_id: str, *, quantity: int | None = None, limit_price: Decimal | None = None,
                     stop_price: Decimal | None = None) -> None:
        self._guard_orders()
        trade = self._trade(broker_order_id)
        if trade.isDone():
            raise OrderRejected(f"ibkr: order {broker_order_id} is {trade.orderStatus.status}; nothing to modify")
        order = trade.order
        if quantity is not None:
            order.totalQuantity = float(quantity)
        if limit_price is not None:
            order.lmtPrice = float(limit_price)
        if stop_price is not None:
            order.auxPrice = float(stop_price)
        before = len(trade.log)
        self._run(lambda ib: ib.placeOrder(trade.contract, order))
        session = self._live()
        # placeOrder logs "Modify" at once; TWS's answer adds the next entry ("Modified", a fill or an error)
        if not session.wait_until(lambda: len(trade.log) > before + 1, timeout=self.config.request_timeout):
            raise TemporaryBrokerError(f"ibkr: no acknowledgement for the change to order {broker_order_id}")
        status, reason = parsing.order_status(trade)
        if status is OrderStatus.REJECTED:
            raise OrderRejected(f"ibkr: change to order {broker_order_id} rejected: {reason}")

    # ------------------------------------------------------------------ reports

    def order_reports(self) -> list[OrderReport]:
        """Open and completed orders of the account, re-read from TWS (not only this session's)."""

        async def refresh(ib: Any) -> list[Any]:
            await ib.reqAllOpenOrdersAsync()
            if not self.config.readonly:
                await ib.reqCompletedOrdersAsync(False)
            return list(ib.trades())

        trades = self._run(refresh)
        reports: dict[str, OrderReport] = {}
        for trade in trades:
            if not trade.order.permId:
                continue
            report = parsing.order_report(trade)
            previous = reports.get(report.broker_order_id)
            if previous is None or report.filled_quantity >= previous.filled_quantity:
                reports[report.broker_order_id] = report
        return sorted(reports.values(), key=lambda r: (r.ts or datetime.min.replace(tzinfo=UTC), r.broker_order_id))

    def fill_reports(self, since: datetime | None = None) -> list[Fill]:
        """Executions at or after ``since`` (the watermark), asked afresh from TWS, oldest first."""
        if since is not None and since.tzinfo is None:
            raise BrokerError(f"ibkr: fill_reports(since={since}) needs a timezone-aware time")
        async def executions(ib: Any) -> list[Any]:
            fresh = await ib.reqExecutionsAsync()
            # commission reports update the fill objects the IB object keeps, not the copies a
            # reqExecutions answer holds for executions it had already seen live
            known = {f.execution.execId: f for f in ib.fills()}
            return [known.get(f.execution.execId, f) for f in fresh]

        fills = self._run(executions)
        account = self.account.split(":", 1)[1]
        out: dict[str, Fill] = {}
        for ib_fill in fills:
            if ib_fill.execution.acctNumber and ib_fill.execution.acctNumber != account:
                continue
            parsed = parsing.fill(ib_fill, self.account)
            if since is None or parsed.ts >= since:
                out[parsed.fill_id] = parsed
        return sorted(out.values(), key=lambda f: (f.ts, f.fill_id))

    def position_reports(self) -> list[PositionReport]:
        positions = self._run(lambda ib: ib.reqPositionsAsync())
        account = self.account.split(":", 1)[1]
        reports = [parsing.position_report(p) for p in positions if p.account == account and float(p.position) != 0]
        return sorted(reports, key=lambda r: r.instrument_id)

    def account_report(self) -> AccountReport:
        account = self.account.split(":", 1)[1]
        values = self._run(lambda ib: list(ib.accountValues(account)))
        try:
            return parsing.account_report(values, account, now=self.context.clock.now())
        except ValueError as error:
            raise TemporaryBrokerError(str(error)) from None

    # ------------------------------------------------------------------ market data

    def quotes(self, instrument_ids: Iterable[InstrumentId]) -> Mapping[InstrumentId, Quote]:
        """Snapshot quotes in one batch; unknown symbols and bad prices are left out with a warning."""
        ids = list(dict.fromkeys(instrument_ids))
        if not ids:
            return {}
        lib = self.library

        async def snapshot(ib: Any) -> list[tuple[str, Any]]:
            # ib_async hashes contracts by conId: qualify first. Unknown symbols come back as None
            # (ib_async) or are left out (ib_insync), so match the answers by symbol.
            contracts = await ib.qualifyContractsAsync(*[parsing.stock_contract(lib, i) for i in ids])
            by_symbol = {c.symbol: c for c in contracts if c is not None and getattr(c, "conId", 0)}
            known = [(i, by_symbol[parsing.symbol_of(i)]) for i in ids if parsing.symbol_of(i) in by_symbol]
            tickers = await ib.reqTickersAsync(*[c for _, c in known]) if known else []
            return [(i, t) for (i, _), t in zip(known, tickers, strict=True)]

        answered = self._run(snapshot)
        now = self.context.clock.now()
        out: dict[InstrumentId, Quote] = {}
        missing = set(ids) - {i for i, _ in answered}
        for instrument in sorted(missing):
            self.context.log(f"ibkr: no contract for {instrument}; skipped")
        for instrument, ticker in answered:
            quote = parsing.quote(instrument, ticker, now)
            if quote is None:
                self.context.log(f"ibkr: no usable price for {instrument}; skipped")
                continue
            out[instrument] = quote
        return out

    def instruments(self) -> list[Instrument]:
        """The configured ``symbols`` plus anything held, qualified at TWS once per day."""
        today = self.context.clock.now().date()
        if self._instruments is not None and self._instruments[0].date() == today:
            return list(self._instruments[1])
        symbols = set(self.config.symbols) | {parsing.symbol_of(p.instrument_id) for p in self.position_reports()}
        lib = self.library

        async def qualify(ib: Any) -> list[Any]:
            contracts = [lib.Stock(symbol, parsing.EXCHANGE, parsing.CURRENCY) for symbol in sorted(symbols)]
            return list(await ib.qualifyContractsAsync(*contracts)) if contracts else []

        qualified = self._run(qualify)
        instruments = [parsing.stock_instrument(c.symbol) for c in qualified if c is not None and getattr(c, "conId", 0)]
        self._instruments = (self.context.clock.now(), instruments)
        return list(instruments)

    def historical(self, instrument_id: InstrumentId, start: datetime, end: datetime, interval_seconds: int) -> list[Candle]:
        """Bars in [start, end) from ``reqHistoricalData`` (TRADES, outside regular hours included)."""
        if interval_seconds not in BAR_SIZES:
            raise BrokerError(f"ibkr: bar length {interval_seconds}s is not one IB offers ({', '.join(map(str, BAR_SIZES))})")
        if end <= start:
            return []
        seconds = int((end - start).total_seconds())
        duration = f"{seconds} S" if seconds <= 86400 else f"{-(-seconds // 86400)} D"
        lib = self.library
        contract = parsing.stock_contract(lib, instrument_id)
        instrument = parsing.stock_id(parsing.symbol_of(instrument_id))

        async def fetch(ib: Any) -> list[Any]:
            return list(await ib.reqHistoricalDataAsync(
                contract, endDateTime=end, durationStr=duration, barSizeSetting=BAR_SIZES[interval_seconds],
                whatToShow=self.config.bar_what_to_show, useRTH=False, formatDate=2))

        bars = self._run(fetch)
        candles = []
        for bar in bars:
            candle = parsing.candle(instrument, bar, interval_seconds)
            if candle is not None and start <= candle.ts < end:
                candles.append(candle)
        return candles

    def market_feed(self, market: str, poll_seconds: int) -> Any:
        """The feed ``tradekit run --broker ibkr`` reads: candles from 5-second real-time bars on this connection.

        It also prices the paper venue of a paper run (``quote``, ``first_cross``),
        so paper fills follow the gateway's own bars. ``poll_seconds`` is not
        needed: bars are pushed.
        """
        from tradekit_ibkr.feed import IBKRFeed

        if market != IBKRFeed.market:
            raise BrokerError(f"ibkr: trades US stocks ({IBKRFeed.market}); a strategy for {market} cannot run here")
        return IBKRFeed(self)

    def subscribe_bars(self, instrument_id: InstrumentId, callback: CandleCallback) -> None:
        """Stream 5-second bars of ``instrument_id`` into ``callback`` (on the client thread); kept across reconnects."""
        instrument = parsing.stock_id(parsing.symbol_of(instrument_id))
        subscription = self.bars.add(instrument, callback)
        self._run(lambda ib: self.bars.start(ib, self.library, subscription))

    def unsubscribe_bars(self, instrument_id: InstrumentId) -> None:
        instrument = parsing.stock_id(parsing.symbol_of(instrument_id))
        subscription = self.bars.subscriptions.pop(instrument, None)
        if subscription is not None and self.is_connected():
            assert self.session is not None
            self.session.call(self.bars.stop, self.session.ib, subscription)

