from __future__ import annotations

import pytest
from tradekit.errors import ConfigError

from tradekit_zerodha.config import ZerodhaConfig, load_config, settings_from_environment


def test_config_defaults_point_at_real_kite() -> None:
    config = load_config({})
    assert config == ZerodhaConfig()
    assert config.root == "https://api.kite.trade"
    assert config.api_key_env == "KITE_API_KEY" and config.access_token_env == "KITE_ACCESS_TOKEN"
    assert config.quote_rate_per_second == 1.0 and config.quote_batch_size == 500
    assert config.retry_backoff_seconds == (1.0, 2.0, 4.0) and config.retry_tries == 3


def test_config_environment_strings_are_coerced() -> None:
    env = {
        "TRADEKIT__BROKERS__ZERODHA__ROOT": "http://127.0.0.1:8123/",
        "TRADEKIT__BROKERS__ZERODHA__TIMEOUT_SECONDS": "2.5",
        "TRADEKIT__BROKERS__ZERODHA__UNDERLYINGS": "NIFTY, BANKNIFTY",
        "TRADEKIT__BROKERS__ZERODHA__STREAM": "true",
        "TRADEKIT__BROKERS__ZERODHA__RETRY_BACKOFF_SECONDS": "0,0.5",
        "OTHER": "ignored",
    }
    config = load_config(settings_from_environment(env))
    assert config.root == "http://127.0.0.1:8123"
    assert config.timeout_seconds == 2.5
    assert config.underlyings == ("NIFTY", "BANKNIFTY")
    assert config.stream is True
    assert config.retry_backoff_seconds == (0.0, 0.5)
    assert not config.is_real_kite


@pytest.mark.parametrize(
    ("settings", "culprit"),
    [
        ({"timeout_seconds": "soon"}, "brokers.zerodha.timeout_seconds"),
        ({"timeout_seconds": 0}, "brokers.zerodha.timeout_seconds"),
        ({"root": "127.0.0.1:80"}, "brokers.zerodha.root"),
        ({"quote_batch_size": 501}, "brokers.zerodha.quote_batch_size"),
        ({"product": "XYZ"}, "brokers.zerodha.product"),
        ({"stream": "maybe"}, "brokers.zerodha.stream"),
        ({"market_protection": 150}, "brokers.zerodha.market_protection"),
        ({"api_kye_env": "X"}, "brokers.zerodha.api_kye_env"),
    ],
)
def test_config_bad_value_names_the_key(settings: dict[str, object], culprit: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_config(settings, source="tradekit.toml")
    message = str(caught.value)
    assert message.startswith(culprit)
    assert "tradekit.toml" in message and "\n" not in message
