"""``[brokers.zerodha]``: the adapter's frozen, validated configuration.

The core merges defaults < ``tradekit.toml`` ``[brokers.zerodha]`` <
``TRADEKIT__BROKERS__ZERODHA__<KEY>`` environment variables into one mapping
and hands it over as ``BrokerContext.settings``. Values set through the
environment arrive as strings, so every key accepts its string form too
("30", "true", "NIFTY,BANKNIFTY"). Secrets never live here: only the *names*
of the environment variables that hold them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from tradekit.errors import ConfigError

SECTION = "brokers.zerodha"
ENV_PREFIX = "TRADEKIT__BROKERS__ZERODHA__"
DEFAULT_ROOT = "https://api.kite.trade"
DEFAULT_TICKER_ROOT = "wss://ws.kite.trade"
DEFAULT_LOGIN_URL = "https://kite.zerodha.com/connect/login"
LOGIN_COMMAND = "tradekit zerodha login"
KITE_QUOTE_LIMIT = 500


@dataclass(frozen=True)
class ZerodhaConfig:
    """Every key of ``[brokers.zerodha]`` with its default (see README.md)."""

    api_key_env: str = "KITE_API_KEY"
    api_secret_env: str = "KITE_API_SECRET"
    access_token_env: str = "KITE_ACCESS_TOKEN"
    root: str = DEFAULT_ROOT
    ticker_root: str = DEFAULT_TICKER_ROOT
    login_url: str = ""  # empty: Kite's own login page, or <root>/connect/login when root is not Kite's
    timeout_seconds: float = 30.0
    retry_tries: int = 3
    retry_backoff_seconds: tuple[float, ...] = (1.0, 2.0, 4.0)
    quote_rate_per_second: float = 1.0
    order_rate_per_second: float = 10.0
    historical_rate_per_second: float = 3.0
    other_rate_per_second: float = 10.0
    quote_batch_size: int = KITE_QUOTE_LIMIT
    product: str = "MIS"
    variety: str = "regular"
    market_protection: int = -1  # -1: Kite's automatic protection; 0: do not send the field
    stop_limit_buffer_percent: float = 5.0  # SL-M is refused on options: stops become SL with this slack
    segments: tuple[str, ...] = ("NFO-OPT", "NFO-FUT")  # instrument segments kept in the dump
    underlyings: tuple[str, ...] = ("NIFTY", "BANKNIFTY", "FINNIFTY", "MIDCPNIFTY")  # positions kept by sync
    underlying: str = "NIFTY"
    index_symbol: str = "NSE:NIFTY 50"
    stale_quote_seconds: float = 0.0  # 0: off; otherwise quotes older than this are dropped
    stream: bool = True  # KiteTicker full-mode quotes for the engine's exit monitor (engine.stream_quotes); false: never
    stream_reconnect_max_tries: int = 50
    stream_reconnect_delay_seconds: float = 1.0  # first reconnect after about this times e; grows to 60 s

    @property
    def is_real_kite(self) -> bool:
        return self.root.rstrip("/") == DEFAULT_ROOT


def _as_str(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    return value.strip()


def _as_url(value: Any) -> str:
    text = _as_str(value).rstrip("/")
    scheme, sep, rest = text.partition("://")
    if not sep or scheme not in {"http", "https", "ws", "wss"} or not rest:
        raise ValueError(f"must be a URL like http://127.0.0.1:8000, got {value!r}")
    return text


def _as_optional_url(value: Any) -> str:
    if value in ("", None):
        return ""
    return _as_url(value)


def _as_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError("must be a number")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"must be a number, got {value!r}") from None


def _positive_float(value: Any) -> float:
    number = _as_float(value)
    if not number > 0:
        raise ValueError(f"must be positive, got {value!r}")
    return number


def _non_negative_float(value: Any) -> float:
    number = _as_float(value)
    if number < 0:
        raise ValueError(f"must be zero or positive, got {value!r}")
    return number


def _as_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("must be a whole number")
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(f"must be a whole number, got {value!r}")
    try:
        return int(str(value).strip()) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise ValueError(f"must be a whole number, got {value!r}") from None


def _positive_int(value: Any) -> int:
    number = _as_int(value)
    if number < 1:
        raise ValueError(f"must be at least 1, got {value!r}")
    return number


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"must be true or false, got {value!r}")


def _as_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        items = [part.strip() for part in value.split(",")]
    elif isinstance(value, (list, tuple)):
        items = [str(part).strip() for part in value]
    else:
        raise ValueError(f"must be a list of strings, got {value!r}")
    return tuple(item for item in items if item)


def _backoff(value: Any) -> tuple[float, ...]:
    items = _as_list(value) if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not items:
        raise ValueError(f"must be a non-empty list of seconds, got {value!r}")
    result = tuple(_non_negative_float(item) for item in items)
    return result


def _quote_batch(value: Any) -> int:
    number = _positive_int(value)
    if number > KITE_QUOTE_LIMIT:
        raise ValueError(f"Kite answers at most {KITE_QUOTE_LIMIT} instruments per quote call, got {number}")
    return number


def _choice(*allowed: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        text = _as_str(value)
        if text not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}, got {value!r}")
        return text

    return check


def _market_protection(value: Any) -> int:
    number = _as_int(value)
    if number != -1 and not 0 <= number <= 100:
        raise ValueError(f"must be -1 (automatic), 0 (off) or a percentage up to 100, got {value!r}")
    return number


def _index_symbol(value: Any) -> str:
    text = _as_str(value)
    if ":" not in text:
        raise ValueError(f"must be EXCHANGE:SYMBOL like 'NSE:NIFTY 50', got {value!r}")
    return text


_VALIDATORS: dict[str, Callable[[Any], Any]] = {
    "api_key_env": _as_str,
    "api_secret_env": _as_str,
    "access_token_env": _as_str,
    "root": _as_url,
    "ticker_root": _as_url,
    "login_url": _as_optional_url,
    "timeout_seconds": _positive_float,
    "retry_tries": _positive_int,
    "retry_backoff_seconds": _backoff,
    "quote_rate_per_second": _positive_float,
    "order_rate_per_second": _positive_float,
    "historical_rate_per_second": _positive_float,
    "other_rate_per_second": _positive_float,
    "quote_batch_size": _quote_batch,
    "product": _choice("MIS", "NRML", "CNC"),
    "variety": _choice("regular", "amo", "iceberg", "auction", "co"),
    "market_protection": _market_protection,
    "stop_limit_buffer_percent": _non_negative_float,
    "segments": _as_list,
    "underlyings": _as_list,
    "underlying": _as_str,
    "index_symbol": _index_symbol,
    "stale_quote_seconds": _non_negative_float,
    "stream": _as_bool,
    "stream_reconnect_max_tries": _positive_int,
    "stream_reconnect_delay_seconds": _positive_float,
}
assert set(_VALIDATORS) == {f.name for f in fields(ZerodhaConfig)}, "every key needs a validator"

KEYS = tuple(_VALIDATORS)


def load_config(settings: Mapping[str, Any], *, source: str = "") -> ZerodhaConfig:
    """Validate the merged ``[brokers.zerodha]`` mapping into a frozen config.

    Raises ``ConfigError`` naming ``brokers.zerodha.<key>`` (and ``source``,
    e.g. the file, when given) for an unknown key or a bad value.
    """
    where = f" (in {source})" if source else ""
    values: dict[str, Any] = {}
    for raw_key, value in settings.items():
        key = str(raw_key).lower()
        validator = _VALIDATORS.get(key)
        if validator is None:
            raise ConfigError(f"{SECTION}.{raw_key}: unknown key{where}; known keys: {', '.join(KEYS)}")
        try:
            values[key] = validator(value)
        except ValueError as error:
            raise ConfigError(f"{SECTION}.{key}: {error}{where}") from None
    return ZerodhaConfig(**values)


def settings_from_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The ``TRADEKIT__BROKERS__ZERODHA__<KEY>`` variables as a settings mapping.

    The core's config loader does this for every section; the plugin's own
    commands (``login``) use it so they work without a tradekit.toml.
    """
    source = os.environ if env is None else env
    return {name[len(ENV_PREFIX) :].lower(): value for name, value in source.items() if name.startswith(ENV_PREFIX)}
