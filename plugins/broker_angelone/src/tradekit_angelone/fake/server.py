"""A fake SmartAPI REST server on 127.0.0.1 that the unmodified smartapi-python client accepts.

It serves the routes ``SmartConnect`` calls (login with TOTP check, token
refresh, profile, order placement/modification/cancellation with
``ordertag``, order book, trade book, positions, RMS, FULL/OHLC/LTP market
quotes limited to 50 tokens a call, LTP, candles, logout) and the scrip
master JSON, with SmartAPI's envelopes. State lives in a ``FakeBook`` backed
by a ``PriceSource``; faults are armed through ``faults`` (see
``fake/faults.py``); activity "in the app" through ``app_trade`` and
``app_carry_forward`` (also over HTTP under ``/_fake/``).
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pyotp

from tradekit_angelone.fake.book import BookError, FakeBook
from tradekit_angelone.fake.faults import FaultPlan
from tradekit_angelone.fake.market import IST, Listing, PriceSource, SyntheticNiftyDay, angel_expiry

LOOPBACK = ("127.0.0.1", "localhost", "::1")
SCRIP_MASTER_PATH = "/OpenAPI_File/files/OpenAPIScripMaster.json"
MAX_QUOTE_TOKENS = 50
RATE_LIMIT_BODY = b"Access denied because of exceeding access rate"


class FakeSmartAPI:
    """The fake server. Use as a context manager; ``root`` is what ``SmartConnect(root=...)`` takes."""

    def __init__(
        self,
        source: PriceSource | None = None,
        *,
        api_key: str = "fake-api-key",
        client_code: str = "F12345",
        pin: str = "1234",
        totp_secret: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        start: datetime | None = None,
        follow_wall_clock: bool = False,
        clock: Any | None = None,
        hold_seconds: float = 10.0,
    ) -> None:
        if host not in LOOPBACK:
            raise ValueError(f"the fake SmartAPI only binds to loopback, not {host!r}")
        self.source = source or SyntheticNiftyDay(date.today())
        self.api_key = api_key
        self.client_code = client_code
        self.pin = pin
        self.totp_secret = totp_secret or pyotp.random_base32()
        self.follow_wall_clock = follow_wall_clock
        self.clock = clock  # any tradekit.clock.Clock (SimClock, FileClock): the fake's market time follows it
        self.hold_seconds = hold_seconds
        moment = start or (clock.now() if clock is not None else datetime.combine(self.source.day, time(9, 20), tzinfo=IST))
        self.book = FakeBook(self.source, moment)
        self.faults = FaultPlan()
        self.requests: list[tuple[str, str, Any]] = []  # (method, endpoint, payload), in arrival order
        # called with (endpoint, payload, body) after a request was carried out, before its answer is sent:
        # a test can kill the client right there (the broker acted, the client never hears of it)
        self.on_answer: Callable[[str, Any, Any], None] | None = None
        self.jwt_tokens: set[str] = set()
        self.refresh_tokens: set[str] = set()
        self.logins = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def root(self) -> str:
        return self.url

    @property
    def scrip_master_url(self) -> str:
        return self.url + SCRIP_MASTER_PATH

    def start(self) -> FakeSmartAPI:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-smartapi", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.faults.release.set()
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeSmartAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test and operator controls -----------------------------------------

    def set_time(self, moment: datetime) -> None:
        """Move the market to ``moment`` (and the shared clock with it, when there is one)."""
        if self.clock is not None and hasattr(self.clock, "sleep_until"):
            self.clock.sleep_until(moment)
        self.book.advance(moment)

    def current_totp(self) -> str:
        return pyotp.TOTP(self.totp_secret).now()

    def expire_jwt(self) -> None:
        """Every issued jwt stops working (AG8001); refresh tokens still do."""
        with self._lock:
            self.jwt_tokens.clear()

    def revoke_sessions(self) -> None:
        """Every jwt and refresh token stops working: only a new login helps."""
        with self._lock:
            self.jwt_tokens.clear()
            self.refresh_tokens.clear()

    def app_trade(self, symbol: str, side: str, quantity: int, **options: Any) -> str:
        return self.book.app_trade(symbol, side, quantity, **options).orderid

    def app_carry_forward(self, symbol: str, quantity: int, average_price: float, **options: Any) -> None:
        self.book.app_carry_forward(symbol, quantity, average_price, **options)

    def endpoint_calls(self, endpoint: str) -> list[Any]:
        return [payload for _method, name, payload in self.requests if name == endpoint]

    # -- protocol ----------------------------------------------------------

    def issue_tokens(self) -> dict[str, str]:
        """A fresh valid jwt, refresh and feed token (what a login hands out; raw protocol tests use it)."""
        jwt, refresh = "eyJ" + secrets.token_hex(24), secrets.token_hex(24)
        with self._lock:
            self.jwt_tokens.add(jwt)
            self.refresh_tokens.add(refresh)
        return {"jwtToken": jwt, "refreshToken": refresh, "feedToken": secrets.token_hex(12)}

    def sync_clock(self) -> None:
        """Bring the market to the shared clock's time (or the wall clock's time of day) before answering.

        With a ``clock`` every request first advances the book to
        ``clock.now()``, matching working orders bar by bar on the way, so a
        ``tradekit run`` on the same clock (e.g. a ``FileClock`` in another
        process) and the fake agree on market time.
        """
        if self.clock is not None:
            moment = self.clock.now()
        elif self.follow_wall_clock:
            moment = datetime.combine(self.source.day, datetime.now(IST).time(), tzinfo=IST)
        else:
            return
        if moment > self.book.now:
            self.book.advance(moment)

    def scrip_master(self) -> list[dict[str, str]]:
        return [scrip_row(listing) for listing in self.source.listings()]

    def handle(self, method: str, endpoint: str, payload: Any, headers: Any) -> tuple[int, Any]:
        """Answer one SmartAPI request: (HTTP status, JSON body). ``BookError`` becomes ``status: false``."""
        self.sync_clock()
        if endpoint == "OpenAPIScripMaster.json":
            return 200, self.scrip_master()
        if headers.get("X-PrivateKey") != self.api_key:
            return 200, failure("AG8004", "Invalid API Key")
        if endpoint == "loginByPassword":
            return 200, self._login(payload)
        if endpoint == "generateTokens":
            if payload.get("refreshToken") not in self.refresh_tokens:
                return 200, failure("AB8050", "Invalid Refresh Token")
            return 200, success(self.issue_tokens())
        token = str(headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        if token not in self.jwt_tokens:
            return 200, failure("AG8001", "Invalid Token")
        route: Callable[[Any], Any] | None = getattr(self, f"_route_{endpoint}", None)
        if route is None:
            return 404, failure("AB2000", f"unknown endpoint {endpoint}")
        try:
            return 200, success(route(payload))
        except BookError as error:
            return 200, failure(error.errorcode, error.message)

    def _login(self, payload: dict[str, Any]) -> dict[str, Any]:
        if payload.get("clientcode") != self.client_code or payload.get("password") != self.pin:
            return failure("AB1007", "Invalid clientcode or password")
        if not pyotp.TOTP(self.totp_secret).verify(str(payload.get("totp") or ""), valid_window=1):
            return failure("AB1050", "Invalid totp")
        self.logins += 1
        return success(self.issue_tokens())

    def _route_getProfile(self, payload: Any) -> dict[str, Any]:
        return {
            "clientcode": self.client_code, "name": "FAKE CLIENT", "email": "", "mobileno": "",
            "exchanges": ["nse_cm", "nse_fo"], "products": ["MARGIN", "MIS", "NRML", "CNC"],
            "lastlogintime": "", "brokerid": "B2C",
        }

    def _route_logout(self, payload: Any) -> str:
        return "Logout Successfully"

    def _route_placeOrder(self, payload: dict[str, Any]) -> dict[str, str]:
        order = self.book.place(payload)
        return {"script": order.listing.symbol, "orderid": order.orderid, "uniqueorderid": order.uniqueorderid}

    def _route_modifyOrder(self, payload: dict[str, Any]) -> dict[str, str]:
        order = self.book.modify(payload)
        return {"orderid": order.orderid, "uniqueorderid": order.uniqueorderid}

    def _route_cancelOrder(self, payload: dict[str, Any]) -> dict[str, str]:
        order = self.book.cancel(str(payload.get("orderid")))
        return {"orderid": order.orderid, "uniqueorderid": order.uniqueorderid}

    def _route_getOrderBook(self, payload: Any) -> list[dict[str, Any]] | None:
        return self.book.order_rows() or None  # SmartAPI sends null, not [], for an empty book

    def _route_getTradeBook(self, payload: Any) -> list[dict[str, str]] | None:
        return self.book.trade_rows() or None

    def _route_getPosition(self, payload: Any) -> list[dict[str, str]] | None:
        return self.book.position_rows() or None

    def _route_getHolding(self, payload: Any) -> list[Any]:
        return []

    def _route_getRMS(self, payload: Any) -> dict[str, Any]:
        return self.book.rms()

    def _route_getLtpData(self, payload: dict[str, Any]) -> dict[str, Any]:
        listing = self.book.listing(str(payload.get("symboltoken")))
        if listing is None:
            raise BookError("AB1018", "Failed to get symbol details")
        snapshot = self._snapshot(listing)
        return {
            "exchange": listing.exchange, "tradingsymbol": listing.symbol, "symboltoken": listing.token,
            **{key: snapshot[key] for key in ("open", "high", "low", "close", "ltp")},
        }

    def _route_quote(self, payload: dict[str, Any]) -> dict[str, Any]:
        mode = str(payload.get("mode") or "").upper()
        if mode not in ("FULL", "OHLC", "LTP"):
            raise BookError("AB4000", f"Invalid mode {mode!r}")
        requested = payload.get("exchangeTokens") or {}
        count = sum(len(tokens) for tokens in requested.values())
        if count > MAX_QUOTE_TOKENS:
            raise BookError("AB4000", f"Quote request allows at most {MAX_QUOTE_TOKENS} tokens, got {count}")
        fetched, unfetched = [], []
        for exchange, tokens in requested.items():
            for token in tokens:
                listing = self.book.listing(str(token))
                if listing is None or listing.exchange != str(exchange).upper():
                    unfetched.append({"exchange": exchange, "symbolToken": token, "message": "Symbol not found", "errorCode": "AB1018"})
                    continue
                fetched.append(self._quote_row(listing, mode))
        return {"fetched": fetched, "unfetched": unfetched}

    def _route_getCandleData(self, payload: dict[str, Any]) -> list[list[Any]]:
        listing = self.book.listing(str(payload.get("symboltoken")))
        series = self.source.series(listing.token) if listing else None
        if series is None:
            raise BookError("AB1018", "Failed to get symbol details")
        minutes = {"ONE_MINUTE": 1, "THREE_MINUTE": 3, "FIVE_MINUTE": 5, "TEN_MINUTE": 10, "FIFTEEN_MINUTE": 15, "THIRTY_MINUTE": 30, "ONE_HOUR": 60}.get(str(payload.get("interval")))
        if minutes is None:
            raise BookError("AB1021", f"Invalid interval {payload.get('interval')!r}")
        try:
            start = datetime.strptime(str(payload["fromdate"]), "%Y-%m-%d %H:%M").replace(tzinfo=IST)
            end = datetime.strptime(str(payload["todate"]), "%Y-%m-%d %H:%M").replace(tzinfo=IST)
        except (KeyError, ValueError):
            raise BookError("AB1020", "Invalid date format, expected yyyy-MM-dd HH:mm") from None
        rows: list[list[Any]] = []
        bucket: list[int] = []
        first = series.starts[0]
        for i, moment in enumerate(series.starts):
            if moment < start or moment > end or moment > self.book.now:
                continue
            bucket_start = first + timedelta(minutes=((moment - first).seconds // 60) // minutes * minutes)
            if bucket and series.starts[bucket[0]] < bucket_start:
                rows.append(self._candle(series, bucket))
                bucket = []
            bucket.append(i)
        if bucket:
            rows.append(self._candle(series, bucket))
        return rows

    @staticmethod
    def _candle(series: Any, indexes: list[int]) -> list[Any]:
        first, last = indexes[0], indexes[-1]
        return [
            series.starts[first].strftime("%Y-%m-%dT%H:%M:%S+05:30"),
            series.open[first],
            max(series.high[i] for i in indexes),
            min(series.low[i] for i in indexes),
            series.close[last],
            sum(series.volume[i] for i in indexes),
        ]

    def _snapshot(self, listing: Listing) -> dict[str, Any]:
        series = self.source.series(listing.token)
        if series is None:
            return {"ltp": 0.0, "open": 0.0, "high": 0.0, "low": 0.0, "close": 0.0, "volume": 0, "oi": 0, "ts": self.book.now}
        i = series.index_at(self.book.now)
        return {
            "ltp": series.close[i],
            "open": series.open[0],
            "high": max(series.high[: i + 1]),
            "low": min(series.low[: i + 1]),
            "close": series.previous_close,
            "volume": sum(series.volume[: i + 1]),
            "oi": series.oi[i],
            "ts": min(self.book.now, series.starts[i] + timedelta(seconds=59)),
        }

    def _quote_row(self, listing: Listing, mode: str) -> dict[str, Any]:
        snap = self._snapshot(listing)
        row: dict[str, Any] = {"exchange": listing.exchange, "tradingSymbol": listing.symbol, "symbolToken": listing.token, "ltp": snap["ltp"]}
        if mode in ("OHLC", "FULL"):
            row.update(open=snap["open"], high=snap["high"], low=snap["low"], close=snap["close"])
        if mode == "FULL":
            ltp, previous = snap["ltp"], snap["close"]
            tick = listing.tick_size
            stamp = snap["ts"].strftime("%d-%b-%Y %H:%M:%S")
            row.update(
                lastTradeQty=listing.lot_size,
                exchFeedTime=stamp,
                exchTradeTime=stamp,
                netChange=round(ltp - previous, 2),
                percentChange=round((ltp - previous) / previous * 100, 2) if previous else 0.0,
                avgPrice=round((snap["open"] + ltp) / 2, 2),
                tradeVolume=snap["volume"],
                opnInterest=snap["oi"],
                lowerCircuit=round(max(tick, ltp * 0.6), 2),
                upperCircuit=round(ltp * 1.4, 2),
                totBuyQuan=snap["volume"] // 3,
                totSellQuan=snap["volume"] // 3,
                **{"52WeekLow": snap["low"], "52WeekHigh": snap["high"]},
                depth={
                    "buy": [{"price": round(max(tick, ltp - tick * (k + 1)), 2), "quantity": listing.lot_size * (k + 1), "orders": k + 1} for k in range(5)],
                    "sell": [{"price": round(ltp + tick * (k + 1), 2), "quantity": listing.lot_size * (k + 1), "orders": k + 1} for k in range(5)],
                },
            )
        return row

    def control(self, path: str, payload: dict[str, Any]) -> Any:
        """``/_fake/...``: the "app" and operator controls over HTTP (for a fake run from the CLI)."""
        if path == "/_fake/app/trade":
            return {"orderid": self.app_trade(str(payload["tradingsymbol"]), str(payload["side"]), int(payload["quantity"]))}
        if path == "/_fake/app/carry_forward":
            self.app_carry_forward(str(payload["tradingsymbol"]), int(payload["quantity"]), float(payload["average_price"]))
            return {}
        if path == "/_fake/faults":
            fault = self.faults.inject(
                str(payload["endpoint"]), str(payload["kind"]), times=int(payload.get("times", 1)),
                apply=bool(payload.get("apply", False)), errorcode=str(payload.get("errorcode", "")),
                message=str(payload.get("message", "")),
            )
            return {"endpoint": fault.endpoint, "kind": fault.kind, "times": fault.times}
        if path == "/_fake/time":
            self.sync_clock()
            self.set_time(datetime.fromisoformat(str(payload["at"])))
            return {"now": self.book.now.isoformat()}
        if path == "/_fake/state":
            self.sync_clock()
            return {"now": self.book.now.isoformat(), "orders": len(self.book.orders), "trades": len(self.book.trades)}
        raise KeyError(path)


def success(data: Any) -> dict[str, Any]:
    return {"status": True, "message": "SUCCESS", "errorcode": "", "data": data}


def failure(errorcode: str, message: str) -> dict[str, Any]:
    return {"status": False, "message": message, "errorcode": errorcode, "data": None}


def scrip_row(listing: Listing) -> dict[str, str]:
    """A listing as the scrip master stores it: strings, strike and tick in paise."""
    return {
        "token": listing.token,
        "symbol": listing.symbol,
        "name": listing.name,
        "expiry": angel_expiry(listing.expiry) if listing.expiry else "",
        "strike": f"{(listing.strike or -0.01) * 100:.6f}",
        "lotsize": str(listing.lot_size),
        "instrumenttype": listing.instrumenttype,
        "exch_seg": listing.exchange,
        "tick_size": f"{listing.tick_size * 100:.6f}",
    }


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeSmartAPI/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet by default
        return

    @property
    def fake(self) -> FakeSmartAPI:
        return self.server.fake  # type: ignore[attr-defined]

    def do_GET(self) -> None:  # noqa: N802
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")

    def _serve(self, method: str) -> None:
        path = self.path.split("?", 1)[0]
        payload: Any = {}
        length = int(self.headers.get("Content-Length") or 0)
        if method == "POST" and length:
            raw = self.rfile.read(length)
            try:
                payload = json.loads(raw.decode("utf8") or "{}")
            except ValueError:
                self._send(400, failure("AB4001", "Invalid JSON body"))
                return
        if path.startswith("/_fake/"):
            try:
                self._send(200, success(self.fake.control(path, payload or {})))
            except (KeyError, ValueError, BookError) as error:
                self._send(400, failure("FAKE", str(error)))
            return
        endpoint = path.rstrip("/").rsplit("/", 1)[-1]
        self.fake.requests.append((method, endpoint, payload))
        fault = self.fake.faults.take(endpoint)
        if fault is not None and fault.kind in ("timeout", "disconnect"):
            if fault.apply:
                self.fake.handle(method, endpoint, payload if isinstance(payload, dict) else {}, self.headers)
            if fault.kind == "timeout":
                self.fake.faults.release.wait(self.fake.hold_seconds)
            self.close_connection = True
            return
        if fault is not None:
            self._send_fault(fault)
            return
        status, body = self.fake.handle(method, endpoint, payload if isinstance(payload, dict) else {}, self.headers)
        if self.fake.on_answer is not None:
            self.fake.on_answer(endpoint, payload, body)
        self._send(status, body)

    def _send_fault(self, fault: Any) -> None:
        if fault.kind == "rate_limit":
            self._send_raw(403, RATE_LIMIT_BODY, "text/plain")
        elif fault.kind == "too_many_requests":
            self._send(429, failure("", "Too many requests"))
        elif fault.kind == "server_error":
            self._send_raw(503, b"<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>", "text/html")
        elif fault.kind == "busy":
            self._send(200, failure("AB1004", "Something Went Wrong, Please Try After Sometime"))
        elif fault.kind == "invalid_token":
            self._send(200, failure("AG8001", "Invalid Token"))
        elif fault.kind == "status_false":
            self._send(200, failure(fault.errorcode or "AB2000", fault.message or "Error not specified"))
        elif fault.kind == "error_type":
            body = {"status": False, "message": fault.message or "Invalid session", "errorcode": fault.errorcode, "error_type": fault.error_type, "data": None}
            self._send(403, body)

    def _send(self, status: int, body: Any) -> None:
        self._send_raw(status, json.dumps(body).encode("utf8"), "application/json")

    def _send_raw(self, status: int, data: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client is gone (killed mid-request): its loss, not the fake's
