from datetime import time
from decimal import Decimal

import pytest

from tradekit.errors import ConfigError
from tradekit_oi_momentum import OiMomentumConfig, parse_config


def test_config_empty_section_defaults_are_the_requirements_numbers():
    config = parse_config({})
    assert config == OiMomentumConfig()
    assert (config.lots, config.max_entries_per_day) == (1, 2)
    assert (config.entry_start, config.entry_end, config.square_off) == (time(9, 30), time(14, 30), time(15, 15))
    assert (config.initial_stop_pct, config.trail_arm_pct, config.trail_pct) == (25, 10, 10)
    assert (config.vwap_stop_pct, config.oi_stop_pct) == (5, 10)
    assert (config.candle_seconds, config.monitor_seconds, config.strike_step) == (300, 60, 50)
    assert (config.underlying, config.index_instrument, config.vwap_price) == ("NIFTY", "NSE:NIFTY 50", "typical")


def test_config_every_key_given_is_used():
    config = parse_config(
        {
            "lots": 3, "max_entries_per_day": 1, "entry_start": "09:45", "entry_end": "13:00",
            "initial_stop_pct": 20, "trail_arm_pct": 12.5, "trail_pct": "8", "vwap_stop_pct": 0,
            "oi_stop_pct": 15, "square_off": "15:00", "candle_minutes": 3, "monitor_seconds": 30,
            "strike_step": 100, "underlying": "BANKNIFTY", "index_instrument": "NSE:NIFTY BANK",
            "vwap_price": "close",
        }
    )
    assert config.lots == 3 and config.max_entries_per_day == 1
    assert config.entry_start == time(9, 45) and config.entry_end == time(13, 0) and config.square_off == time(15, 0)
    assert config.trail_arm_pct == Decimal("12.5") and config.trail_pct == Decimal(8) and config.vwap_stop_pct == 0
    assert config.candle_seconds == 180 and config.monitor_seconds == 30 and config.strike_step == 100
    assert config.underlying == "BANKNIFTY" and config.vwap_price == "close"


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        ({"lot": 1}, "lot"),
        ({"lots": 0}, "lots"),
        ({"lots": 1.5}, "lots"),
        ({"lots": True}, "lots"),
        ({"max_entries_per_day": -1}, "max_entries_per_day"),
        ({"entry_start": "9:30"}, "entry_start"),
        ({"entry_end": "25:00"}, "entry_end"),
        ({"entry_start": "14:31"}, "entry_end"),
        ({"square_off": "14:30"}, "square_off"),
        ({"initial_stop_pct": 100}, "initial_stop_pct"),
        ({"initial_stop_pct": 0}, "initial_stop_pct"),
        ({"trail_pct": -1}, "trail_pct"),
        ({"trail_arm_pct": "ten"}, "trail_arm_pct"),
        ({"oi_stop_pct": float("nan")}, "oi_stop_pct"),
        ({"vwap_stop_pct": [5]}, "vwap_stop_pct"),
        ({"candle_minutes": 0}, "candle_minutes"),
        ({"monitor_seconds": "sixty"}, "monitor_seconds"),
        ({"strike_step": 0}, "strike_step"),
        ({"underlying": ""}, "underlying"),
        ({"index_instrument": "NIFTY 50"}, "index_instrument"),
        ({"vwap_price": "hlc"}, "vwap_price"),
    ],
)
def test_config_bad_value_raises_config_error_naming_the_key(settings, key):
    with pytest.raises(ConfigError) as caught:
        parse_config(settings)
    message = str(caught.value)
    assert message.startswith(f"strategies.oi-momentum.{key}:")
    assert "\n" not in message


def test_config_accepts_toml_times():
    config = parse_config({"entry_start": time(9, 45), "square_off": time(15, 10)})
    assert config.entry_start == time(9, 45) and config.square_off == time(15, 10)
