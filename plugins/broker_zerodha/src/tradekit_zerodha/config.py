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
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from tradekit.settings import (
    Converter,
    choice,
    env_name,
    flag,
    names,
    non_negative,
    nonempty,
    optional_url,
    positive,
    read_section,
    seconds_list,
    url,
    whole,
)

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


def _market_protection(value: Any) -> int:
    number = whole()(value)
    if number != -1 and not 0 <= number <= 100:
        raise ValueError(f"must be -1 (automatic), 0 (off) or a percentage up to 100, got {value!r}")
    return number


def _index_symbol(value: Any) -> str:
    symbol = nonempty(value)
    if ":" not in symbol:
        raise ValueError(f"must be EXCHANGE:SYMBOL like 'NSE:NIFTY 50', got {value!r}")
    return symbol


_VALIDATORS: dict[str, Converter] = {
    "api_key_env": env_name,
    "api_secret_env": env_name,
    "access_token_env": env_name,
    "root": url,
    "ticker_root": url,
    "login_url": optional_url,
    "timeout_seconds": positive,
    "retry_tries": whole(1),
    "retry_backoff_seconds": seconds_list,
    "quote_rate_per_second": positive,
    "order_rate_per_second": positive,
    "historical_rate_per_second": positive,
    "other_rate_per_second": positive,
    "quote_batch_size": whole(1, KITE_QUOTE_LIMIT),  # Kite answers at most 500 instruments per quote call
    "product": choice("MIS", "NRML", "CNC"),
    "variety": choice("regular", "amo", "iceberg", "auction", "co"),
    "market_protection": _market_protection,
    "stop_limit_buffer_percent": non_negative,
    "segments": names(allow_empty=True),
    "underlyings": names(allow_empty=True),
    "underlying": nonempty,
    "index_symbol": _index_symbol,
    "stale_quote_seconds": non_negative,
    "stream": flag,
    "stream_reconnect_max_tries": whole(1),
    "stream_reconnect_delay_seconds": positive,
}
assert set(_VALIDATORS) == {f.name for f in fields(ZerodhaConfig)}, "every key needs a validator"

KEYS = tuple(_VALIDATORS)


def load_config(settings: Mapping[str, Any], *, source: str = "") -> ZerodhaConfig:
    """Validate the merged ``[brokers.zerodha]`` mapping into a frozen config.

    Raises ``ConfigError`` naming ``brokers.zerodha.<key>`` (and ``source``,
    e.g. the file, when given) for an unknown key or a bad value.
    """
    values = read_section(SECTION, settings, _VALIDATORS, source=source)
    return ZerodhaConfig(**values)


def settings_from_environment(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The ``TRADEKIT__BROKERS__ZERODHA__<KEY>`` variables as a settings mapping.

    The core's config loader does this for every section; the plugin's own
    commands (``login``) use it so they work without a tradekit.toml.
    """
    source = os.environ if env is None else env
    return {name[len(ENV_PREFIX) :].lower(): value for name, value in source.items() if name.startswith(ENV_PREFIX)}
