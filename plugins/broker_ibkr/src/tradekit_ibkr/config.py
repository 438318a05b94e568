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

from tradekit.settings import (
    Converter,
    choice,
    flag,
    names,
    nonempty,
    positive,
    read_section,
    seconds_list,
    text,
    whole,
)

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
        return cls(**read_section(SECTION, settings, CONVERTERS, defaults=DEFAULTS))


CONVERTERS: dict[str, Converter] = {
    "host": nonempty,
    "port": whole(1, 65535),
    "client_id": whole(0),
    "account": text,
    "readonly": flag,
    "connect_timeout": positive,
    "request_timeout": positive,
    "retries": whole(1),
    "backoff_seconds": seconds_list,
    "client_library": choice(*LIBRARIES, case="lower"),
    "symbols": names(upper=True, allow_empty=True),
    "bar_what_to_show": choice("TRADES", "MIDPOINT", "BID", "ASK", case="upper"),
}
