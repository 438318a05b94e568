"""The control endpoint inside ``tradekit run``: HTTP on 127.0.0.1, a per-run token, the engine's thread does the work.

The HTTP thread only parses a request, checks the token and queues it;
``ControlChannel.wait_until`` (called by the engine between steps, while it
waits for the next timer) executes queued requests on the engine's thread
and hands the answer back. ``<home>/control.json`` (mode 0600) tells
clients the port, the token and the pid; it is removed when the run ends
and ignored when its pid is gone (kill -9).
"""

from __future__ import annotations

import hmac
import json
import os
import queue
import secrets
import threading
import time
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from tradekit.clock import LiveClock
from tradekit.errors import TradekitError

INFO_FILE = "control.json"
REPLY_TIMEOUT = 30.0  # seconds a request waits for the engine (a step with slow broker calls)
API_PATH = "/v1"


def info_path(home: Path) -> Path:
    return home / INFO_FILE


class ControlChannel:
    """Requests waiting for the engine's thread, and the replay pace (wall seconds per step)."""

    def __init__(self, pace: float = 0.0, log: Callable[[str], None] = lambda line: None) -> None:
        self.pace = pace
        self._queue: queue.Queue[tuple[dict[str, Any], queue.Queue[dict[str, Any]]]] = queue.Queue()
        self._closed = False
        self._log = log

    def submit(self, request: dict[str, Any], timeout: float = REPLY_TIMEOUT) -> dict[str, Any]:
        """From the HTTP thread: queue a request and wait for the engine's answer."""
        if self._closed:
            return {"ok": False, "error": "the engine is stopping"}
        reply: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=1)
        self._queue.put((request, reply))
        try:
            return reply.get(timeout=timeout)
        except queue.Empty:
            return {"ok": False, "error": f"the engine did not answer within {timeout:.0f}s (busy in a step?)"}

    def call_soon(self, work: Callable[[], object]) -> None:
        """From any thread: run ``work`` on the engine's thread as soon as it waits (streamed ticks wake it so)."""
        self._queue.put((work, None))  # type: ignore[arg-type]

    def poll(self, engine: Any) -> None:
        """Execute every queued request now (engine thread)."""
        while self._queue.queue:  # the deque itself: an empty queue (nearly every step) costs no lock and no exception
            try:
                request, reply = self._queue.get_nowait()
            except queue.Empty:
                return
            self._handle(engine, request, reply)

    def wait_until(self, engine: Any, moment: datetime) -> None:
        """Serve requests until the next step is due: ``pace`` wall seconds (replay) or the wall clock (live)."""
        self.poll(engine)
        started = time.monotonic()
        wall_clock = isinstance(engine.clock, LiveClock)  # any other clock jumps to the moment (replays, tests)
        while True:
            wall_left = self.pace - (time.monotonic() - started)
            clock_left = (moment - engine.clock.now()).total_seconds() if wall_clock else 0.0
            left = max(wall_left, clock_left)
            if left <= 0:
                break
            try:
                request, reply = self._queue.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            self._handle(engine, request, reply)
        engine.clock.sleep_until(moment)
        self.poll(engine)  # what arrived while a simulated clock jumped (streamed ticks) goes before the step

    def _handle(self, engine: Any, request: Any, reply: queue.Queue[dict[str, Any]] | None) -> None:
        if reply is None:  # work queued with call_soon
            request()
            return
        from tradekit.control.ops import dispatch

        try:
            answer = {"ok": True, "result": dispatch(engine, request)}
        except TradekitError as error:
            answer = {"ok": False, "error": str(error)}
        except Exception as error:  # a bug in an operation must not kill a trading engine
            self._log(f"control operation {request.get('op')!r} failed: {type(error).__name__}: {error}")
            answer = {"ok": False, "error": f"{type(error).__name__}: {error}"}
        reply.put(answer)

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                _, reply = self._queue.get_nowait()
            except queue.Empty:
                return
            reply.put({"ok": False, "error": "the engine stopped before it could answer"})


def _handler(channel: ControlChannel, token: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
            return None  # the engine's output is the trading log

        def _send(self, code: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:  # noqa: N802 - stdlib name
            given = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            if self.path != API_PATH or not hmac.compare_digest(given.encode(), token.encode()):
                self._send(401 if self.path == API_PATH else 404, {"ok": False, "error": "bad token or path"})
                return
            try:
                length = int(self.headers.get("Content-Length", "0"))
                request = json.loads(self.rfile.read(length) or b"{}")
                if not isinstance(request, dict):
                    raise ValueError("expected a JSON object")
            except ValueError as error:
                self._send(400, {"ok": False, "error": f"bad request: {error}"})
                return
            self._send(200, channel.submit(request))

    return Handler


class ControlServer:
    """The endpoint of one ``run``: start() before the engine runs, close() after (always)."""

    def __init__(self, home: Path, channel: ControlChannel, *, store: Path, strategy: str) -> None:
        self.home = home
        self.channel = channel
        self.token = secrets.token_urlsafe(24)
        self._store = store
        self._strategy = strategy
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.server_address[1] if self._server is not None else 0

    def start(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.channel, self.token))
        self._server.daemon_threads = True
        server = self._server  # a short poll interval: close() (shutdown) returns within 50 ms, not 0.5 s, every day of a backtest
        self._thread = threading.Thread(target=lambda: server.serve_forever(poll_interval=0.05), name="tradekit-control", daemon=True)
        self._thread.start()
        info = {"pid": os.getpid(), "port": self.port, "token": self.token, "store": str(self._store),
                "strategy": self._strategy}
        path = info_path(self.home)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(handle, "w") as stream:
            json.dump(info, stream)
        os.replace(temporary, path)

    def close(self) -> None:
        self.channel.close()
        path = info_path(self.home)
        try:
            if json.loads(path.read_text()).get("pid") == os.getpid():
                path.unlink()
        except (OSError, ValueError):
            pass
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
