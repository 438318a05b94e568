"""The Broker port on Zerodha Kite Connect.

Translation happens at this edge: tradekit orders become Kite parameters
(our client order id travels in Kite's ``tag``), Kite reports become
tradekit reports through ``parsing``. Placement goes through
``place_order_safely`` so a timed-out order is looked up by its tag before
anything is re-sent; everything else retries through the shared policy.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import date, datetime
from decimal import ROUND_DOWN, ROUND_UP, Decimal
from typing import Any

from tradekit.errors import BrokerError, OrderRejected
from tradekit.model import (
    AccountReport,
    Candle,
    Fill,
    Instrument,
    InstrumentId,
    Order,
    OrderReport,
    OrderType,
    PositionReport,
    Quote,
    Side,
)
from tradekit.ports import BrokerContext
from tradekit.retry import place_order_safely

from tradekit_zerodha.chain import OptionChain, nearest_chain
from tradekit_zerodha.client import KiteClient
from tradekit_zerodha.config import DEFAULT_TICKER_ROOT, ZerodhaConfig, load_config
from tradekit_zerodha.parsing import (
    IST,
    ORDER_TYPE_CODES,
    kite_instrument,
    kite_interval,
    open_lot_average,
    parse_candle,
    parse_decimal,
    parse_instrument,
    parse_option_symbol,
    parse_order,
    parse_position,
    parse_quote,
    parse_trade,
    position_underlying,
)
from tradekit_zerodha.session import access_token_from, api_key_from

TAG_LIMIT = 20
OPTION_EXCHANGES = frozenset({"NFO", "BFO"})


class ZerodhaBroker:
    """``tradekit.ports.Broker`` for Zerodha. No network before ``connect()`` (or the first call)."""

    name = "zerodha"

    def __init__(self, context: BrokerContext, config: ZerodhaConfig | None = None) -> None:
        self.context = context
        self.config = config or load_config(context.settings)
        self.clock = context.clock
        self.account = "zerodha:unknown"
        self._client: KiteClient | None = None
        self._api_key = ""
        self._access_token = ""
        self._instruments: dict[InstrumentId, Instrument] | None = None
        self._tokens: dict[InstrumentId, int] = {}
        self._instruments_day: date | None = None
        self._streams: list[Any] = []
        self._tags: dict[str, str | None] = {}  # Kite order id -> our tag (an order's tag never changes)

    # -- session -------------------------------------------------------------------
    @property
    def client(self) -> KiteClient:
        if self._client is None:
            self.connect()
        assert self._client is not None
        return self._client

    def connect(self) -> None:
        """Read the key and token, check the session with GET /user/profile; ``AuthError`` when logged out."""
        env: Mapping[str, str] = self.context.env
        self._api_key = api_key_from(self.config, env)
        token, user_id = access_token_from(self.config, env, self.context.state_dir, self.clock.now())
        self._access_token = token
        self._client = KiteClient(self.config, self._api_key, token, self.clock)
        profile = self._client.user_profile()
        self.account = f"zerodha:{profile.get('user_id') or user_id or 'unknown'}"

    def close(self) -> None:
        for stream in self._streams:
            stream.close()
        self._streams.clear()
        self._client = None

    # -- orders --------------------------------------------------------------------
    def _order_params(self, order: Order) -> dict[str, Any]:
        tag = order.client_order_id
        if len(tag) > TAG_LIMIT or not tag.replace("_", "").replace("-", "").isalnum():
            raise OrderRejected(
                f"order {tag!r}: Kite tags are at most {TAG_LIMIT} letters/digits; use a shorter client order id")
        exchange, symbol = kite_instrument(order.instrument_id)
        order_type = order.order_type
        limit_price = order.limit_price
        if order_type is OrderType.STOP_MARKET and exchange in OPTION_EXCHANGES and parse_option_symbol(symbol):
            # Exchanges refuse SL-M on options: send a stop-limit with configured slack instead.
            order_type = OrderType.STOP_LIMIT
            limit_price = self._stop_limit(order)
        params: dict[str, Any] = {
            "exchange": exchange,
            "tradingsymbol": symbol,
            "transaction_type": order.side.value,
            "quantity": order.quantity,
            "product": self.config.product,
            "order_type": ORDER_TYPE_CODES[order_type],
            "validity": "DAY",
            "tag": tag,
        }
        if order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT) and limit_price is not None:
            params["price"] = float(limit_price)
        if order_type in (OrderType.STOP_LIMIT, OrderType.STOP_MARKET) and order.stop_price is not None:
            params["trigger_price"] = float(order.stop_price)
        if order_type in (OrderType.MARKET, OrderType.STOP_MARKET) and self.config.market_protection != 0:
            params["market_protection"] = self.config.market_protection
        return params

    def _stop_limit(self, order: Order) -> Decimal:
        assert order.stop_price is not None
        tick = self._tick_size(order.instrument_id)
        slack = Decimal(str(self.config.stop_limit_buffer_percent)) / 100
        if order.side is Side.SELL:
            raw = order.stop_price * (1 - slack)
            price = (raw / tick).to_integral_value(rounding=ROUND_DOWN) * tick
            return max(price, tick)
        raw = order.stop_price * (1 + slack)
        return (raw / tick).to_integral_value(rounding=ROUND_UP) * tick

    def _tick_size(self, instrument_id: InstrumentId) -> Decimal:
        instruments = self._instruments or {}
        instrument = instruments.get(instrument_id)
        return instrument.tick_size if instrument is not None else Decimal("0.05")

    def find_order_by_tag(self, tag: str) -> str | None:
        """The broker order id of today's order carrying ``tag``, if it arrived."""
        for row in self._remember_tags(self.client.orders()):
            if row.get("tag") == tag or tag in (row.get("tags") or []):
                return str(row["order_id"])
        return None

    def submit_order(self, order: Order) -> str:
        params = self._order_params(order)
        client = self.client

        def note(attempt: int, error: Exception) -> None:
            client.retries.append(("POST /orders", attempt, str(error)))
            self.context.log(f"zerodha: placing {order.client_order_id} failed ({error}); checking its tag first")

        broker_order_id = place_order_safely(
            lambda: client.orders_place(**params),
            lambda: self.find_order_by_tag(order.client_order_id),
            client.retry,
            on_retry=note,
        )
        self._tags[broker_order_id] = order.client_order_id
        return broker_order_id

    def cancel_order(self, broker_order_id: str) -> None:
        client = self.client
        attempts = 0

        def attempt() -> None:
            nonlocal attempts
            attempts += 1
            try:
                client.orders_cancel(broker_order_id)
            except OrderRejected:
                # a retried cancel whose first try got through is refused as "already cancelled"
                if attempts > 1 and self._status_of(broker_order_id) == "CANCELLED":
                    return
                raise

        client.retry.call(attempt, on_retry=lambda n, e: client.retries.append(("DELETE /orders", n, str(e))))

    def _status_of(self, broker_order_id: str) -> str:
        history = self.client.order_history(broker_order_id)
        return str(history[-1].get("status") or "").upper() if history else ""

    def modify_order(
        self,
        broker_order_id: str,
        *,
        quantity: int | None = None,
        limit_price: Decimal | None = None,
        stop_price: Decimal | None = None,
    ) -> None:
        current = next((row for row in self.client.orders() if str(row["order_id"]) == broker_order_id), None)
        if current is None:
            raise OrderRejected(f"Kite has no order {broker_order_id} today")
        params: dict[str, Any] = {"order_type": current.get("order_type") or "MARKET"}
        if quantity is not None:
            params["quantity"] = quantity
        if limit_price is not None:
            params["price"] = float(limit_price)
        if stop_price is not None:
            params["trigger_price"] = float(stop_price)
        self.client.orders_modify(broker_order_id, variety=current.get("variety") or self.config.variety, **params)

    # -- reports -------------------------------------------------------------------
    def _remember_tags(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for row in rows:
            self._tags[str(row["order_id"])] = str(row["tag"]) if row.get("tag") else None
        return rows

    def order_reports(self) -> list[OrderReport]:
        reports = []
        for row in self._remember_tags(self.client.orders()):
            try:
                reports.append(parse_order(row))
            except (KeyError, ValueError) as error:
                raise BrokerError(f"Kite order {row.get('order_id')}: unreadable ({error})") from None
        return reports

    def fill_reports(self, since: datetime | None = None) -> list[Fill]:
        """Today's trades with our tags; GET /orders only when a trade belongs to an order not seen yet."""
        rows = self.client.trades()
        if any(str(row.get("order_id")) not in self._tags for row in rows):
            self._remember_tags(self.client.orders())
        tags = {order_id: tag for order_id, tag in self._tags.items() if tag}
        fills = []
        for row in rows:
            try:
                fill = parse_trade(row, account=self.account, tags=tags)
            except (KeyError, ValueError) as error:
                raise BrokerError(f"Kite trade {row.get('trade_id')}: unreadable ({error})") from None
            if since is None or fill.ts >= since:
                fills.append(fill)
        return sorted(fills, key=lambda fill: (fill.ts, fill.fill_id))

    def _kept(self, exchange: str, symbol: str) -> bool:
        if not self.config.underlyings:
            return True
        return position_underlying(symbol) in self.config.underlyings and exchange.upper() in OPTION_EXCHANGES

    def position_reports(self) -> list[PositionReport]:
        """Net positions (day plus overnight) in the configured underlyings, one per instrument.

        A position opened today after an earlier round trip in the same contract is priced at its open
        lots (FIFO over today's trades), not at Kite's day-blended ``average_price``.
        """
        combined: dict[InstrumentId, list[PositionReport]] = {}
        rows = [row for row in self.client.portfolio_positions().get("net", [])
                if row.get("quantity") and self._kept(str(row["exchange"]), str(row["tradingsymbol"]))]
        today: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        if any(row.get("day_buy_quantity") and row.get("day_sell_quantity") for row in rows):
            for trade in self.client.trades():
                today.setdefault((str(trade["exchange"]), str(trade["tradingsymbol"]), str(trade.get("product"))),
                                 []).append(trade)
        for row in rows:
            try:
                report = parse_position(row)
                trades = today.get((str(row["exchange"]), str(row["tradingsymbol"]), str(row.get("product"))))
                if trades and not row.get("overnight_quantity"):
                    opened = open_lot_average(trades)
                    if opened is not None and opened[0] == report.quantity:
                        report = replace(report, average_price=opened[1])
            except (KeyError, ValueError) as error:
                # never skip a row silently: sync would think the position was closed
                raise BrokerError(f"Kite position {row.get('tradingsymbol')}: unreadable ({error})") from None
            if report.quantity == 0:
                continue
            combined.setdefault(report.instrument_id, []).append(report)
        return [_merge(parts) for parts in combined.values()]

    def account_report(self) -> AccountReport:
        """Cash is Kite's equity live balance; equity adds the marked value of open positions."""
        margins = self.client.user_margins()
        equity = margins.get("equity") or {}
        available = equity.get("available") or {}
        cash = parse_decimal(available.get("live_balance", equity.get("net", 0)), field="live_balance")
        marked = Decimal(0)
        for row in self.client.portfolio_positions().get("net", []):
            quantity = int(row.get("quantity") or 0)
            if quantity:
                marked += parse_decimal(row.get("last_price") or 0, field="last_price") * quantity
        return AccountReport(account=self.account, currency="INR", cash=cash, equity=cash + marked,
                             ts=self.clock.now())

    # -- market data ---------------------------------------------------------------
    def quotes(self, instrument_ids: Iterable[InstrumentId]) -> Mapping[InstrumentId, Quote]:
        """Fresh quotes in batches of ``quote_batch_size`` (Kite: 500), at the quote rate limit."""
        keys = list(dict.fromkeys(instrument_ids))
        result: dict[InstrumentId, Quote] = {}
        size = self.config.quote_batch_size
        now = self.clock.now()
        for start in range(0, len(keys), size):
            batch = keys[start:start + size]
            answer = self.client.quote(batch)
            for key in batch:
                payload = answer.get(key)
                if payload is None:
                    continue  # Kite leaves unknown instruments out: skipped, never a KeyError
                try:
                    quote = parse_quote(key, payload, now)
                except (ValueError, TypeError) as error:
                    self.context.log(f"zerodha: quote for {key} rejected: {error}")
                    continue
                if quote is None:
                    self.context.log(f"zerodha: quote for {key} rejected: no usable last price")
                    continue
                stale = self.config.stale_quote_seconds
                if stale and (now - quote.ts).total_seconds() > stale:
                    self.context.log(f"zerodha: quote for {key} rejected: stale ({quote.ts.isoformat()})")
                    continue
                result[key] = quote
        return result

    def _cache_path(self, day: date) -> Any:
        return self.context.state_dir / f"instruments-{day.isoformat()}.json"

    def _load_instruments(self) -> dict[InstrumentId, Instrument]:
        today = self.clock.now().astimezone(IST).date()
        if self._instruments is not None and self._instruments_day == today:
            return self._instruments
        path = self._cache_path(today)
        rows: list[dict[str, Any]]
        if path.exists():
            rows = json.loads(path.read_text())
        else:
            index_exchange = self.config.index_symbol.split(":", 1)[0]
            exchanges = sorted({segment.split("-", 1)[0] for segment in self.config.segments} | {index_exchange})
            rows = []
            for exchange in exchanges:
                for row in self.client.instruments(exchange):
                    segment = str(row.get("segment") or "").upper()
                    if self.config.segments and segment not in self.config.segments and segment != "INDICES":
                        continue
                    try:
                        instrument = parse_instrument(row)
                    except (KeyError, ValueError):
                        continue
                    rows.append({"token": int(row["instrument_token"]), **instrument.to_dict()})
            temporary = path.with_suffix(".tmp")
            temporary.write_text(json.dumps(rows))
            temporary.replace(path)
            for old in self.context.state_dir.glob("instruments-*.json"):
                if old != path:
                    old.unlink(missing_ok=True)
        instruments: dict[InstrumentId, Instrument] = {}
        self._tokens = {}
        for row in rows:
            token = int(row.pop("token"))
            instrument = Instrument.from_dict(row)
            instruments[instrument.id] = instrument
            self._tokens[instrument.id] = token
        self._instruments = instruments
        self._instruments_day = today
        return instruments

    def instruments(self) -> list[Instrument]:
        """Today's dump (filtered to ``segments`` plus indices), fetched once a day and cached on disk."""
        return list(self._load_instruments().values())

    def instrument_token(self, instrument_id: InstrumentId) -> int:
        self._load_instruments()
        try:
            return self._tokens[instrument_id]
        except KeyError:
            raise BrokerError(f"{instrument_id} is not in today's Kite instrument dump") from None

    def option_chain(self, underlying: str | None = None) -> OptionChain:
        """The nearest weekly expiry's chain for ``underlying`` (config ``underlying``: NIFTY)."""
        today = self.clock.now().astimezone(IST).date()
        return nearest_chain(self.instruments(), underlying or self.config.underlying, today)

    def historical(
        self, instrument_id: InstrumentId, start: datetime, end: datetime, interval_seconds: int
    ) -> list[Candle]:
        try:
            interval = kite_interval(interval_seconds)
        except ValueError as error:
            raise BrokerError(str(error)) from None
        token = self.instrument_token(instrument_id)
        local_start = start.astimezone(IST).replace(tzinfo=None)
        local_end = end.astimezone(IST).replace(tzinfo=None)
        records = self.client.instruments_historical(token, local_start, local_end, interval, oi=True)
        candles = []
        for record in records:
            ts, o, h, low, c, volume, oi = parse_candle(record)
            if start <= ts < end:
                candles.append(Candle(instrument_id, ts, interval_seconds, o, h, low, c, volume, oi))
        return candles

    # -- streaming -----------------------------------------------------------------
    def stream_refusal(self) -> str | None:
        """Why ``stream()`` would open no ticker (None: it would)."""
        if not self.config.stream:
            return "quote streaming is off (brokers.zerodha.stream = false)"
        if not self.config.is_real_kite and self.config.ticker_root == DEFAULT_TICKER_ROOT:
            # REST points elsewhere (a fake, a proxy): never send that session to Kite's real ticker
            return "root is not Kite's but ticker_root is; set brokers.zerodha.ticker_root to stream quotes"
        return None

    def stream(self, instrument_ids: Iterable[InstrumentId], on_quote: Callable[[Quote], None],
               on_status: Callable[[str], None] | None = None) -> Any:
        """KiteTicker in full mode (with OI); ``on_quote`` gets every tick; reconnects by itself.

        With ``stream = false`` no ticker is opened: the handle is inert and the caller (the engine's
        exit monitor) keeps polling quotes.
        """
        from tradekit_zerodha.ticker import ZerodhaStream

        refusal = self.stream_refusal()
        if refusal is not None:
            self.context.log(f"zerodha: {refusal}; polling only")
            return _NoStream()

        self.client  # connects (and checks the session) first
        tokens = {self.instrument_token(i): i for i in instrument_ids}
        stream = ZerodhaStream(self.config, self._api_key, self._access_token, tokens, on_quote,
                               on_status=on_status or self.context.log)
        stream.start()
        self._streams.append(stream)
        return stream


class _NoStream:
    """What ``stream()`` returns when streaming is configured off: nothing to close."""

    def close(self) -> None:
        return None


def _merge(parts: list[PositionReport]) -> PositionReport:
    """One instrument held under several products (MIS and NRML): one net report."""
    if len(parts) == 1:
        return parts[0]
    quantity = sum(p.quantity for p in parts)
    same_side = [p for p in parts if (p.quantity > 0) == (quantity > 0) and p.quantity != 0]
    weight = sum(abs(p.quantity) for p in same_side)
    average = sum((p.average_price * abs(p.quantity) for p in same_side), Decimal(0)) / weight if weight else Decimal(0)
    return PositionReport(parts[0].instrument_id, quantity, average, parts[0].last_price)
