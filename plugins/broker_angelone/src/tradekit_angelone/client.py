"""The smartapi-python ``SmartConnect`` client, contained, with raw calls named after SmartAPI's endpoints.

smartapi-python 1.5.5 has habits tradekit must not inherit (read from its
installed source, ``SmartApi/smartConnect.py``):

- Its class body runs ``requests.get('https://api.ipify.org')`` with no
  timeout while ``SmartApi`` is being *imported*; the answer is thrown away
  (the ``finally`` overwrites it with a constant). ``import_smartconnect``
  imports it lazily, only when a broker connects, with ``requests.get``
  refusing for the length of the import, so no socket is opened; the
  ``logzero`` error it logs about that is muted for the same moment.
- ``SmartConnect()`` creates ``logs/<date>/app.log`` relative to the
  *current directory* and points logzero's global default logger at it.
  ``new_smartconnect`` constructs it with the cwd switched (under a lock) to
  tradekit's broker state dir, removes logzero's stderr handler (its error
  lines carry the API key and request headers) and redacts known secrets
  from what still goes to the file.
- Bodies with ``status: false`` (sometimes the *string* ``"false"``) are
  returned, not raised; only bodies with an ``error_type`` raise.
  ``check_envelope`` turns them into tradekit errors.
- ``placeOrder`` swallows the failure message (returns None), so we use
  ``placeOrderFullResponse``; ``renewAccessToken`` never returns the new
  jwt, so refresh uses ``generateToken``.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tradekit.errors import AuthError, BrokerError, OrderRejected, TemporaryBrokerError

LOGIN_HINT = "run `tradekit angelone login`"
RATE_LIMIT_TEXTS = ("exceeding access rate", "too many requests", "rate limit")

# errorcode -> what it means; the session is gone and a login (or refresh) is needed
SESSION_CODES = {
    "AG8001": "invalid token",
    "AG8002": "token expired",
    "AG8003": "token missing",
    "AB8050": "invalid refresh token",
    "AB8051": "refresh token expired",
    "AB1010": "AMX session expired",
    "AB1011": "client not logged in",
}
REFRESHABLE_CODES = frozenset({"AG8001", "AG8002"})
# Angel's "Something went wrong, try after sometime" and internal errors: safe to retry
TRANSIENT_CODES = frozenset({"AB1004", "AB2001"})

_IMPORT_LOCK = threading.Lock()
_CWD_LOCK = threading.Lock()
_SMARTCONNECT: Any = None


class SessionError(AuthError):
    """The SmartAPI session is invalid or expired; ``code`` is Angel's errorcode."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class _Redactor(logging.Filter):
    """Replaces known secrets in records that reach logzero's handlers."""

    def __init__(self) -> None:
        super().__init__("tradekit-angelone-redactor")
        self.secrets: set[str] = set()

    def add(self, *secrets: str | None) -> None:
        self.secrets.update(secret for secret in secrets if secret and len(secret) >= 4)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = message
        for secret in self.secrets:
            redacted = redacted.replace(secret, "***")
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


REDACTOR = _Redactor()


def import_smartconnect() -> Any:
    """``SmartApi.SmartConnect``, imported once without its import-time network call."""
    global _SMARTCONNECT
    if _SMARTCONNECT is not None:
        return _SMARTCONNECT
    with _IMPORT_LOCK:
        if _SMARTCONNECT is None:
            import logzero
            import requests

            def refuse(url: str, *args: object, **kwargs: object) -> Any:
                raise requests.ConnectionError(f"tradekit-angelone refuses SmartApi's import-time request to {url}")

            original_get = requests.get
            default_logger = logzero.logger
            was_disabled = default_logger.disabled
            requests.get = refuse  # type: ignore[assignment]
            default_logger.disabled = True
            try:
                from SmartApi.smartConnect import SmartConnect
            finally:
                requests.get = original_get  # type: ignore[assignment]
                default_logger.disabled = was_disabled
            _SMARTCONNECT = SmartConnect
    return _SMARTCONNECT


def new_smartconnect(*, api_key: str, root: str, timeout: float, log_dir: Path) -> Any:
    """A ``SmartConnect`` whose log files land in ``log_dir`` and whose logs never reach stderr."""
    import logzero

    smart_connect = import_smartconnect()
    log_dir.mkdir(parents=True, exist_ok=True)
    REDACTOR.add(api_key)
    logger = logzero.logger
    for handler in list(logger.handlers):
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
            logger.removeHandler(handler)
    if REDACTOR not in logger.filters:
        logger.addFilter(REDACTOR)
    with _CWD_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # its ssl.OP_NO_TLSv1 options
        previous = os.getcwd()
        os.chdir(log_dir)
        try:
            client = smart_connect(api_key=api_key, root=root, timeout=timeout)
        finally:
            os.chdir(previous)
    return client


@dataclass(frozen=True)
class Session:
    """Tokens of one SmartAPI login; persisted under tradekit's home, never in the config."""

    client_code: str
    jwt_token: str
    refresh_token: str
    feed_token: str
    created_at: str  # ISO timestamp of the login or refresh

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(asdict(self), handle)
        os.replace(temporary, path)

    @classmethod
    def load(cls, path: Path) -> Session | None:
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text())
            return cls(**{key: str(data[key]) for key in cls.__dataclass_fields__})
        except (ValueError, KeyError, TypeError):
            raise AuthError(f"angelone: session file {path} is unreadable; {LOGIN_HINT}") from None


def _rate_limited(text: str) -> bool:
    lowered = text.lower()
    return any(marker in lowered for marker in RATE_LIMIT_TEXTS)


def _ok(status: Any) -> bool:
    return status is True or str(status).strip().lower() == "true"


def check_envelope(response: Any, operation: str, *, order: bool = False) -> Any:
    """The ``data`` of a SmartAPI answer, or the tradekit error its ``status: false`` body means."""
    if not isinstance(response, Mapping):
        raise BrokerError(f"angelone {operation}: unexpected answer {response!r:.120}")
    if _ok(response.get("status")):
        return response.get("data")
    code = str(response.get("errorcode") or "").strip()
    message = str(response.get("message") or "no message").strip()
    detail = f"{message} ({code})" if code else message
    if code in SESSION_CODES:
        raise SessionError(f"angelone {operation}: {SESSION_CODES[code]}: {detail}; {LOGIN_HINT}", code)
    if code in TRANSIENT_CODES or _rate_limited(message):
        raise TemporaryBrokerError(f"angelone {operation}: {detail}")
    if order:
        raise OrderRejected(f"angelone {operation} rejected: {detail}")
    raise BrokerError(f"angelone {operation} failed: {detail}")


def translate_exception(error: Exception, operation: str) -> BrokerError:
    """A requests or SmartApi exception -> the tradekit error it means."""
    import requests

    if isinstance(error, BrokerError):
        return error
    if isinstance(error, requests.Timeout):
        return TemporaryBrokerError(f"angelone {operation}: timed out ({error.__class__.__name__})")
    if isinstance(error, requests.ConnectionError):
        return TemporaryBrokerError(f"angelone {operation}: connection failed ({error.__class__.__name__})")
    if isinstance(error, requests.RequestException):
        return TemporaryBrokerError(f"angelone {operation}: {error.__class__.__name__}")
    name = error.__class__.__name__
    text = str(error)
    if _rate_limited(text):
        return TemporaryBrokerError(f"angelone {operation}: rate limited by SmartAPI")
    if name == "TokenException":
        return SessionError(f"angelone {operation}: session rejected: {text}; {LOGIN_HINT}")
    if name in ("DataException", "NetworkException"):
        return TemporaryBrokerError(f"angelone {operation}: {text:.160}")
    return BrokerError(f"angelone {operation}: {name}: {text:.160}")


class SmartClient:
    """Raw SmartAPI calls through the unmodified client; each returns ``data`` or raises a tradekit error."""

    def __init__(self, *, api_key: str, root: str, timeout: float, log_dir: Path) -> None:
        self._smart = new_smartconnect(api_key=api_key, root=root, timeout=timeout, log_dir=log_dir)
        self.session: Session | None = None

    @property
    def smart(self) -> Any:
        """The underlying ``SmartConnect`` (tests inspect it; adapters should not)."""
        return self._smart

    def _run(self, operation: str, call: Callable[[], Any], *, order: bool = False) -> Any:
        try:
            response = call()
        except Exception as error:  # noqa: BLE001 - every client failure is translated here
            raise translate_exception(error, operation) from error
        return check_envelope(response, operation, order=order)

    def use_session(self, session: Session) -> None:
        self.session = session
        self._smart.setAccessToken(session.jwt_token)
        self._smart.setRefreshToken(session.refresh_token)
        self._smart.setFeedToken(session.feed_token)
        self._smart.setUserId(session.client_code)
        REDACTOR.add(session.jwt_token, session.refresh_token, session.feed_token)

    def login(self, client_code: str, pin: str, totp: str, now_iso: str) -> Session:
        """``loginByPassword`` then ``getProfile`` (inside ``generateSession``)."""
        REDACTOR.add(pin, totp)
        try:
            response = self._smart.generateSession(client_code, pin, totp)
        except (TypeError, KeyError):  # generateSession indexes a failed getProfile body
            raise AuthError(f"angelone login: profile lookup failed after login; {LOGIN_HINT}") from None
        except Exception as error:  # noqa: BLE001
            raise translate_exception(error, "login") from error
        if not (isinstance(response, Mapping) and _ok(response.get("status"))):
            try:
                check_envelope(response, "login")
            except (SessionError, TemporaryBrokerError):
                raise
            except BrokerError as error:
                raise AuthError(f"{error}; check the client code, PIN and TOTP secret") from None
        session = Session(
            client_code=str(self._smart.userId or client_code),
            jwt_token=str(self._smart.access_token),
            refresh_token=str(self._smart.refresh_token),
            feed_token=str(self._smart.feed_token),
            created_at=now_iso,
        )
        self.use_session(session)
        return session

    def refresh(self, now_iso: str) -> Session:
        """``generateTokens`` with the refresh token: a new jwt without the PIN and TOTP."""
        if self.session is None:
            raise AuthError(f"angelone: not logged in; {LOGIN_HINT}")
        try:
            response = self._smart.generateToken(self.session.refresh_token)
        except (TypeError, KeyError):  # generateToken indexes data of a failed body
            raise SessionError(f"angelone token refresh refused; {LOGIN_HINT}", "AB8050") from None
        except Exception as error:  # noqa: BLE001
            raise translate_exception(error, "token refresh") from error
        data = check_envelope(response, "token refresh") or {}
        session = Session(
            client_code=self.session.client_code,
            jwt_token=str(data.get("jwtToken") or self._smart.access_token),
            refresh_token=str(data.get("refreshToken") or self.session.refresh_token),
            feed_token=str(data.get("feedToken") or self._smart.feed_token),
            created_at=now_iso,
        )
        self.use_session(session)
        return session

    def profile(self) -> Any:
        token = self.session.refresh_token if self.session else ""
        return self._run("getProfile", lambda: self._smart.getProfile(token))

    def place_order(self, params: dict[str, str]) -> str:
        data = self._run("placeOrder", lambda: self._smart.placeOrderFullResponse(dict(params)), order=True)
        order_id = (data or {}).get("orderid") if isinstance(data, Mapping) else None
        if not order_id:
            raise BrokerError(f"angelone placeOrder: answer has no orderid: {data!r:.120}")
        return str(order_id)

    def modify_order(self, params: dict[str, str]) -> Any:
        return self._run("modifyOrder", lambda: self._smart.modifyOrder(dict(params)), order=True)

    def cancel_order(self, order_id: str, variety: str) -> Any:
        return self._run("cancelOrder", lambda: self._smart.cancelOrder(order_id, variety), order=True)

    def order_book(self) -> list[Mapping[str, Any]]:
        return list(self._run("getOrderBook", self._smart.orderBook) or [])

    def trade_book(self) -> list[Mapping[str, Any]]:
        return list(self._run("getTradeBook", self._smart.tradeBook) or [])

    def position(self) -> list[Mapping[str, Any]]:
        return list(self._run("getPosition", self._smart.position) or [])

    def rms_limit(self) -> Mapping[str, Any]:
        return self._run("getRMS", self._smart.rmsLimit) or {}

    def market_quote(self, mode: str, exchange_tokens: Mapping[str, Iterable[str]]) -> Mapping[str, Any]:
        tokens = {exchange: list(values) for exchange, values in exchange_tokens.items()}
        return self._run("quote", lambda: self._smart.getMarketData(mode, tokens)) or {}

    def candle_data(self, params: dict[str, str]) -> list[Any]:
        return list(self._run("getCandleData", lambda: self._smart.getCandleData(dict(params))) or [])
