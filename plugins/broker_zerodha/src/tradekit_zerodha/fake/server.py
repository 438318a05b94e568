"""A fake Kite Connect v3 server on 127.0.0.1: REST plus the ticker's WebSocket.

It speaks the wire protocol the unmodified ``kiteconnect`` client expects
(routes, form bodies, ``{"status":"success","data":...}`` envelopes, typed
errors with HTTP status, the gzip CSV instrument dump, KiteTicker binary
frames on the same port). Time comes from an injected clock, so tests are
deterministic; ``faults`` and ``app`` let tests break it and trade in the
"Kite app" behind tradekit's back.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
import secrets
import socket
import threading
from collections import deque
from collections.abc import Callable
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tradekit.clock import Clock, SimClock

from tradekit_zerodha.fake.app import KiteApp
from tradekit_zerodha.fake.book import Book, KiteError, input_error, kite_time
from tradekit_zerodha.fake.faults import ERRORS, Faults
from tradekit_zerodha.fake.market import IST, MarketSource, SyntheticNiftyDay, session_start
from tradekit_zerodha.fake.ticks import accept_key, encode_frame, read_frame, tick_frame, tick_packet

DUMP_COLUMNS = ["instrument_token", "exchange_token", "tradingsymbol", "name", "last_price", "expiry", "strike",
                "tick_size", "lot_size", "instrument_type", "segment", "exchange"]
RATE_LIMITS = {"quote": 1, "orders": 10, "historical": 3, "other": 10}  # requests per second
TOKEN_ERROR = "Incorrect `api_key` or `access_token`."


class _Abort(Exception):
    """Close the connection without an answer."""


class FakeKite:
    """``with FakeKite() as fake: KiteConnect(fake.api_key, root=fake.root)``."""

    def __init__(
        self,
        market: MarketSource | None = None,
        *,
        clock: Clock | Callable[[], datetime] | None = None,
        api_key: str = "fakeapikey",
        api_secret: str = "fakeapisecret",
        access_token: str | None = None,
        user_id: str = "AB1234",
        host: str = "127.0.0.1",
        port: int = 0,
        opening_cash: float = 500_000.0,
        enforce_rate_limits: bool = False,
        require_market_protection: bool = False,
        hang_seconds: float = 1.0,
    ) -> None:
        self.market = market or SyntheticNiftyDay(date(2025, 10, 6))
        if clock is None:
            clock = SimClock(session_start(self.market.day) + timedelta(minutes=30))
        self.clock = clock
        self._now: Callable[[], datetime] = clock.now if hasattr(clock, "now") else clock  # type: ignore[assignment]
        self.api_key = api_key
        self.api_secret = api_secret
        self.user_id = user_id
        self.book = Book(self.market, self._now, opening_cash=opening_cash,
                         require_market_protection=require_market_protection)
        self.faults = Faults(hang_seconds)
        self.app = KiteApp(self)
        self.enforce_rate_limits = enforce_rate_limits
        self.requests: list[tuple[str, str, dict[str, list[str]]]] = []
        self._request_tokens: set[str] = set()
        self._access_tokens: set[str] = {access_token} if access_token else set()
        self._recent: dict[str, deque[datetime]] = {group: deque() for group in RATE_LIMITS}
        self._streams: list[_Stream] = []
        self._scheduled: list[tuple[datetime, Callable[[], object]]] = []  # KiteApp.at
        self._streams_changed = threading.Condition()
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._tokens_by_number = {i.instrument_token: i for i in self.market.instruments()}
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------
    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ticker_root(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def start(self) -> FakeKite:
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), name="fake-kite", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._released.set()
        self.drop_streams()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeKite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def now(self) -> datetime:
        return self._now()

    # -- sessions ------------------------------------------------------------------
    def issue_request_token(self) -> str:
        """What Kite's login page hands back after the user logs in."""
        token = secrets.token_hex(16)
        with self._lock:
            self._request_tokens.add(token)
        return token

    def issue_access_token(self) -> str:
        """Skip the login flow: a valid access token (tests, the fake-server command)."""
        token = secrets.token_hex(16)
        with self._lock:
            self._access_tokens.add(token)
        return token

    def expire_tokens(self) -> None:
        """Every session expires (Kite's 6 AM reset): all calls answer TokenException."""
        with self._lock:
            self._access_tokens.clear()

    def _exchange(self, form: dict[str, str]) -> dict[str, Any]:
        request_token = form.get("request_token", "")
        if form.get("api_key") != self.api_key:
            raise KiteError("InputException", "Invalid `api_key`.", 400)
        expected = hashlib.sha256((self.api_key + request_token + self.api_secret).encode()).hexdigest()
        with self._lock:
            if request_token not in self._request_tokens:
                raise KiteError("TokenException", "Token is invalid or has expired.", 403)
            if form.get("checksum") != expected:
                raise KiteError("TokenException", "Invalid checksum.", 403)
            self._request_tokens.discard(request_token)
        access_token = self.issue_access_token()
        return {
            "user_type": "individual", "email": "trader@example.com", "user_name": "Fake Trader",
            "user_shortname": "Fake", "broker": "ZERODHA", "exchanges": ["NSE", "NFO", "BSE"],
            "products": ["CNC", "NRML", "MIS"], "order_types": ["MARKET", "LIMIT", "SL", "SL-M"],
            "avatar_url": None, "user_id": self.user_id, "api_key": self.api_key, "access_token": access_token,
            "public_token": secrets.token_hex(8), "refresh_token": "", "enctoken": secrets.token_hex(8),
            "login_time": kite_time(self.now()), "meta": {"demat_consent": "physical"},
        }

    def _authorised(self, header: str | None) -> bool:
        if not header or not header.startswith("token "):
            return False
        api_key, _, access_token = header[len("token "):].partition(":")
        with self._lock:
            return api_key == self.api_key and access_token in self._access_tokens

    def _check_rate(self, group: str) -> None:
        if not self.enforce_rate_limits:
            return
        now = self.now()
        with self._lock:
            recent = self._recent[group]
            while recent and (now - recent[0]).total_seconds() >= 1.0:
                recent.popleft()
            if len(recent) >= RATE_LIMITS[group]:
                raise KiteError("NetworkException", "Too many requests", 429)
            recent.append(now)

    # -- ticker --------------------------------------------------------------------
    def wait_for_subscribers(self, count: int = 1, *, mode: str | None = None, timeout: float = 10.0) -> bool:
        """Block until ``count`` live streams subscribe (all in ``mode`` when given): a condition, not a sleep."""

        def ready() -> bool:
            live = [s for s in self._streams if s.alive and s.modes]
            if mode is not None:
                live = [s for s in live if all(m == mode for m in s.modes.values())]
            return len(live) >= count

        with self._streams_changed:
            return self._streams_changed.wait_for(ready, timeout=timeout)

    def wait_for_connections(self, total: int, *, timeout: float = 10.0) -> bool:
        """Block until ``total`` ticker connections have been accepted since start."""
        with self._streams_changed:
            return self._streams_changed.wait_for(lambda: self.connections_accepted >= total, timeout=timeout)

    connections_accepted = 0

    def push_ticks(self) -> int:
        """Send every subscribed stream one frame for the current time; returns frames sent."""
        sent = 0
        now = self.now()
        for stream in list(self._streams):
            packets = []
            for token, mode in list(stream.modes.items()):
                instrument = self._tokens_by_number.get(token)
                if instrument is None:
                    continue
                snap = self.market.snapshot(instrument.tradingsymbol, now)
                if snap is not None:
                    packets.append(tick_packet(token, mode, snap))
            if packets and stream.send(encode_frame(tick_frame(packets), 0x2)):
                sent += 1
        return sent

    def drop_streams(self) -> int:
        """Cut every ticker connection without a close frame (a dropped stream)."""
        dropped = 0
        for stream in list(self._streams):
            stream.drop()
            dropped += 1
        return dropped

    def _stream_opened(self, stream: _Stream) -> None:
        with self._streams_changed:
            self._streams.append(stream)
            self.connections_accepted += 1
            self._streams_changed.notify_all()

    def _stream_changed(self, stream: _Stream, closed: bool = False) -> None:
        with self._streams_changed:
            if closed and stream in self._streams:
                self._streams.remove(stream)
            self._streams_changed.notify_all()

    # -- REST ----------------------------------------------------------------------
    def handle(self, method: str, path: str, query: dict[str, list[str]], form: dict[str, str],
               authorization: str | None) -> tuple[int, str, bytes]:
        """Route one request; returns (status, content type, body)."""
        if method == "POST" and path == "/session/token":
            return _success(self._exchange(form))
        if method == "GET" and path == "/connect/login":
            return self._login_page(query)
        if not self._authorised(authorization):
            raise KiteError("TokenException", TOKEN_ERROR, 403)
        self._run_scheduled()
        self.book.evaluate()
        return self._route(method, path, query, form)

    def _run_scheduled(self) -> None:
        now = self.now()
        with self._lock:
            due = [action for moment, action in self._scheduled if moment <= now]
            self._scheduled = [(moment, action) for moment, action in self._scheduled if moment > now]
        for action in due:
            action()

    def _login_page(self, query: dict[str, list[str]]) -> tuple[int, str, bytes]:
        if query.get("api_key", [""])[0] != self.api_key:
            raise KiteError("InputException", "Invalid `api_key`.", 400)
        token = self.issue_request_token()
        text = f"Fake Kite login: logged in as {self.user_id}.\nrequest_token={token}\n"
        return 200, "text/plain; charset=utf-8", text.encode()

    def _route(self, method: str, path: str, query: dict[str, list[str]], form: dict[str, str]) -> tuple[int, str, bytes]:
        book = self.book
        if method == "DELETE" and path == "/session/token":
            with self._lock:
                self._access_tokens.discard(query.get("access_token", [""])[0])
            return _success(True)
        if path == "/user/profile" and method == "GET":
            self._check_rate("other")
            return _success({"user_id": self.user_id, "user_type": "individual", "email": "trader@example.com",
                             "user_name": "Fake Trader", "user_shortname": "Fake", "broker": "ZERODHA",
                             "exchanges": ["NSE", "NFO"], "products": ["CNC", "NRML", "MIS"],
                             "order_types": ["MARKET", "LIMIT", "SL", "SL-M"], "avatar_url": None, "meta": {}})
        if path.startswith("/user/margins") and method == "GET":
            self._check_rate("other")
            margins = book.margins()
            segment = path[len("/user/margins/"):] if path.startswith("/user/margins/") else ""
            if segment:
                if segment not in margins:
                    raise input_error(f"Invalid segment {segment!r}.")
                return _success(margins[segment])
            return _success(margins)
        if path == "/portfolio/positions" and method == "GET":
            self._check_rate("other")
            return _success(book.positions())
        if path == "/portfolio/holdings" and method == "GET":
            return _success([])
        if path == "/orders" and method == "GET":
            self._check_rate("other")
            with book.lock:
                return _success([dict(order) for order in book.orders.values()])
        if path == "/trades" and method == "GET":
            self._check_rate("other")
            with book.lock:
                return _success(list(book.trades))
        match = re.fullmatch(r"/orders/(\d{19})(/trades)?", path)
        if match and method == "GET":
            self._check_rate("other")
            with book.lock:
                if match[1] not in book.orders:
                    raise KiteError("OrderException", f"Order {match[1]} not found.", 400)
                if match[2]:
                    return _success([t for t in book.trades if t["order_id"] == match[1]])
                return _success(list(book.history[match[1]]))
        match = re.fullmatch(r"/orders/(regular|amo|co|iceberg|auction)(?:/(\d{19}))?", path)
        if match:
            self._check_rate("orders")
            variety, order_id = match[1], match[2]
            if method == "POST" and order_id is None:
                return _success({"order_id": book.place(variety, form)})
            if method == "PUT" and order_id:
                return _success({"order_id": book.modify(order_id, form)})
            if method == "DELETE" and order_id:
                return _success({"order_id": book.cancel(order_id)})
        if path in ("/quote", "/quote/ltp", "/quote/ohlc") and method == "GET":
            self._check_rate("quote")
            return _success(self._quotes(path, query.get("i", [])))
        if (path == "/instruments" or path.startswith("/instruments/")) and method == "GET" and "/historical/" not in path:
            exchange = path[len("/instruments/"):] if path.startswith("/instruments/") else ""
            return 200, "text/csv", self._dump(exchange)
        match = re.fullmatch(r"/instruments/historical/(\d+)/(\w+)", path)
        if match and method == "GET":
            self._check_rate("historical")
            return _success(self._historical(int(match[1]), match[2], query))
        raise KiteError("GeneralException", f"Route not found: {method} {path}", 404)

    def _quotes(self, path: str, keys: list[str]) -> dict[str, Any]:
        limit = 500 if path == "/quote" else 1000
        if len(keys) > limit:
            raise input_error(f"Too many instruments: at most {limit} per request.")
        now = self.now()
        data: dict[str, Any] = {}
        instruments = {i.key: i for i in self.market.instruments()}
        for key in keys:
            instrument = instruments.get(key)
            snap = self.market.snapshot(instrument.tradingsymbol, now) if instrument else None
            if instrument is None or snap is None:
                continue  # Kite leaves unknown instruments out of the answer
            if path == "/quote/ltp":
                data[key] = {"instrument_token": instrument.instrument_token, "last_price": snap.last}
                continue
            ohlc = {"open": snap.open, "high": snap.high, "low": snap.low, "close": snap.previous_close}
            if path == "/quote/ohlc":
                data[key] = {"instrument_token": instrument.instrument_token, "last_price": snap.last, "ohlc": ohlc}
                continue
            data[key] = {
                "instrument_token": instrument.instrument_token, "timestamp": kite_time(now),
                "last_trade_time": kite_time(now), "last_price": snap.last, "last_quantity": 75,
                "buy_quantity": 150_000, "sell_quantity": 120_000, "volume": snap.volume,
                "average_price": snap.last, "oi": snap.oi, "oi_day_high": snap.oi_day_high,
                "oi_day_low": snap.oi_day_low, "net_change": round(snap.last - snap.previous_close, 2),
                "lower_circuit_limit": 0.05, "upper_circuit_limit": round(snap.last * 3, 2), "ohlc": ohlc,
                "depth": {
                    "buy": [{"price": round(max(snap.last - 0.05 * (n + 1), 0.05), 2), "quantity": 75 * (n + 1),
                             "orders": n + 1} for n in range(5)],
                    "sell": [{"price": round(snap.last + 0.05 * (n + 1), 2), "quantity": 75 * (n + 1),
                              "orders": n + 1} for n in range(5)],
                },
            }
        return data

    def _dump(self, exchange: str) -> bytes:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(DUMP_COLUMNS)
        for i in self.market.instruments():
            if exchange and i.exchange != exchange.upper():
                continue
            writer.writerow([i.instrument_token, i.exchange_token, i.tradingsymbol, i.name, 0,
                             i.expiry.isoformat() if i.expiry else "", f"{i.strike:g}" if i.strike else 0,
                             f"{i.tick_size:g}" if i.tick_size else 0, i.lot_size, i.instrument_type, i.segment,
                             i.exchange])
        return buffer.getvalue().encode()

    def _historical(self, token: int, interval: str, query: dict[str, list[str]]) -> dict[str, Any]:
        seconds = {"minute": 60, "3minute": 180, "5minute": 300, "10minute": 600, "15minute": 900,
                   "30minute": 1800, "60minute": 3600, "day": 86400}.get(interval)
        if seconds is None:
            raise input_error(f"Invalid interval {interval!r}.")
        instrument = self._tokens_by_number.get(token)
        if instrument is None:
            raise input_error(f"Invalid instrument token {token}.")
        try:
            start = datetime.strptime(query["from"][0], "%Y-%m-%d %H:%M:%S").replace(tzinfo=IST)
            end = datetime.strptime(query["to"][0], "%Y-%m-%d %H:%M:%S").replace(tzinfo=IST)
        except (KeyError, ValueError):
            raise input_error("Invalid `from` or `to` date (yyyy-mm-dd hh:mm:ss).") from None
        with_oi = query.get("oi", ["0"])[0] == "1"
        end = min(end, self.now())  # nothing from the future
        rows = []
        for ts, o, h, low, c, v, oi in self.market.candles(instrument.tradingsymbol, start, end, seconds):
            if ts + timedelta(seconds=seconds) > end:
                continue  # only completed candles
            row: list[Any] = [ts.strftime("%Y-%m-%dT%H:%M:%S%z"), o, h, low, c, v]
            if with_oi:
                row.append(oi)
            rows.append(row)
        return {"candles": rows}


def _success(data: Any) -> tuple[int, str, bytes]:
    return 200, "application/json", json.dumps({"status": "success", "data": data}).encode()


def _error(error: KiteError) -> tuple[int, str, bytes]:
    body = {"status": "error", "message": error.message, "data": None, "error_type": error.error_type}
    return error.http_status, "application/json", json.dumps(body).encode()


class _Stream:
    """One ticker connection: its subscriptions and a lock for writes."""

    def __init__(self, connection: socket.socket, writer: Any) -> None:
        self.connection = connection
        self.writer = writer
        self.modes: dict[int, str] = {}
        self.lock = threading.Lock()
        self.alive = True

    def send(self, data: bytes) -> bool:
        with self.lock:
            if not self.alive:
                return False
            try:
                self.writer.write(data)
                self.writer.flush()
                return True
            except OSError:
                self.alive = False
                return False

    def drop(self) -> None:
        with self.lock:
            self.alive = False
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def _handler_for(fake: FakeKite) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "FakeKite/1.0"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def setup(self) -> None:
            super().setup()
            # headers and body go out in two writes: without this, Nagle holds the body until the
            # client's delayed ACK (~40 ms a request on Linux), which dominated a simulated day
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            query = parse_qs(parts.query)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            form: dict[str, str] = {}
            if raw and "json" not in (self.headers.get("Content-Type") or ""):
                form = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
            if method == "GET" and self.headers.get("Upgrade", "").lower() == "websocket":
                self._websocket(query)
                return
            fake.requests.append((method, parts.path, query))  # every request, faulted or not
            armed = fake.faults.take(method, parts.path)
            fault = armed.kind if armed is not None else None
            then = armed.then if armed is not None else None
            try:
                if fault in ("hang", "disconnect"):
                    if then is not None:
                        then()
                    if fault == "hang":
                        fake._released.wait(fake.faults.hang_seconds)
                    raise _Abort
                if fault in ERRORS:
                    if then is not None:
                        then()
                    status, error_type, message = ERRORS[fault]
                    raise KiteError(error_type, message, status)
                status, content_type, body = fake.handle(method, parts.path, query, form,
                                                         self.headers.get("Authorization"))
                if fault == "timeout":  # applied, but the answer never arrives in time
                    if then is not None:
                        then()
                    fake._released.wait(fake.faults.hang_seconds)
                    raise _Abort
            except _Abort:
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            except KiteError as error:
                status, content_type, body = _error(error)
            except Exception as error:  # a bug in the fake must still answer like Kite
                status, content_type, body = _error(KiteError("GeneralException", f"fake error: {error}", 500))
            headers = {"Content-Type": content_type}
            if content_type == "text/csv" and "gzip" in (self.headers.get("Accept-Encoding") or ""):
                body = gzip.compress(body)
                headers["Content-Encoding"] = "gzip"
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802
            self._serve("GET")

        def do_POST(self) -> None:  # noqa: N802
            self._serve("POST")

        def do_PUT(self) -> None:  # noqa: N802
            self._serve("PUT")

        def do_DELETE(self) -> None:  # noqa: N802
            self._serve("DELETE")

        def _websocket(self, query: dict[str, list[str]]) -> None:
            api_key = query.get("api_key", [""])[0]
            access_token = query.get("access_token", [""])[0]
            if not fake._authorised(f"token {api_key}:{access_token}"):
                self.send_response(403)
                self.send_header("Content-Length", "0")
                self.end_headers()
                self.close_connection = True
                return
            self.send_response(101, "Switching Protocols")
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept", accept_key(self.headers.get("Sec-WebSocket-Key", "")))
            self.end_headers()
            self.wfile.flush()
            self.close_connection = True
            stream = _Stream(self.connection, self.wfile)
            fake._stream_opened(stream)
            try:
                while stream.alive:
                    frame = read_frame(self.rfile)
                    if frame is None:
                        break
                    opcode, payload = frame
                    if opcode == 0x8:
                        stream.send(encode_frame(payload[:2], 0x8))
                        break
                    if opcode == 0x9:
                        stream.send(encode_frame(payload, 0xA))
                    elif opcode == 0x1:
                        self._command(stream, payload)
            except OSError:
                pass
            finally:
                stream.alive = False
                fake._stream_changed(stream, closed=True)

        def _command(self, stream: _Stream, payload: bytes) -> None:
            try:
                message = json.loads(payload)
                action, value = message["a"], message["v"]
            except (ValueError, KeyError, TypeError):
                return
            if action == "subscribe":
                for token in value:
                    stream.modes.setdefault(int(token), "quote")
            elif action == "unsubscribe":
                for token in value:
                    stream.modes.pop(int(token), None)
            elif action == "mode":
                mode, tokens = value
                for token in tokens:
                    stream.modes[int(token)] = mode
            fake._stream_changed(stream)

    return Handler
