"""A fake TWS / IB Gateway on 127.0.0.1 that the unmodified ib_insync and ib_async accept.

It speaks the real socket protocol (see ``wire`` and ``messages``), keeps an
account (``book``), serves 5-second bars from a ``PriceSource`` and runs on
a ``tradekit.clock.Clock``: its own ``SimClock`` by default, or one shared
with tradekit (a ``SimClock`` in the same process, a ``FileClock`` across
processes). Nothing happens until the clock moves: ``advance``/``set_time``
move it, and a clock moved by someone else (``tradekit run`` sleeping on
the same ``FileClock``) is caught up with before every request is answered
and whenever ``sync()`` is called. Faults and the "TWS app" (manual trades,
filling a working stop while tradekit is away) are plain methods, so tests
drive them directly.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tradekit.clock import Clock, SimClock

from tradekit_ibkr.fake import messages as msg
from tradekit_ibkr.fake.book import Book, FakeExecution, FakeOrder
from tradekit_ibkr.fake.history import parse_end, rows_for_request
from tradekit_ibkr.fake.market import BAR_SECONDS, Bar, PriceSource
from tradekit_ibkr.fake.server import Session, TwsServer

REJECT_CODE = 201


class FakeGateway(TwsServer):
    """A TWS-compatible server with an account, a market and a controllable clock."""

    def __init__(
        self,
        source: PriceSource,
        *,
        account: str = "DU1234567",
        cash: float = 100_000.0,
        host: str = "127.0.0.1",
        port: int = 0,
        start: datetime | None = None,
        clock: Clock | None = None,
    ) -> None:
        """``clock``: the market time to follow (shared with tradekit); ``start`` moves it forward first.

        Without a clock the gateway keeps its own ``SimClock``, starting at
        ``start`` or the session's open.
        """
        super().__init__(host, port)
        self.source = source
        self.book = Book(account=account, cash=cash)
        open_, _ = source.session()
        if clock is None:
            clock = SimClock((start or open_).astimezone(UTC))
        elif start is not None:
            clock.sleep_until(start)
        self.clock = clock
        self._now = clock.now().astimezone(UTC)
        self._next_order_id = 1
        # faults
        self._reject_next: list[str] = []
        self._fill_delay = timedelta(0)
        self._swallow_next_acks = 0

    # ------------------------------------------------------------------ life cycle

    @property
    def account(self) -> str:
        return self.book.account

    def _hello(self) -> list[object]:
        self.sync()
        return msg.server_hello(self._now)

    # ------------------------------------------------------------------ time and market

    @property
    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward: bars close, subscribers get them, resting orders may fill."""
        with self._lock:
            self.set_time(self._now + timedelta(seconds=seconds))

    def set_time(self, moment: datetime) -> None:
        """Move the clock to ``moment`` (a shared clock already past it stays where it is) and catch up."""
        moment = moment.astimezone(UTC)
        with self._lock:
            if moment < self._now:
                raise ValueError(f"the fake gateway's time cannot go back from {self._now} to {moment}")
            self.clock.sleep_until(moment)
            self.sync()

    def sync(self) -> datetime:
        """Catch up with the clock (moved by another process, say): deliver the bars and fills in between."""
        with self._lock:
            moment = self.clock.now().astimezone(UTC)
            if moment > self._now:
                self._play_until(moment)
            return self._now

    def _play_until(self, moment: datetime) -> None:
        """Bar by bar, in time order: at each bar's end the gateway's time is that end."""
        with self._lock:
            previous = self._now
            by_end: dict[datetime, list[tuple[str, Bar]]] = {}
            for symbol in self.source.symbols():
                for bar in self.source.bars(symbol, previous - timedelta(seconds=BAR_SECONDS), moment):
                    if previous < bar.end <= moment:
                        by_end.setdefault(bar.end, []).append((symbol, bar))
            for end in sorted(by_end):
                self._now = end
                for symbol, bar in by_end[end]:
                    self._on_bar(symbol, bar)
                self._release_delayed()
            self._now = moment
            self._release_delayed()

    def last_price(self, symbol: str) -> float:
        """Close of the last bar that ended at or before now (the first open before the session)."""
        recent = self.source.bars(symbol, self._now - timedelta(minutes=30), self._now)
        finished = [bar for bar in recent if bar.end <= self._now]
        if finished:
            return finished[-1].close
        upcoming = self.source.bars(symbol, self._now - timedelta(seconds=BAR_SECONDS), self._now + timedelta(days=1))
        if upcoming:
            return upcoming[0].open
        earlier = self.source.bars(symbol, self._now - timedelta(days=1), self._now)
        if earlier:
            return earlier[-1].close
        raise KeyError(symbol)

    def _on_bar(self, symbol: str, bar: Bar) -> None:
        for session in self._live_sessions():
            for req_id, wanted in session.realtime.items():
                if wanted == symbol:
                    self._send(session, msg.realtime_bar(req_id, bar.ts, bar.open, bar.high, bar.low, bar.close, bar.volume))
        for order in list(self.book.orders.values()):
            if order.working and order.symbol == symbol and order.order_type != "MKT":
                price = self.book.trigger_price(order, bar.open, bar.high, bar.low)
                if price is not None:
                    self._fill(order, order.remaining, price, bar.end)

    def _release_delayed(self) -> None:
        for order in list(self.book.orders.values()):
            if order.working and order.order_type == "MKT" and order.fill_not_before and order.fill_not_before <= self._now:
                self._fill(order, order.remaining, self.last_price(order.symbol), self._now)

    # ------------------------------------------------------------------ faults

    def reject_next_order(self, reason: str = "Order rejected - reason:The order size exceeds the allowed limit") -> None:
        """The next placeOrder is refused with error 201 and this text."""
        with self._lock:
            self._reject_next.append(reason)

    def delay_fills(self, seconds: float) -> None:
        """Market orders stay working for ``seconds`` of fake time before they fill (0 restores)."""
        with self._lock:
            self._fill_delay = timedelta(seconds=seconds)

    def swallow_next_acks(self, count: int = 1) -> None:
        """Accept the next ``count`` orders silently: no openOrder or orderStatus reaches the client."""
        with self._lock:
            self._swallow_next_acks += count

    # ------------------------------------------------------------------ the "TWS app"

    def manual_trade(self, symbol: str, quantity: float, price: float | None = None) -> FakeExecution:
        """A trade the user makes by hand in TWS (signed quantity): filled at once, no order ref."""
        with self._lock:
            self._require_symbol(symbol)
            order = self._new_order(0, 0, symbol, "BUY" if quantity > 0 else "SELL", abs(quantity), "MKT", None, None, "DAY", "")
            self.book.orders[order.perm_id] = order
            return self._fill(order, order.quantity, price if price is not None else self.last_price(symbol), self._now)

    def fill_order(self, *, order_ref: str | None = None, perm_id: int | None = None, price: float | None = None) -> FakeExecution:
        """Fill a working order now (its stop price, limit price or the market), whoever is connected."""
        with self._lock:
            order = self._find_working(order_ref, perm_id)
            if price is None:
                price = order.stop_price or order.limit_price or self.last_price(order.symbol)
            return self._fill(order, order.remaining, price, self._now)

    def cancel_in_tws(self, *, order_ref: str | None = None, perm_id: int | None = None) -> None:
        """The user cancels a working order in TWS."""
        with self._lock:
            order = self._find_working(order_ref, perm_id)
            self._cancel(order)

    def positions(self) -> dict[str, tuple[float, float]]:
        with self._lock:
            return dict(self.book.positions)

    def orders(self) -> list[FakeOrder]:
        with self._lock:
            return list(self.book.orders.values())

    def executions(self) -> list[FakeExecution]:
        with self._lock:
            return list(self.book.executions)

    def realtime_subscribers(self, symbol: str) -> int:
        """How many live real-time bar subscriptions ask for ``symbol``."""
        with self._lock:
            return sum(1 for s in self._live_sessions() for wanted in s.realtime.values() if wanted == symbol)

    def _find_working(self, order_ref: str | None, perm_id: int | None) -> FakeOrder:
        for order in self.book.orders.values():
            if order.working and ((perm_id is not None and order.perm_id == perm_id) or (order_ref and order.order_ref == order_ref)):
                return order
        raise KeyError(f"no working order with ref {order_ref!r} / perm id {perm_id}")

    def _require_symbol(self, symbol: str) -> None:
        if symbol not in self.source.symbols():
            raise KeyError(f"the fake market has no symbol {symbol!r}")

    def _owners(self, order: FakeOrder) -> list[Session]:
        """Who hears about an order: its own client, and client 0 (which binds manual orders)."""
        return [s for s in self._live_sessions() if s.client_id in (order.client_id, 0)]

    # ------------------------------------------------------------------ requests

    def _dispatch(self, session: Session, f: list[str]) -> None:
        self.sync()  # answer at the shared clock's time, after what happened on the way there
        kind = int(f[0])
        handler = {
            71: self._start_api, 61: self._req_positions, 64: self._cancel_positions, 5: self._req_open_orders,
            16: self._req_all_open_orders, 99: self._req_completed_orders, 6: self._req_account_updates,
            76: self._req_account_updates_multi, 7: self._req_executions, 9: self._req_contract_details,
            3: self._place_order, 4: self._cancel_order, 50: self._req_realtime_bars, 51: self._cancel_realtime_bars,
            20: self._req_historical, 49: self._req_current_time, 8: self._req_ids, 62: self._req_account_summary,
            1: self._req_market_data, 58: self._global_cancel,
        }.get(kind)
        if handler is None:
            return  # market data type, cancels and the like need no answer
        handler(session, f)

    def _start_api(self, session: Session, f: list[str]) -> None:
        client_id = int(f[2])
        if client_id in self.connected_clients():
            self._send(session, msg.error(-1, 326, f"Unable to connect as the client id {client_id} is already in use. Retry with a unique client id."))
            self._close(session)
            return
        session.client_id = client_id
        ids = [o.order_id for o in self.book.orders.values() if o.client_id == client_id]
        self._next_order_id = max([self._next_order_id, *[i + 1 for i in ids]])
        self._send(session, msg.next_valid_id(self._next_order_id))
        self._send(session, msg.managed_accounts(self.account))

    def _req_ids(self, session: Session, f: list[str]) -> None:
        self._send(session, msg.next_valid_id(self._next_order_id))

    def _req_current_time(self, session: Session, f: list[str]) -> None:
        self._send(session, msg.current_time(self._now))

    def _req_positions(self, session: Session, f: list[str]) -> None:
        session.positions_subscribed = True
        for symbol, (quantity, average) in sorted(self.book.positions.items()):
            self._send(session, msg.position(self.account, symbol, quantity, average))
        self._send(session, msg.position_end())

    def _cancel_positions(self, session: Session, f: list[str]) -> None:
        session.positions_subscribed = False

    def _visible(self, session: Session, order: FakeOrder, all_clients: bool) -> bool:
        return all_clients or session.client_id == 0 or order.client_id == session.client_id

    def _req_open_orders(self, session: Session, f: list[str], all_clients: bool = False) -> None:
        for order in self.book.orders.values():
            if order.working and self._visible(session, order, all_clients):
                self._send(session, msg.open_order(order))
                self._send(session, msg.order_status(order))
        self._send(session, msg.open_order_end())

    def _req_all_open_orders(self, session: Session, f: list[str]) -> None:
        self._req_open_orders(session, f, all_clients=True)

    def _req_completed_orders(self, session: Session, f: list[str]) -> None:
        api_only = f[1] == "1"
        for order in self.book.orders.values():
            if not order.working and not (api_only and order.client_id == 0):
                self._send(session, msg.completed_order(order))
        self._send(session, msg.completed_orders_end())

    def _account_values(self) -> list[tuple[str, str, str]]:
        market_value = sum(q * self.last_price(s) for s, (q, _) in self.book.positions.items())
        net = self.book.cash + market_value
        cash = f"{self.book.cash:.2f}"
        return [
            ("AccountType", "INDIVIDUAL", ""), ("TotalCashValue", cash, "USD"), ("CashBalance", cash, "USD"),
            ("CashBalance", cash, "BASE"), ("NetLiquidation", f"{net:.2f}", "USD"),
            ("GrossPositionValue", f"{abs(market_value):.2f}", "USD"), ("AvailableFunds", f"{net:.2f}", "USD"),
            ("BuyingPower", f"{net * 4:.2f}", "USD"), ("RealizedPnL", f"{self.book.realized:.2f}", "USD"),
        ]

    def _send_account(self, session: Session) -> None:
        for key, value, currency in self._account_values():
            self._send(session, msg.account_value(key, value, currency, self.account))
        for symbol, (quantity, average) in sorted(self.book.positions.items()):
            self._send(session, msg.portfolio_value(self.account, symbol, quantity, self.last_price(symbol), average, 0.0))
        self._send(session, msg.account_time(self._now))

    def _req_account_updates(self, session: Session, f: list[str]) -> None:
        subscribe = f[2] == "1"
        session.account_subscribed = subscribe
        if subscribe:
            self._send_account(session)
            self._send(session, msg.account_download_end(self.account))

    def _req_account_updates_multi(self, session: Session, f: list[str]) -> None:
        req_id = int(f[2])
        for key, value, currency in self._account_values():
            self._send(session, msg.account_update_multi(req_id, self.account, key, value, currency))
        self._send(session, msg.account_update_multi_end(req_id))

    def _req_account_summary(self, session: Session, f: list[str]) -> None:
        req_id = int(f[2])
        for key, value, currency in self._account_values():
            self._send(session, msg.account_summary(req_id, self.account, key, value, currency))
        self._send(session, msg.account_summary_end(req_id))

    def _req_executions(self, session: Session, f: list[str]) -> None:
        req_id, client_filter, time_filter, symbol_filter = int(f[2]), int(f[3] or 0), f[5], f[6]  # f[4]: the account filter
        since = parse_end(time_filter, self._now) if time_filter else None
        for execution in self.book.executions:
            if client_filter and execution.client_id != client_filter:
                continue
            if symbol_filter and execution.symbol != symbol_filter:
                continue
            if since is not None and execution.time < since:
                continue
            self._send(session, msg.exec_details(req_id, execution))
            self._send(session, msg.commission_report(execution))
        self._send(session, msg.exec_details_end(req_id))

    def _req_contract_details(self, session: Session, f: list[str]) -> None:
        req_id, symbol, sec_type = int(f[2]), f[4], f[5]
        if symbol in self.source.symbols() and sec_type in ("STK", ""):
            self._send(session, msg.contract_details(req_id, symbol))
            self._send(session, msg.contract_details_end(req_id))
        else:
            self._send(session, msg.error(req_id, 200, "No security definition has been found for the request"))

    def _req_market_data(self, session: Session, f: list[str]) -> None:
        req_id, symbol = int(f[2]), f[4]
        if symbol not in self.source.symbols():
            self._send(session, msg.error(req_id, 200, "No security definition has been found for the request"))
            return
        last = self.last_price(symbol)
        self._send(session, msg.tick_price(req_id, 1, round(last - 0.01, 2), 100))
        self._send(session, msg.tick_price(req_id, 2, round(last + 0.01, 2), 100))
        self._send(session, msg.tick_price(req_id, 4, last, 100))
        self._send(session, msg.tick_snapshot_end(req_id))

    def _req_realtime_bars(self, session: Session, f: list[str]) -> None:
        req_id, symbol = int(f[2]), f[4]
        if symbol not in self.source.symbols():
            self._send(session, msg.error(req_id, 200, "No security definition has been found for the request"))
            return
        session.realtime[req_id] = symbol

    def _cancel_realtime_bars(self, session: Session, f: list[str]) -> None:
        session.realtime.pop(int(f[2]), None)

    def _req_historical(self, session: Session, f: list[str]) -> None:
        req_id, symbol = int(f[1]), f[3]
        # contract occupies f[2:13]; then includeExpired, end, barSize, duration, useRTH, whatToShow, formatDate
        end_text, bar_size, duration, format_date = f[15], f[16], f[17], f[20]
        try:
            rows, start_text, stop_text = rows_for_request(self.source, symbol, end_text, bar_size, duration, format_date, self._now)
        except ValueError as error:
            self._send(session, msg.error(req_id, 321, f"Error validating request:-'{error}'"))
            return
        if not rows:
            self._send(session, msg.error(req_id, 162, "Historical Market Data Service error message:HMDS query returned no data"))
            return
        self._send(session, msg.historical_data(req_id, start_text, stop_text, rows))

    # ------------------------------------------------------------------ orders

    def _new_order(self, order_id: int, client_id: int, symbol: str, action: str, quantity: float, order_type: str,
                   limit: float | None, stop: float | None, tif: str, ref: str) -> FakeOrder:
        return FakeOrder(order_id, client_id, self.book.new_perm_id(), symbol, action, quantity, order_type, limit, stop,
                         tif or "DAY", self.account, ref, self._now)

    def _place_order(self, session: Session, f: list[str]) -> None:
        order_id = int(f[1])
        symbol = f[3]
        action, quantity, order_type = f[16], float(f[17] or 0), f[18]
        limit = float(f[19]) if f[19] else None
        stop = float(f[20]) if f[20] else None
        tif, ref = f[21], f[26]
        existing = next((o for o in self.book.orders.values() if o.client_id == session.client_id and o.order_id == order_id), None)
        if existing is not None:
            self._modify(session, existing, quantity, limit, stop)
            return
        if symbol not in self.source.symbols():
            self._send(session, msg.error(order_id, 200, "No security definition has been found for the request"))
            return
        if self._reject_next:
            reason = self._reject_next.pop(0)
            order = self._new_order(order_id, session.client_id or 0, symbol, action, quantity, order_type, limit, stop, tif, ref)
            self._refuse(session, order, reason)
            return
        problem = self._validate(action, quantity, order_type, limit, stop)
        if problem:
            order = self._new_order(order_id, session.client_id or 0, symbol, action, quantity, order_type, limit, stop, tif, ref)
            self._refuse(session, order, f"Order rejected - reason:{problem}")
            return
        order = self._new_order(order_id, session.client_id or 0, symbol, action, quantity, order_type, limit, stop, tif, ref)
        self.book.orders[order.perm_id] = order
        self._next_order_id = max(self._next_order_id, order_id + 1)
        if self._swallow_next_acks:
            self._swallow_next_acks -= 1
        else:
            self._announce(order)
        if order_type == "MKT":
            if self._fill_delay:
                order.fill_not_before = self._now + self._fill_delay
            else:
                self._fill(order, quantity, self.last_price(symbol), self._now)
        elif order_type == "LMT" and limit is not None:
            last = self.last_price(symbol)
            if (action == "BUY" and last <= limit) or (action == "SELL" and last >= limit):
                self._fill(order, quantity, last, self._now)

    def _refuse(self, session: Session, order: FakeOrder, reason: str) -> None:
        # TWS answers error 201; the order then lives on as an inactive completed order
        order.status, order.completed_at, order.completed_status = "Inactive", self._now, reason
        self.book.orders[order.perm_id] = order
        self._send(session, msg.error(order.order_id, REJECT_CODE, reason))

    @staticmethod
    def _validate(action: str, quantity: float, order_type: str, limit: float | None, stop: float | None) -> str:
        if action not in ("BUY", "SELL"):
            return f"bad action {action!r}"
        if quantity <= 0:
            return "The order size cannot be zero"
        if order_type not in ("MKT", "LMT", "STP", "STP LMT"):
            return f"unsupported order type {order_type}"
        if order_type in ("LMT", "STP LMT") and not limit:
            return "a limit price is required"
        if order_type in ("STP", "STP LMT") and not stop:
            return "a stop price is required"
        return ""

    def _modify(self, session: Session, order: FakeOrder, quantity: float, limit: float | None, stop: float | None) -> None:
        if not order.working:
            self._send(session, msg.error(order.order_id, 104, "Can't modify a filled order."))
            return
        order.quantity, order.limit_price, order.stop_price = quantity, limit, stop
        self._announce(order)

    def _announce(self, order: FakeOrder) -> None:
        for session in self._owners(order):
            self._send(session, msg.open_order(order))
            self._send(session, msg.order_status(order))

    def _cancel_order(self, session: Session, f: list[str]) -> None:
        order_id = int(f[2])
        order = next((o for o in self.book.orders.values() if o.client_id == session.client_id and o.order_id == order_id), None)
        if order is None or not order.working:
            self._send(session, msg.error(order_id, 10147, f"OrderId {order_id} that needs to be cancelled is not found."))
            return
        self._cancel(order)

    def _global_cancel(self, session: Session, f: list[str]) -> None:
        for order in list(self.book.orders.values()):
            if order.working:
                self._cancel(order)

    def _cancel(self, order: FakeOrder) -> None:
        order.status, order.completed_at, order.completed_status = "Cancelled", self._now, "Cancelled by Trader"
        for session in self._owners(order):
            self._send(session, msg.order_status(order))
            self._send(session, msg.error(order.order_id, 202, "Order Canceled - reason:"))

    def _fill(self, order: FakeOrder, shares: float, price: float, when: datetime) -> FakeExecution:
        execution = self.book.execute(order, shares, price, when)
        for session in self._owners(order):
            self._send(session, msg.open_order(order))
            self._send(session, msg.order_status(order))
            self._send(session, msg.exec_details(-1, execution))
            self._send(session, msg.commission_report(execution))
        quantity, average = self.book.positions.get(order.symbol, (0.0, 0.0))
        for session in self._live_sessions():
            if session.positions_subscribed:
                self._send(session, msg.position(self.account, order.symbol, quantity, average))
            if session.account_subscribed:
                self._send(session, msg.portfolio_value(self.account, order.symbol, quantity, self.last_price(order.symbol), average, 0.0))
                for key, value, currency in self._account_values():
                    self._send(session, msg.account_value(key, value, currency, self.account))
        return execution
