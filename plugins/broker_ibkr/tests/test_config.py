from __future__ import annotations

import pytest
from tradekit.errors import ConfigError

from tradekit_ibkr.config import DEFAULTS, DOCS, IBKRConfig


def test_config_defaults_point_at_paper_tws() -> None:
    config = IBKRConfig.from_settings({})
    assert (config.host, config.port, config.readonly, config.client_library) == ("127.0.0.1", 7497, False, "auto")
    assert config.backoff_seconds == (1.0, 2.0, 4.0)


def test_config_environment_strings_are_coerced() -> None:
    config = IBKRConfig.from_settings(
        {"port": "4002", "client_id": "3", "readonly": "true", "request_timeout": "2.5", "backoff_seconds": "0,1",
         "symbols": "tsla, aapl", "account": "DU1"}
    )
    assert config.port == 4002 and config.client_id == 3 and config.readonly is True
    assert config.request_timeout == 2.5 and config.backoff_seconds == (0.0, 1.0)
    assert config.symbols == ("TSLA", "AAPL") and config.account == "DU1"


@pytest.mark.parametrize(
    ("key", "value"),
    [("port", 0), ("port", "abc"), ("client_id", -1), ("readonly", "maybe"), ("request_timeout", 0),
     ("retries", 0), ("client_library", "ibapi"), ("backoff_seconds", "1,x"), ("bar_what_to_show", "VOLUME"),
     ("host", "")],
)
def test_config_bad_value_names_the_key(key: str, value: object) -> None:
    with pytest.raises(ConfigError, match=rf"^brokers\.ibkr\.{key}:"):
        IBKRConfig.from_settings({key: value})


def test_config_unknown_key_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"brokers\.ibkr\.prot: unknown key"):
        IBKRConfig.from_settings({"prot": 7497})


def test_config_every_key_is_documented() -> None:
    assert set(DOCS) == set(DEFAULTS)
