"""The ``[brokers.angelone]`` section: defaults, coercion and validation into a frozen config.

The core merges defaults < ``tradekit.toml`` < ``TRADEKIT__BROKERS__ANGELONE__<KEY>``
env vars into one mapping; env vars arrive as strings, so every key is coerced
here. Secrets are never in the config: only the *names* of the env vars that
hold them. Errors name the key as ``brokers.angelone.<key>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tradekit.settings import (
    Converter,
    choice,
    env_name,
    flag,
    names,
    positive,
    read_section,
    seconds_list,
    timezone,
    url,
    whole,
)

SECTION = "brokers.angelone"
PRODUCT_TYPES = ("INTRADAY", "CARRYFORWARD", "DELIVERY", "MARGIN")
MAX_QUOTE_BATCH = 50  # SmartAPI market/v1/quote accepts at most 50 tokens per call

DEFAULTS: dict[str, Any] = {
    "api_key_env": "ANGELONE_API_KEY",
    "client_code_env": "ANGELONE_CLIENT_CODE",
    "pin_env": "ANGELONE_PIN",
    "totp_secret_env": "ANGELONE_TOTP_SECRET",
    "root": "https://apiconnect.angelone.in",
    "scrip_master_url": "https://margincalculator.angelbroking.com/OpenAPI_File/files/OpenAPIScripMaster.json",
    "timeout_seconds": 30.0,
    "scrip_master_timeout_seconds": 120.0,
    "retries": 3,
    "backoff_seconds": [1.0, 2.0, 4.0],
    "product_type": "CARRYFORWARD",
    "underlyings": ["NIFTY"],
    "exchanges": ["NSE", "NFO"],
    "quote_batch_size": MAX_QUOTE_BATCH,
    "auto_login": False,
    "timezone": "Asia/Kolkata",
}


@dataclass(frozen=True)
class AngelOneConfig:
    """Validated settings; see the package README for what each key means."""

    api_key_env: str
    client_code_env: str
    pin_env: str
    totp_secret_env: str
    root: str
    scrip_master_url: str
    timeout_seconds: float
    scrip_master_timeout_seconds: float
    retries: int
    backoff_seconds: tuple[float, ...]
    product_type: str
    underlyings: tuple[str, ...]
    exchanges: tuple[str, ...]
    quote_batch_size: int
    auto_login: bool
    timezone: str

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> AngelOneConfig:
        """Defaults overlaid with ``settings``; unknown keys and bad values raise ``ConfigError``."""
        return cls(**read_section(SECTION, settings or {}, CONVERTERS, defaults=DEFAULTS))


CONVERTERS: dict[str, Converter] = {
    "api_key_env": env_name,
    "client_code_env": env_name,
    "pin_env": env_name,
    "totp_secret_env": env_name,
    "root": url,
    "scrip_master_url": url,
    "timeout_seconds": positive,
    "scrip_master_timeout_seconds": positive,
    "retries": whole(1, 10),
    "backoff_seconds": seconds_list,
    "product_type": choice(*PRODUCT_TYPES, case="upper"),
    "underlyings": names(upper=True),
    "exchanges": names(upper=True),
    "quote_batch_size": whole(1, MAX_QUOTE_BATCH),
    "auto_login": flag,
    "timezone": timezone,
}
