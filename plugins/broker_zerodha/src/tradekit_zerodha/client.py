"""Raw Kite calls through the official ``kiteconnect`` client, one method per endpoint.

Every call is rate-limited (Kite: quotes 1/s, orders 10/s, historical 3/s,
others 10/s) and its failures translated into tradekit's error tree:
timeouts, dropped connections, 429 and 5xx become ``TemporaryBrokerError``
(retried by the shared ``RetryPolicy``, except order placement, which the
broker routes through ``place_order_safely``); ``TokenException`` becomes
``AuthError`` naming the login command; ``InputException`` and
``OrderException`` on order calls become ``OrderRejected``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import requests
from kiteconnect import KiteConnect
from kiteconnect import exceptions as kite_errors
from tradekit.clock import Clock
from tradekit.errors import AuthError, BrokerError, OrderRejected, TemporaryBrokerError
from tradekit.retry import RateLimiter, RetryPolicy

from tradekit_zerodha.config import LOGIN_COMMAND, ZerodhaConfig

T = TypeVar("T")


def auth_error(detail: str) -> AuthError:
    return AuthError(f"Kite session invalid or expired ({detail}): run `{LOGIN_COMMAND}`")


def translate(endpoint: str, error: Exception, *, order_call: bool = False) -> Exception:
    """The tradekit error for a kiteconnect/requests failure on ``endpoint``."""
    if isinstance(error, requests.exceptions.Timeout):
        return TemporaryBrokerError(f"Kite {endpoint}: timed out")
    if isinstance(error, requests.exceptions.ConnectionError):
        return TemporaryBrokerError(f"Kite {endpoint}: connection failed or dropped")
    if isinstance(error, requests.exceptions.RequestException):
        return TemporaryBrokerError(f"Kite {endpoint}: {type(error).__name__}")
    if isinstance(error, kite_errors.TokenException):
        return auth_error(str(error))
    if isinstance(error, kite_errors.KiteException):
        code = getattr(error, "code", 500) or 500
        message = str(error) or type(error).__name__
        if code == 429 or code >= 500 or isinstance(error, (kite_errors.NetworkException, kite_errors.DataException)):
            return TemporaryBrokerError(f"Kite {endpoint}: {message} (HTTP {code})")
        if isinstance(error, (kite_errors.InputException, kite_errors.OrderException)):
            if order_call:
                return OrderRejected(f"Kite rejected the order: {message}")
            return BrokerError(f"Kite {endpoint}: {message}")
        if isinstance(error, kite_errors.PermissionException):
            return BrokerError(f"Kite {endpoint}: permission denied ({message})")
        return BrokerError(f"Kite {endpoint}: {message} (HTTP {code})")
    return error


class KiteClient:
    """The adapter's only door to Kite. Owns the ``KiteConnect`` session and the rate limiters."""

    def __init__(self, config: ZerodhaConfig, api_key: str, access_token: str | None, clock: Clock) -> None:
        self.config = config
        self.kite = KiteConnect(api_key, access_token=access_token, root=config.root, timeout=config.timeout_seconds)
        self.retry = RetryPolicy(tries=config.retry_tries, backoff_seconds=config.retry_backoff_seconds,
                                 sleep=clock.sleep)

        def limiter(rate: float) -> RateLimiter:
            return RateLimiter(rate, 1.0, clock=clock.monotonic, sleep=clock.sleep)

        self.limiters = {
            "quote": limiter(config.quote_rate_per_second),
            "orders": limiter(config.order_rate_per_second),
            "historical": limiter(config.historical_rate_per_second),
            "other": limiter(config.other_rate_per_second),
        }
        self.retries: list[tuple[str, int, str]] = []  # (endpoint, attempt, error) for logs and tests

    # -- plumbing ------------------------------------------------------------------
    def once(self, endpoint: str, group: str, operation: Callable[[], T], *, order_call: bool = False) -> T:
        """One rate-limited attempt with errors translated (no retry)."""
        self.limiters[group].acquire()
        try:
            return operation()
        except Exception as error:  # translated below; unknown errors propagate unchanged
            translated = translate(endpoint, error, order_call=order_call)
            if translated is error:
                raise
            raise translated from error

    def call(self, endpoint: str, group: str, operation: Callable[[], T], *, order_call: bool = False) -> T:
        """``once`` under the retry policy: for reads and idempotent calls only."""

        def note(attempt: int, error: Exception) -> None:
            self.retries.append((endpoint, attempt, str(error)))

        return self.retry.call(lambda: self.once(endpoint, group, operation, order_call=order_call), on_retry=note)

    # -- session and user ----------------------------------------------------------
    def session_token(self, request_token: str, api_secret: str) -> dict[str, Any]:
        """POST /session/token (not retried: a request token is single-use)."""
        return self.once("POST /session/token", "other", lambda: self.kite.generate_session(request_token, api_secret))

    def user_profile(self) -> dict[str, Any]:
        return self.call("GET /user/profile", "other", self.kite.profile)

    def user_margins(self) -> dict[str, Any]:
        return self.call("GET /user/margins", "other", self.kite.margins)

    # -- orders --------------------------------------------------------------------
    def orders(self) -> list[dict[str, Any]]:
        return self.call("GET /orders", "other", self.kite.orders)

    def order_history(self, order_id: str) -> list[dict[str, Any]]:
        return self.call("GET /orders/{order_id}", "other", lambda: self.kite.order_history(order_id))

    def trades(self) -> list[dict[str, Any]]:
        return self.call("GET /trades", "other", self.kite.trades)

    def orders_place(self, **params: Any) -> str:
        """POST /orders/{variety}, exactly once: the caller decides about retrying."""
        variety = params.pop("variety", self.config.variety)
        return str(self.once("POST /orders", "orders", lambda: self.kite.place_order(variety=variety, **params),
                             order_call=True))

    def orders_modify(self, order_id: str, **params: Any) -> str:
        variety = params.pop("variety", self.config.variety)
        return str(self.call("PUT /orders", "orders",
                             lambda: self.kite.modify_order(variety=variety, order_id=order_id, **params),
                             order_call=True))

    def orders_cancel(self, order_id: str, variety: str | None = None) -> str:
        return str(self.once("DELETE /orders", "orders",
                             lambda: self.kite.cancel_order(variety=variety or self.config.variety, order_id=order_id),
                             order_call=True))

    # -- portfolio -----------------------------------------------------------------
    def portfolio_positions(self) -> dict[str, list[dict[str, Any]]]:
        return self.call("GET /portfolio/positions", "other", self.kite.positions)

    # -- market data ---------------------------------------------------------------
    def quote(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        return self.call("GET /quote", "quote", lambda: self.kite.quote(keys))

    def instruments(self, exchange: str | None = None) -> list[dict[str, Any]]:
        return self.call("GET /instruments", "other", lambda: self.kite.instruments(exchange))

    def instruments_historical(self, token: int, start: datetime, end: datetime, interval: str,
                               oi: bool = True) -> list[dict[str, Any]]:
        return self.call("GET /instruments/historical", "historical",
                         lambda: self.kite.historical_data(token, start, end, interval, continuous=False, oi=oi))
