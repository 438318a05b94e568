from __future__ import annotations

import pytest
from tradekit.errors import ConfigError

from tradekit_angelone.config import DEFAULTS, AngelOneConfig


def test_config_defaults_are_valid_and_name_env_vars_not_secrets() -> None:
    config = AngelOneConfig.from_settings({})
    assert config.api_key_env == "ANGELONE_API_KEY"
    assert config.totp_secret_env == "ANGELONE_TOTP_SECRET"
    assert config.quote_batch_size == 50
    assert config.backoff_seconds == (1.0, 2.0, 4.0)
    assert config.retries == 3
    assert config.timeout_seconds == 30.0


def test_config_env_var_strings_are_coerced() -> None:
    config = AngelOneConfig.from_settings(
        {
            "timeout_seconds": "7.5",
            "retries": "2",
            "backoff_seconds": "0.5, 1",
            "auto_login": "yes",
            "underlyings": "nifty,banknifty",
            "product_type": "intraday",
            "quote_batch_size": "20",
        }
    )
    assert config.timeout_seconds == 7.5
    assert config.retries == 2
    assert config.backoff_seconds == (0.5, 1.0)
    assert config.auto_login is True
    assert config.underlyings == ("NIFTY", "BANKNIFTY")
    assert config.product_type == "INTRADAY"
    assert config.quote_batch_size == 20


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("timeout_seconds", "-1"),
        ("timeout_seconds", "soon"),
        ("quote_batch_size", 51),
        ("retries", 0),
        ("product_type", "BRACKET"),
        ("api_key_env", "sk live secret value"),
        ("root", "apiconnect.angelone.in"),
        ("auto_login", "maybe"),
        ("backoff_seconds", []),
        ("timezone", "Mars/Olympus"),
    ],
)
def test_config_bad_value_raises_config_error_naming_the_key(key: str, value: object) -> None:
    with pytest.raises(ConfigError, match=rf"^brokers\.angelone\.{key}: "):
        AngelOneConfig.from_settings({key: value})


def test_config_unknown_key_is_named() -> None:
    with pytest.raises(ConfigError, match=r"brokers\.angelone\.api_key: unknown key"):
        AngelOneConfig.from_settings({"api_key": "the-secret-itself"})


def test_config_defaults_cover_every_field() -> None:
    assert set(DEFAULTS) == set(AngelOneConfig.__dataclass_fields__)
