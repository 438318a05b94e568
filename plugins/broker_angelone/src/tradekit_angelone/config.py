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
from urllib.parse import urlparse

from tradekit.errors import ConfigError

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
        merged = dict(DEFAULTS)
        for key, value in (settings or {}).items():
            if key not in DEFAULTS:
                known = ", ".join(sorted(DEFAULTS))
                raise ConfigError(f"{SECTION}.{key}: unknown key (known: {known})")
            merged[key] = value
        return cls(
            api_key_env=_env_name(merged, "api_key_env"),
            client_code_env=_env_name(merged, "client_code_env"),
            pin_env=_env_name(merged, "pin_env"),
            totp_secret_env=_env_name(merged, "totp_secret_env"),
            root=_url(merged, "root"),
            scrip_master_url=_url(merged, "scrip_master_url"),
            timeout_seconds=_positive_float(merged, "timeout_seconds"),
            scrip_master_timeout_seconds=_positive_float(merged, "scrip_master_timeout_seconds"),
            retries=_int_in(merged, "retries", 1, 10),
            backoff_seconds=_float_list(merged, "backoff_seconds"),
            product_type=_choice(merged, "product_type", PRODUCT_TYPES),
            underlyings=_str_list(merged, "underlyings", upper=True),
            exchanges=_str_list(merged, "exchanges", upper=True),
            quote_batch_size=_int_in(merged, "quote_batch_size", 1, MAX_QUOTE_BATCH),
            auto_login=_bool(merged, "auto_login"),
            timezone=_timezone(merged, "timezone"),
        )


def _fail(key: str, problem: str) -> ConfigError:
    return ConfigError(f"{SECTION}.{key}: {problem}")


def _env_name(values: Mapping[str, Any], key: str) -> str:
    value = values[key]
    if not isinstance(value, str) or not value.strip():
        raise _fail(key, f"must name an environment variable, got {value!r}")
    value = value.strip()
    if not value.replace("_", "").isalnum() or value[0].isdigit():
        raise _fail(key, f"{value!r} is not an environment variable name (put the secret in that variable, not here)")
    return value


def _url(values: Mapping[str, Any], key: str) -> str:
    value = values[key]
    parsed = urlparse(str(value))
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise _fail(key, f"must be an http(s) URL, got {value!r}")
    return str(value).rstrip("/")


def _positive_float(values: Mapping[str, Any], key: str) -> float:
    value = values[key]
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise _fail(key, f"must be a number of seconds, got {value!r}") from None
    if not number > 0 or number != number:
        raise _fail(key, f"must be positive, got {value!r}")
    return number


def _int_in(values: Mapping[str, Any], key: str, low: int, high: int) -> int:
    value = values[key]
    try:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError
        number = int(value)
    except (TypeError, ValueError):
        raise _fail(key, f"must be a whole number, got {value!r}") from None
    if not low <= number <= high:
        raise _fail(key, f"must be between {low} and {high}, got {number}")
    return number


def _items(values: Mapping[str, Any], key: str) -> list[Any]:
    value = values[key]
    if isinstance(value, str):  # from an env var: "1,2,4" or "NIFTY,BANKNIFTY"
        value = [part.strip() for part in value.strip("[]").split(",") if part.strip()]
    if not isinstance(value, (list, tuple)) or not value:
        raise _fail(key, f"must be a non-empty list, got {values[key]!r}")
    return list(value)


def _float_list(values: Mapping[str, Any], key: str) -> tuple[float, ...]:
    result = []
    for item in _items(values, key):
        try:
            number = float(item)
        except (TypeError, ValueError):
            raise _fail(key, f"must be a list of seconds, got {values[key]!r}") from None
        if number < 0:
            raise _fail(key, f"seconds cannot be negative, got {item!r}")
        result.append(number)
    return tuple(result)


def _str_list(values: Mapping[str, Any], key: str, *, upper: bool) -> tuple[str, ...]:
    result = []
    for item in _items(values, key):
        if not isinstance(item, str) or not item.strip():
            raise _fail(key, f"must be a list of names, got {values[key]!r}")
        result.append(item.strip().upper() if upper else item.strip())
    return tuple(result)


def _choice(values: Mapping[str, Any], key: str, choices: tuple[str, ...]) -> str:
    value = str(values[key]).strip().upper()
    if value not in choices:
        raise _fail(key, f"must be one of {', '.join(choices)}, got {values[key]!r}")
    return value


def _bool(values: Mapping[str, Any], key: str) -> bool:
    value = values[key]
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise _fail(key, f"must be true or false, got {value!r}")


def _timezone(values: Mapping[str, Any], key: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    value = str(values[key])
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise _fail(key, f"unknown time zone {value!r}") from None
    return value
