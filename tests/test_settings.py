"""tradekit.settings: a plugin section's values, typed from TOML or from the environment's text, one error line naming the key."""

from __future__ import annotations

import pytest

from tradekit.errors import ConfigError
from tradekit.settings import (
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
    text,
    timezone,
    url,
    whole,
)

CONVERTERS = {"port": whole(1, 65535), "readonly": flag, "backoff": seconds_list, "symbols": names(upper=True, allow_empty=True),
              "library": choice("auto", "ib_async", case="lower"), "timeout": positive}
DEFAULTS = {"port": 7497, "readonly": False, "backoff": (1, 2), "symbols": (), "library": "auto", "timeout": 30}


def test_defaults_are_converted_and_environment_text_overlays_them() -> None:
    assert read_section("brokers.x", {}, CONVERTERS, defaults=DEFAULTS) == {
        "port": 7497, "readonly": False, "backoff": (1.0, 2.0), "symbols": (), "library": "auto", "timeout": 30.0}
    values = read_section("brokers.x", {"PORT": "4002", "readonly": "yes", "backoff": "[0, 0.5]", "symbols": "tsla, 'aapl'",
                                        "library": " IB_ASYNC ", "timeout": "2.5"}, CONVERTERS, defaults=DEFAULTS)
    assert values == {"port": 4002, "readonly": True, "backoff": (0.0, 0.5), "symbols": ("TSLA", "AAPL"),
                      "library": "ib_async", "timeout": 2.5}


@pytest.mark.parametrize(("key", "value", "problem"), [
    ("port", 0, "must be from 1 to 65535, got 0"),
    ("port", "7497.5", "must be a whole number, got '7497.5'"),
    ("port", True, "must be a number, got True"),
    ("readonly", "maybe", "must be true or false, got 'maybe'"),
    ("readonly", "", "must be true or false, got ''"),
    ("backoff", "1,-2", "must be a list of seconds, none negative, got '1,-2'"),
    ("backoff", [], "must be a non-empty list of seconds, got []"),
    ("library", "ibapi", "must be one of auto, ib_async, got 'ibapi'"),
    ("timeout", "nan", "must be a finite number, got 'nan'"),
    ("timeout", 0, "must be more than 0, got 0"),
])
def test_a_bad_value_is_one_line_naming_section_key_and_source(key: str, value: object, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        read_section("brokers.x", {key: value}, CONVERTERS, defaults=DEFAULTS, source="tradekit.toml")
    assert str(caught.value) == f"brokers.x.{key}: {problem} (in tradekit.toml)"


def test_an_unknown_key_is_refused_with_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r"^brokers\.x\.prot: unknown key; known keys: port, readonly, "):
        read_section("brokers.x", {"prot": 7497}, CONVERTERS)


def test_text_and_names() -> None:
    assert text(None) == "" and text(" DU1 ") == "DU1" and text(12345) == "12345"
    with pytest.raises(ValueError, match="must be text"):
        text(1.5)
    with pytest.raises(ValueError, match="must not be empty"):
        nonempty("  ")
    assert names()("NFO-OPT,NFO-FUT") == ("NFO-OPT", "NFO-FUT")
    with pytest.raises(ValueError, match="non-empty list"):
        names()("")
    with pytest.raises(ValueError, match="list of names"):
        names()(["NIFTY", 5])


def test_secrets_are_named_not_written_in_the_config() -> None:
    assert env_name(" KITE_API_KEY ") == "KITE_API_KEY"
    with pytest.raises(ValueError, match="not an environment variable name"):
        env_name("sk live secret value")


def test_urls_time_zones_and_bounds() -> None:
    assert url("http://127.0.0.1:8123/") == "http://127.0.0.1:8123" and url("wss://ws.kite.trade") == "wss://ws.kite.trade"
    assert optional_url("") == "" and optional_url(None) == ""
    with pytest.raises(ValueError, match="URL"):
        url("apiconnect.angelone.in")
    assert timezone("Asia/Kolkata") == "Asia/Kolkata"
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        timezone("Mars/Olympus")
    assert non_negative("0") == 0.0 and whole(0)("3") == 3 and whole(high=50)(50) == 50
    with pytest.raises(ValueError, match="must be at least 0, got -1"):
        whole(0)(-1)
    with pytest.raises(ValueError, match="must be at most 50, got 51"):
        whole(high=50)(51)


def test_strategy_amounts_are_exact_and_times_are_of_the_day() -> None:
    from datetime import time
    from decimal import Decimal

    from tradekit.settings import amount, clock_time, number

    percent = amount(above=0, below=100)
    assert percent(12.5) == Decimal("12.5") and percent("8") == Decimal(8) and percent(0.1) == Decimal("0.1")
    for bad, problem in ((100, "must be below 100"), (0, "must be more than 0"), ("ten", "must be a number"),
                         (float("nan"), "must be a finite number"), ([5], "must be a number"), (True, "must be a number")):
        with pytest.raises(ValueError, match=problem):
            percent(bad)
    assert number(above=0, below=1)(0.25) == 0.25
    with pytest.raises(ValueError, match="must be below 1"):
        number(above=0, below=1)(1)
    assert clock_time("09:45") == time(9, 45) and clock_time(" 15:55:30 ") == time(15, 55, 30) and clock_time(time(9, 15)) == time(9, 15)
    for bad in ("9:30", "25:00", "0930", "09", 1555):
        with pytest.raises(ValueError, match=r'must be a time of day "HH:MM"'):
            clock_time(bad)


@pytest.mark.parametrize(("settings", "message"), [
    ({"quantity": "ten"}, "strategies.example.quantity: must be a number, got 'ten'"),
    ({"square_off": "3pm"}, "strategies.example.square_off: must be a time of day \"HH:MM\" (exchange time), got '3pm'"),
    ({"candle_seconds": 0}, "strategies.example.candle_seconds: must be at least 1, got 0"),
    ({"stop_percent": 1}, "strategies.example.stop_percent: unknown key; known keys: market, instrument, "),
])
def test_the_example_strategy_reads_its_section_the_same_way(settings: dict[str, object], message: str) -> None:
    from tradekit.plugins.example_strategy import ExampleStrategy

    with pytest.raises(ConfigError) as caught:
        ExampleStrategy(settings)
    assert str(caught.value).startswith(message)
    strategy = ExampleStrategy({"quantity": "50", "square_off": "15:00", "entry_move_pct": 0.5})
    assert (strategy.quantity, strategy.square_off.hour, strategy.entry_move) == (50, 15, 0.005)
