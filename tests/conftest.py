"""Shared fixtures: an isolated tradekit home and small deterministic market days."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from tradekit.plugins.manager import reset_plugin_manager
from tradekit.testing.market import example_config, random_walk, session_bars, write_day

DAYS = (date(2025, 12, 8), date(2025, 12, 9), date(2025, 12, 10))


@pytest.fixture(autouse=True)
def isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("TRADEKIT_HOME", str(home))
    for name in list(__import__("os").environ):
        if name.startswith("TRADEKIT__"):
            monkeypatch.delenv(name)
    reset_plugin_manager()
    yield home
    reset_plugin_manager()


@pytest.fixture
def market_root(tmp_path: Path) -> Path:
    """Three NSE days of one equity at one-minute bars, seeded."""
    root = tmp_path / "data"
    bars = session_bars("NSE", 60)
    for offset, day in enumerate(DAYS):
        write_day(root, "NSE", day, {"TESTCO": random_walk(11 + offset, bars, 1000.0)})
    return root


@pytest.fixture
def configure_example():
    """``configure_example(home, root)`` writes a tradekit.toml trading the example strategy on ``root``."""
    return example_config
