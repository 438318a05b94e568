"""The [strategies.ps60] section: defaults, validation, registration."""

from __future__ import annotations

from datetime import time
from decimal import Decimal

import pytest
from tradekit.errors import ConfigError
from tradekit.plugins.manager import PluginManager
from tradekit.ports.strategy import Strategy

from tradekit_ps60 import Ps60Strategy, factory, parse_config


def test_config_empty_section_gives_the_documented_defaults() -> None:
    config = parse_config({})
    assert (config.sizing, config.shares, config.warmup_bars, config.max_attempts) == ("fixed", 100, 20, 2)
    assert config.partial_fraction == 0.5
    assert config.square_off == time(15, 55)
    assert config.bar_seconds == 5
    assert config.target_trigger == "close"


def test_config_all_keys_parse_into_typed_values() -> None:
    config = parse_config(
        {
            "sizing": "risk", "risk_per_trade": 250, "max_shares": 400, "warmup_bars": 12, "max_attempts": 3,
            "partial_fraction": 0.25, "square_off": "15:50", "entry_cutoff": "15:00", "bar_seconds": 10,
            "target_trigger": "extreme", "monitor_seconds": 2, "entry_timeout_bars": 4, "stop_resync_bars": 6,
            "early_close_margin_minutes": 10, "exchange": "arca", "shares": 50,
        }
    )
    assert config.risk_per_trade == Decimal("250")
    assert config.square_off == time(15, 50) and config.entry_cutoff == time(15, 0)
    assert config.exchange == "ARCA" and config.max_shares == 400 and config.partial_fraction == 0.25


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"share": 100}, "share"),
        ({"shares": 0}, "shares"),
        ({"shares": "a hundred"}, "shares"),
        ({"shares": True}, "shares"),
        ({"warmup_bars": 2.5}, "warmup_bars"),
        ({"max_attempts": 0}, "max_attempts"),
        ({"partial_fraction": 1}, "partial_fraction"),
        ({"partial_fraction": 0}, "partial_fraction"),
        ({"square_off": "25:00"}, "square_off"),
        ({"square_off": 1555}, "square_off"),
        ({"sizing": "percent"}, "sizing"),
        ({"sizing": "risk"}, "risk_per_trade"),
        ({"sizing": "risk", "risk_per_trade": -5}, "risk_per_trade"),
        ({"sizing": "risk", "risk_per_trade": "lots"}, "risk_per_trade"),
        ({"entry_cutoff": "15:56"}, "entry_cutoff"),
        ({"target_trigger": "touch"}, "target_trigger"),
        ({"exchange": "SMART:TSLA"}, "exchange"),
    ],
)
def test_config_bad_value_raises_config_error_naming_the_key(settings: dict, key: str) -> None:
    with pytest.raises(ConfigError, match=rf"^strategies\.ps60\.{key}: "):
        factory(settings)


def test_plugin_entry_point_registers_ps60_through_the_tradekit_group() -> None:
    registration = PluginManager().strategy("ps60")
    assert registration.plugin == "ps60"  # loaded from the installed entry point, not a built-in
    strategy = registration.factory({"shares": 10})
    assert isinstance(strategy, Ps60Strategy) and isinstance(strategy, Strategy)
    assert (strategy.name, strategy.market, strategy.config.shares) == ("ps60", "NYSE", 10)
