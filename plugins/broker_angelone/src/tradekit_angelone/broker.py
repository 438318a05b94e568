"""``AngelOneBroker``: tradekit's Broker port over SmartAPI.

Every call goes through the shared ``tradekit.retry`` mechanism (RetryPolicy,
place_order_safely, RateLimiter) driven by the context's clock, so tests on
a ``SimClock`` never sleep. Rate limits are SmartAPI's published per-second
limits per endpoint. An expired or invalid jwt (AG8001/AG8002) is refreshed
once with the refresh token; when that fails the error names
``tradekit angelone login``.
"""

from __future__ import annotations

import json
import os
from functools import partial
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from tradekit.errors import AuthError, BrokerError, ConfigError, OrderRejected, TemporaryBrokerError
from tradekit.model import AccountReport, Candle, Fill, Instrument, InstrumentId, Order, OrderReport, PositionReport, Quote
from tradekit.model.orders import OPEN_STATUSES
from tradekit.ports import BrokerContext
from tradekit.retry import RateLimiter, RetryPolicy, place_order_safely

from tradekit_angelone import parsing
from tradekit_angelone.client import LOGIN_HINT, REFRESHABLE_CODES, Session, SessionError, SmartClient, translate_exception
from tradekit_angelone.config import AngelOneConfig
from tradekit_angelone.tags import TagBook

T = TypeVar("T")

# SmartAPI's published limits, requests per second per endpoint
RATE_LIMITS: dict[str, float] = {
    "orders": 20,  # placeOrder, modifyOrder, cancelOrder
    "getOrderBook": 1,
    "getTradeBook": 1,
    "getPosition": 1,
    "getRMS": 2,
    "quote": 10,
    "getCandleData": 3,
    "getProfile": 3,
    "generateTokens": 1,
    "loginByPassword": 1,
}


class AngelOneBroker:
    """One Angel One account. Touches the network only from ``connect()`` on."""

    name = "angelone"

    def __init__(self, context: BrokerContext) -> None:
        self.context = context
        self.config = AngelOneConfig.from_settings(context.settings)
        self.timezone = ZoneInfo(self.config.timezone)
        self._env: Mapping[str, str] = context.env if context.env else os.environ
        self._clock = context.clock
        self.policy = RetryPolicy(
            tries=self.config.retries, backoff_seconds=self.config.backoff_seconds, sleep=context.clock.sleep
        )
        self._limiters = {
            key: RateLimiter(rate, 1.0, clock=context.clock.monotonic, sleep=context.clock.sleep)
            for key, rate in RATE_LIMITS.items()
        }
        self._state_dir = context.state_dir
        self._session_path = self._state_dir / "session.json"
        self._tags = TagBook(self._state_dir / "tags.json")
        self._client: SmartClient | None = None
        self._scrips: parsing.ScripIndex | None = None
        self._scrips_day: date | None = None
        self._order_tags: dict[str, str] = {}  # Angel order id -> ordertag, as the order book showed it
        code = self._env.get(self.config.client_code_env, "").strip()
        if not code:
            saved = Session.load(self._session_path) if self._session_path.is_file() else None
            code = saved.client_code if saved else "default"
        self.account = f"angelone:{code}"

    # -- session ---------------------------------------------------------

    def _secret(self, env_name: str, key: str) -> str:
        value = self._env.get(env_name, "").strip()
        if not value:
            raise ConfigError(f"brokers.angelone.{key}: environment variable {env_name} is not set")
        return value

    def _new_client(self) -> SmartClient:
        return SmartClient(
            api_key=self._secret(self.config.api_key_env, "api_key_env"),
            root=self.config.root,
            timeout=self.config.timeout_seconds,
            log_dir=self._state_dir,
        )

    @property
    def client(self) -> SmartClient:
        if self._client is None:
            raise BrokerError("angelone: not connected; call connect() first")
        return self._client

    def login(self) -> Session:
        """Log in with client code, PIN and a TOTP computed from the secret; saves the session."""
        import pyotp

        client_code = self._secret(self.config.client_code_env, "client_code_env")
        pin = self._secret(self.config.pin_env, "pin_env")
        secret = self._secret(self.config.totp_secret_env, "totp_secret_env")
        try:
            totp = pyotp.TOTP(secret).now()
        except Exception as error:  # noqa: BLE001 - pyotp raises ValueError/binascii.Error on bad secrets
            raise ConfigError(
                f"brokers.angelone.totp_secret_env: {self.config.totp_secret_env} is not a usable TOTP secret ({error})"
            ) from None
        if self._client is None:
            self._client = self._new_client()
        client = self._client
        session = self._limited(
            "loginByPassword", lambda: client.login(client_code, pin, totp, self._clock.now().isoformat())
        )
        session.save(self._session_path)
        self.account = f"angelone:{session.client_code}"
        return session

    def refresh_session(self) -> Session:
        """A new jwt from the saved refresh token (``tradekit angelone login --refresh``)."""
        if self._client is None:
            saved = Session.load(self._session_path)
            if saved is None:
                raise AuthError(f"angelone: no saved session; {LOGIN_HINT}")
            fresh = self._new_client()
            fresh.use_session(saved)
            self._client = fresh
        client = self._client
        session = self._limited("generateTokens", lambda: client.refresh(self._clock.now().isoformat()))
        session.save(self._session_path)
        return session

    def connect(self) -> None:
        if self._client is not None:
            return
        client = self._new_client()
        saved = Session.load(self._session_path)
        self._client = client
        if saved is None:
            if not self.config.auto_login:
                self._client = None
                raise AuthError(f"angelone: not logged in; {LOGIN_HINT}")
            self.login()
        else:
            client.use_session(saved)
            self.account = f"angelone:{saved.client_code}"
        try:
            self._call("getProfile", client.profile)
        except BaseException:
            self._client = None
            raise

    def close(self) -> None:
        self._client = None

    # -- plumbing --------------------------------------------------------

    def _limited(self, limiter: str, operation: Callable[[], T]) -> T:
        def attempt() -> T:
            self._limiters[limiter].acquire()
            return operation()

        return self.policy.call(attempt)

    def _call(self, limiter: str, operation: Callable[[], T]) -> T:
        """Rate-limited, retried, and refreshed once when the jwt is invalid or expired."""
        return self._with_refresh(lambda: self._limited(limiter, operation))

    # -- instruments -----------------------------------------------------

    def _today(self) -> date:
        return parsing.today_in(self.timezone, self._clock.now())

    def _download_scrip_master(self) -> list[Mapping[str, Any]]:
        import requests

        def fetch() -> list[Mapping[str, Any]]:
            try:
                response = requests.get(self.config.scrip_master_url, timeout=self.config.scrip_master_timeout_seconds)
            except requests.RequestException as error:
                raise translate_exception(error, "scrip master") from error
            if response.status_code >= 500 or response.status_code == 429:
                raise TemporaryBrokerError(f"angelone scrip master: HTTP {response.status_code}")
            if response.status_code != 200:
                raise BrokerError(f"angelone scrip master: HTTP {response.status_code} from {self.config.scrip_master_url}")
            try:
                rows = response.json()
            except ValueError:
                raise TemporaryBrokerError("angelone scrip master: the answer is not JSON") from None
            if not isinstance(rows, list):
                raise BrokerError("angelone scrip master: expected a JSON list of instruments")
            return rows

        return self.policy.call(fetch)

    def _scrip_index(self) -> parsing.ScripIndex:
        today = self._today()
        if self._scrips is not None and self._scrips_day == today:
            return self._scrips
        cache = self._state_dir / f"scrip-master-{today.isoformat()}.json"
        rows: list[Mapping[str, Any]] | None = None
        if cache.is_file():
            try:
                rows = json.loads(cache.read_text())
            except ValueError:
                rows = None
        if rows is None:
            rows = self._download_scrip_master()
            temporary = cache.with_suffix(".tmp")
            temporary.write_text(json.dumps(rows))
            os.replace(temporary, cache)
            for old in self._state_dir.glob("scrip-master-*.json"):
                if old != cache:
                    old.unlink(missing_ok=True)
        self._scrips = parsing.ScripIndex.build(
            rows, underlyings=self.config.underlyings, exchanges=self.config.exchanges
        )
        self._scrips_day = today
        return self._scrips

    def instruments(self) -> list[Instrument]:
        return [entry.instrument for entry in self._scrip_index().by_id.values()]

    def option_chain(self, underlying: str = "NIFTY", expiry: date | None = None) -> list[Instrument]:
        """Options on ``underlying`` for ``expiry`` (the nearest one on or after today when None)."""
        options = [
            instrument
            for instrument in self.instruments()
            if instrument.right is not None and instrument.underlying == underlying.upper()
        ]
        if expiry is None:
            upcoming = sorted({i.expiry for i in options if i.expiry and i.expiry >= self._today()})
            if not upcoming:
                return []
            expiry = upcoming[0]
        return sorted((i for i in options if i.expiry == expiry), key=lambda i: (i.strike, i.right))

    # -- market data -----------------------------------------------------

    def quotes(self, instrument_ids: Iterable[InstrumentId]) -> Mapping[InstrumentId, Quote]:
        index = self._scrip_index()
        entries = []
        for instrument_id in dict.fromkeys(instrument_ids):
            entry = index.by_id.get(instrument_id)
            if entry is None:
                self.context.log(f"angelone: no quote for unknown instrument {instrument_id}")
            else:
                entries.append(entry)
        result: dict[InstrumentId, Quote] = {}
        size = self.config.quote_batch_size
        now = self._clock.now()
        client = self.client
        for start in range(0, len(entries), size):
            batch = entries[start : start + size]
            tokens: dict[str, list[str]] = {}
            for entry in batch:
                tokens.setdefault(entry.exchange, []).append(entry.token)
            data = self._call("quote", partial(client.market_quote, "FULL", tokens))
            for row in (data or {}).get("fetched") or []:
                entry = index.by_token.get((str(row.get("exchange", "")).upper(), str(row.get("symbolToken", ""))))
                if entry is None:
                    continue
                quote = parsing.parse_quote_row(row, entry.instrument.id, self.timezone, now)
                if quote is None:
                    self.context.log(f"angelone: rejected bad quote for {entry.instrument.id}: ltp={row.get('ltp')!r}")
                    continue
                result[entry.instrument.id] = quote
        return result

    def historical(
        self, instrument_id: InstrumentId, start: datetime, end: datetime, interval_seconds: int
    ) -> list[Candle]:
        interval = parsing.CANDLE_INTERVALS.get(interval_seconds)
        if interval is None:
            known = ", ".join(str(seconds) for seconds in parsing.CANDLE_INTERVALS)
            raise BrokerError(f"angelone: no {interval_seconds}s candles (SmartAPI has {known})")
        entry = self._scrip_index().entry(instrument_id)
        local_start, local_end = start.astimezone(self.timezone), end.astimezone(self.timezone)
        params = {
            "exchange": entry.exchange,
            "symboltoken": entry.token,
            "interval": interval,
            "fromdate": local_start.strftime("%Y-%m-%d %H:%M"),
            "todate": local_end.strftime("%Y-%m-%d %H:%M"),
        }
        client = self.client
        rows = self._call("getCandleData", lambda: client.candle_data(params))
        candles = parsing.parse_candle_rows(rows, instrument_id, interval_seconds, self.timezone)
        return [candle for candle in candles if start <= candle.ts < end]

    # -- orders ----------------------------------------------------------

    def _order_book(self) -> list[Mapping[str, Any]]:
        client = self.client
        return self._call("getOrderBook", client.order_book)

    def _order_row(self, broker_order_id: str) -> Mapping[str, Any]:
        for row in self._order_book():
            if str(row.get("orderid")) == broker_order_id:
                return row
        raise BrokerError(f"angelone: order {broker_order_id} is not in today's order book")

    def _find_by_tag(self, tag: str) -> str | None:
        matches = [row for row in self._order_book() if str(row.get("ordertag") or "") == tag]
        return str(matches[-1]["orderid"]) if matches else None

    def _require_live(self, action: str) -> None:
        """Real orders only in a run started with ``--live``: a paper run may read, never trade."""
        if not self.context.live:  # refused before anything is sent: a definite no, not an unknown outcome
            raise OrderRejected(f"angelone: refusing to {action} at Angel One outside a --live run")

    def submit_order(self, order: Order) -> str:
        self._require_live(f"send order {order.client_order_id}")
        entry = self._scrip_index().entry(order.instrument_id)
        tag = self._tags.remember(order.client_order_id)
        params = parsing.order_params(order, entry, tag=tag, product_type=self.config.product_type)
        client = self.client

        def place() -> str:
            self._limiters["orders"].acquire()
            try:
                return client.place_order(params)
            except SessionError as error:
                if error.code not in REFRESHABLE_CODES:
                    raise
                self.refresh_session()  # the refused call placed nothing: safe to send again
                return client.place_order(params)

        return place_order_safely(place, lambda: self._find_by_tag(tag), self.policy)

    def cancel_order(self, broker_order_id: str) -> None:
        self._require_live(f"cancel order {broker_order_id}")
        row = self._order_row(broker_order_id)
        variety = str(row.get("variety") or "NORMAL")
        client = self.client
        attempts = 0

        def cancel() -> None:
            nonlocal attempts
            attempts += 1
            if attempts > 1:  # the previous try may have arrived: look before sending again
                current = self._order_row(broker_order_id)
                if self._status(current) not in OPEN_STATUSES:
                    return
            self._limiters["orders"].acquire()
            client.cancel_order(broker_order_id, variety)

        self._with_refresh(lambda: self.policy.call(cancel))

    def modify_order(
        self,
        broker_order_id: str,
        *,
        quantity: int | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> None:
        self._require_live(f"modify order {broker_order_id}")
        row = self._order_row(broker_order_id)
        params = {
            "variety": str(row.get("variety") or "NORMAL"),
            "orderid": broker_order_id,
            "ordertype": str(row["ordertype"]),
            "producttype": str(row.get("producttype") or self.config.product_type),
            "duration": str(row.get("duration") or "DAY"),
            "price": parsing.format_price(limit_price) if limit_price is not None else str(row.get("price") or "0"),
            "triggerprice": parsing.format_price(stop_price)
            if stop_price is not None
            else str(row.get("triggerprice") or "0"),
            "quantity": str(quantity) if quantity is not None else str(row["quantity"]),
            "tradingsymbol": str(row["tradingsymbol"]),
            "symboltoken": str(row["symboltoken"]),
            "exchange": str(row["exchange"]),
        }
        client = self.client

        def modify() -> None:
            self._limiters["orders"].acquire()
            client.modify_order(params)  # idempotent: the same target values every time

        self._with_refresh(lambda: self.policy.call(modify))

    def _with_refresh(self, operation: Callable[[], T]) -> T:
        """Run ``operation``; on AG8001/AG8002 renew the jwt once and run it again."""
        try:
            return operation()
        except SessionError as error:
            if error.code not in REFRESHABLE_CODES or self._client is None:
                raise
            try:
                self.refresh_session()
            except AuthError:
                if not self.config.auto_login:
                    raise error from None
                self.login()  # unattended runs: the refresh token is gone too, so log in with PIN and TOTP
            return operation()

    def _status(self, row: Mapping[str, Any]) -> Any:
        return parsing.parse_order_status(
            str(row.get("status") or ""), parsing.whole(row.get("filledshares"), "filledshares"),
            parsing.whole(row.get("quantity"), "quantity"),
        )

    # -- reports ---------------------------------------------------------

    def _remember_tags(self, rows: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
        for row in rows:
            self._order_tags[str(row.get("orderid"))] = str(row.get("ordertag") or "")
        return rows

    def order_reports(self) -> list[OrderReport]:
        return [
            parsing.parse_order_row(row, self._tags.client_order_id(str(row.get("ordertag") or "")), self.timezone)
            for row in self._remember_tags(self._order_book())
        ]

    def fill_reports(self, since: datetime | None = None) -> list[Fill]:
        client = self.client
        trades = self._call("getTradeBook", client.trade_book)
        if not trades:
            return []
        # an order's tag never changes: the order book (1 request/s) is read only for orders not seen before
        if any(str(row.get("orderid")) not in self._order_tags for row in trades):
            self._remember_tags(self._order_book())
        tags = self._order_tags
        day = self._today()
        fills = [
            parsing.parse_trade_row(
                row,
                account=self.account,
                day=day,
                timezone=self.timezone,
                client_order_id=self._tags.client_order_id(tags.get(str(row.get("orderid")), "")),
            )
            for row in trades
        ]
        if since is not None:
            fills = [fill for fill in fills if fill.ts >= since]
        return sorted(fills, key=lambda fill: (fill.ts, fill.fill_id))

    def position_reports(self) -> list[PositionReport]:
        client = self.client
        rows = self._call("getPosition", client.position)
        reports = [parsing.parse_position_row(row) for row in rows]
        return [report for report in reports if report is not None]

    def account_report(self) -> AccountReport:
        client = self.client
        data = self._call("getRMS", client.rms_limit)
        return parsing.parse_rms(data, self.account, self._clock.now())

