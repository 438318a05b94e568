from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from tradekit.errors import ConfigError

from tradekit_zerodha.config import KEYS, ZerodhaConfig, load_config, settings_from_environment


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


def _documented_keys() -> dict[str, str]:
    """The `[brokers.zerodha]` table of README.md: key -> documented default (as written)."""
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    table = readme.split("## Configuration: `[brokers.zerodha]`", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([a-z_]+)` \| (.+?) \|", table, flags=re.MULTILINE)
    return {key: default.strip() for key, default in rows}


def _parsed(default: str) -> object:
    text = default.strip("`")
    if default == "*(empty)*":
        return ""
    if text.startswith("["):
        return json.loads(text)
    return text


def test_readme_lists_every_key_the_code_reads_with_its_real_default() -> None:
    documented = _documented_keys()
    assert list(documented) == list(KEYS)  # every key, none invented, in the code's order
    for key, default in documented.items():
        # the documented default, read the way the code reads a setting, is the code's default
        assert getattr(load_config({key: _parsed(default)}), key) == getattr(ZerodhaConfig(), key), key
