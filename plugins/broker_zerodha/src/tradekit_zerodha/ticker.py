"""KiteTicker streaming in full mode (with OI), delivering tradekit ``Quote`` objects.

The official client runs on Twisted, whose reactor cannot be restarted in a
process: tradekit starts it once in a daemon thread and schedules every
ticker's connect on it. Dropped connections are re-established by the
client's reconnecting factory (first retry after about
``stream_reconnect_delay_seconds`` x e), and subscriptions are renewed on
every connect. ``on_quote`` runs on the reactor thread: keep it short and
thread-safe (hand the quote to the engine's queue).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from kiteconnect import KiteTicker
from tradekit.errors import BrokerError
from tradekit.model import InstrumentId, Quote

from tradekit_zerodha.config import ZerodhaConfig
from tradekit_zerodha.parsing import parse_tick

_reactor_running = threading.Event()
_reactor_lock = threading.Lock()


def _reactor() -> Any:
    """The Twisted reactor, running in its own daemon thread (started once per process)."""
    from twisted.internet import reactor

    with _reactor_lock:
        if not _reactor_running.is_set():
            if reactor.running:
                _reactor_running.set()
            else:
                reactor.callWhenRunning(_reactor_running.set)
                thread = threading.Thread(target=reactor.run, kwargs={"installSignalHandlers": False},
                                          name="kite-ticker-reactor", daemon=True)
                thread.start()
    if not _reactor_running.wait(10):
        raise BrokerError("Kite ticker: the Twisted reactor did not start")
    return reactor


class ZerodhaStream:
    """One KiteTicker connection for a set of instrument tokens."""

    def __init__(
        self,
        config: ZerodhaConfig,
        api_key: str,
        access_token: str,
        tokens: Mapping[int, InstrumentId],
        on_quote: Callable[[Quote], None],
        *,
        on_status: Callable[[str], None] | None = None,
    ) -> None:
        self.config = config
        self.tokens = dict(tokens)
        self.on_quote = on_quote
        self.on_status = on_status or (lambda message: None)
        self.connects = 0
        self.ticks = 0
        self.closed = False
        self.ticker = KiteTicker(api_key, access_token, root=config.ticker_root, reconnect=True,
                                 reconnect_max_tries=config.stream_reconnect_max_tries)
        self.ticker.on_connect = self._on_connect
        self.ticker.on_ticks = self._on_ticks
        self.ticker.on_close = self._on_close
        self.ticker.on_reconnect = self._on_reconnect
        self.ticker.on_noreconnect = self._on_noreconnect

    def start(self) -> None:
        _reactor().callFromThread(self._connect)

    def _connect(self) -> None:
        self.ticker.connect(threaded=True)  # the reactor already runs: this only opens the socket
        factory = self.ticker.factory
        factory.initialDelay = factory.delay = self.config.stream_reconnect_delay_seconds

    def close(self) -> None:
        """Stop the stream and its reconnects (the reactor keeps running for other streams)."""
        if self.closed:
            return
        self.closed = True
        if _reactor_running.is_set():
            _reactor().callFromThread(self.ticker.close)

    @property
    def connected(self) -> bool:
        return bool(self.ticker.is_connected())

    def _on_connect(self, ws: KiteTicker, response: Any) -> None:
        self.connects += 1
        tokens = list(self.tokens)
        ws.subscribe(tokens)
        ws.set_mode(ws.MODE_FULL, tokens)
        self.on_status(f"zerodha: ticker connected ({len(tokens)} instruments, full mode)")

    def _on_ticks(self, ws: KiteTicker, ticks: list[dict[str, Any]]) -> None:
        for tick in ticks:
            instrument_id = self.tokens.get(int(tick.get("instrument_token") or 0))
            if instrument_id is None:
                continue
            try:
                quote = parse_tick(tick, instrument_id)
            except (ValueError, TypeError) as error:
                self.on_status(f"zerodha: tick for {instrument_id} rejected: {error}")
                continue
            if quote is None:
                continue
            self.ticks += 1
            try:
                self.on_quote(quote)
            except Exception as error:  # a consumer bug must not kill the reactor thread
                self.on_status(f"zerodha: quote handler failed on {instrument_id}: {error!r}")

    def _on_close(self, ws: KiteTicker, code: Any, reason: Any) -> None:
        if not self.closed:
            self.on_status(f"zerodha: ticker connection closed ({code}); reconnecting")

    def _on_reconnect(self, ws: KiteTicker, attempts: int) -> None:
        self.on_status(f"zerodha: ticker reconnecting (attempt {attempts})")

    def _on_noreconnect(self, ws: KiteTicker) -> None:
        self.on_status("zerodha: ticker gave up reconnecting; quotes fall back to polling")
