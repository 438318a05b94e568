"""``[brokers.ibkr]``: validated once into a frozen config.

The core merges defaults < ``tradekit.toml`` < ``TRADEKIT__BROKERS__IBKR__<KEY>``
environment variables into ``BrokerContext.settings``; values from the
environment arrive as strings, so every key also accepts its text form
(``"7497"``, ``"true"``, ``"1,2,4"``). Errors name the key as
``brokers.ibkr.<key>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tradekit.errors import ConfigError

SECTION = "brokers.ibkr"
LIBRARIES = ("auto", "ib_async", "ib_insync")

DEFAULTS: Mapping[str, Any] = {
    "host": "127.0.0.1",
    "port": 7497,  # TWS paper; 7496 TWS live, 4002 Gateway paper, 4001 Gateway live
    "client_id": 17,
    "account": "",  # empty: the only account the login manages
    "readonly": False,
    "connect_timeout": 10.0,
    "request_timeout": 30.0,
    "retries": 3,
    "backoff_seconds": (1.0, 2.0, 4.0),
    "client_library": "auto",
    "symbols": (),
    "bar_what_to_show": "TRADES",
}

DOCS: Mapping[str, str] = {
    "host": "TWS / IB Gateway host",
    "port": "API port: 7497 TWS paper (default), 7496 TWS live, 4002 Gateway paper, 4001 Gateway live",
    "client_id": "API client id; must differ from every other API client on the same TWS",
    "account": "account id (DU... for paper); empty uses the only managed account",
    "readonly": "connect read-only: no order sync, and tradekit refuses to send orders",
    "connect_timeout": "seconds for the connect handshake and initial sync",
    "request_timeout": "seconds to wait for any one answer (order ack, reports, bars)",
    "retries": "tries for a transient failure (timeout, dropped connection)",
    "backoff_seconds": "waits between tries, e.g. [1, 2, 4]",
    "client_library": "auto (ib_async if installed, else ib_insync), ib_async or ib_insync",
    "symbols": "US stocks listed by instruments(), e.g. [\"TSLA\", \"AAPL\"]",
    "bar_what_to_show": "TRADES, MIDPOINT, BID or ASK for real-time and historical bars",
}


@dataclass(frozen=True)
class IBKRConfig:
    host: str = "127.0.0.1"
    port: int = 7497
    client_id: int = 17
    account: str = ""
    readonly: bool = False
    connect_timeout: float = 10.0
    request_timeout: float = 30.0
    retries: int = 3
    backoff_seconds: tuple[float, ...] = (1.0, 2.0, 4.0)
    client_library: str = "auto"
    symbols: tuple[str, ...] = field(default_factory=tuple)
    bar_what_to_show: str = "TRADES"

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> IBKRConfig:
        """Validate the merged section; unknown keys are errors (a typo must not be ignored)."""
        unknown = sorted(set(settings) - set(DEFAULTS))
        if unknown:
            raise ConfigError(f"{SECTION}.{unknown[0]}: unknown key (known: {', '.join(DEFAULTS)})")
        merged = {**DEFAULTS, **settings}
        host = _text(merged, "host")
        if not host:
            raise ConfigError(f"{SECTION}.host: must not be empty")
        port = _integer(merged, "port")
        if not 1 <= port <= 65535:
            raise ConfigError(f"{SECTION}.port: must be 1-65535, got {port}")
        client_id = _integer(merged, "client_id")
        if client_id < 0:
            raise ConfigError(f"{SECTION}.client_id: must be >= 0, got {client_id}")
        connect_timeout = _positive(merged, "connect_timeout")
        request_timeout = _positive(merged, "request_timeout")
        retries = _integer(merged, "retries")
        if retries < 1:
            raise ConfigError(f"{SECTION}.retries: must be >= 1, got {retries}")
        backoff = _numbers(merged, "backoff_seconds")
        library = _text(merged, "client_library").lower()
        if library not in LIBRARIES:
            raise ConfigError(f"{SECTION}.client_library: must be one of {', '.join(LIBRARIES)}, got {library!r}")
        what = _text(merged, "bar_what_to_show").upper()
        if what not in ("TRADES", "MIDPOINT", "BID", "ASK"):
            raise ConfigError(f"{SECTION}.bar_what_to_show: must be TRADES, MIDPOINT, BID or ASK, got {what!r}")
        symbols = tuple(s.upper() for s in _strings(merged, "symbols"))
        return cls(
            host=host, port=port, client_id=client_id, account=_text(merged, "account"),
            readonly=_boolean(merged, "readonly"), connect_timeout=connect_timeout, request_timeout=request_timeout,
            retries=retries, backoff_seconds=backoff, client_library=library, symbols=symbols, bar_what_to_show=what,
        )


def _text(values: Mapping[str, Any], key: str) -> str:
    value = values[key]
    if value is None:
        return ""
    if not isinstance(value, str | int):
        raise ConfigError(f"{SECTION}.{key}: expected text, got {value!r}")
    return str(value).strip()


def _integer(values: Mapping[str, Any], key: str) -> int:
    value = values[key]
    if isinstance(value, bool):
        raise ConfigError(f"{SECTION}.{key}: expected a whole number, got {value!r}")
    try:
        return int(str(value).strip()) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{SECTION}.{key}: expected a whole number, got {value!r}") from None


def _positive(values: Mapping[str, Any], key: str) -> float:
    value = values[key]
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{SECTION}.{key}: expected seconds, got {value!r}") from None
    if isinstance(value, bool) or not number > 0 or number != number:
        raise ConfigError(f"{SECTION}.{key}: must be a positive number of seconds, got {value!r}")
    return number


def _boolean(values: Mapping[str, Any], key: str) -> bool:
    value = values[key]
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{SECTION}.{key}: expected true or false, got {value!r}")


def _items(values: Mapping[str, Any], key: str) -> list[Any]:
    value = values[key]
    if isinstance(value, str):
        text = value.strip().strip("[]")
        return [part.strip().strip("\"'") for part in text.split(",") if part.strip()]
    if isinstance(value, list | tuple):
        return list(value)
    raise ConfigError(f"{SECTION}.{key}: expected a list, got {value!r}")


def _numbers(values: Mapping[str, Any], key: str) -> tuple[float, ...]:
    out = []
    for item in _items(values, key):
        try:
            number = float(item)
        except (TypeError, ValueError):
            raise ConfigError(f"{SECTION}.{key}: expected numbers, got {item!r}") from None
        if number < 0 or number != number:
            raise ConfigError(f"{SECTION}.{key}: waits must be >= 0, got {item!r}")
        out.append(number)
    return tuple(out)


def _strings(values: Mapping[str, Any], key: str) -> list[str]:
    out = []
    for item in _items(values, key):
        if not isinstance(item, str) or not item.strip():
            raise ConfigError(f"{SECTION}.{key}: expected symbols, got {item!r}")
        out.append(item.strip())
    return out
