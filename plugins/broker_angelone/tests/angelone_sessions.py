"""A rehearsed trading day: the fake SmartAPI in this process and ``tradekit`` on one shared FileClock.

The fake follows the clock file (``FakeSmartAPI(clock=FileClock)``); ``tradekit``
runs either in this process (``Rehearsal.cli``, the real Typer app) or as a
child process (``Rehearsal.child`` / ``Rehearsal.spawn``) with
``TRADEKIT_SIM_CLOCK`` pointing at the same file, so a kill -9 leaves the fake
(and its orders) running and the harness can move market time while
tradekit is down. tradekit is configured only through documented keys:
``[brokers.angelone] root / scrip_master_url / timeout_seconds`` and the
``ANGELONE_*`` credential variables the ``*_env`` keys name by default.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pyotp
from tradekit.clock import FileClock
from tradekit.store import DuckDBStore
from typer.testing import CliRunner, Result

from tradekit_angelone.fake import FakeSmartAPI
from tradekit_angelone.fake.market import IST

DAY = date(2025, 12, 1)  # generated "trend_up" NIFTY day (seed 1): oi-momentum enters twice, example hits its stop
OPTION = "NFO:NIFTY02DEC2525900CE"  # the at-the-money call the example strategy trades
OPEN_WAIT = datetime.combine(DAY, time(9, 0), tzinfo=IST)  # tradekit starts before the open and waits (a jump)

_app: Any = None


def cli_app() -> Any:
    """tradekit's real CLI app with its commands and the plugins' groups, built once per test process."""
    global _app
    if _app is None:
        from tradekit.cli.main import _register, app
        from tradekit.plugins.manager import get_plugin_manager

        _register()
        get_plugin_manager().register_commands(app)
        _app = app
    return _app


class Rehearsal:
    """One account at the fake, one tradekit home, one clock file."""

    def __init__(self, base: Path, source: Any, *, poll_seconds: int = 300) -> None:
        base.mkdir(parents=True, exist_ok=True)
        self.clock_path = base / "clock"
        self.clock = FileClock(self.clock_path, OPEN_WAIT)
        self.fake = FakeSmartAPI(source, clock=self.clock, totp_secret=pyotp.random_base32()).start()
        self.home = base / "home"
        self.home.mkdir()
        lines = [
            "[brokers.angelone]",
            f'root = "{self.fake.root}"',
            f'scrip_master_url = "{self.fake.scrip_master_url}"',
            "timeout_seconds = 5",
            "[engine]",
            f"live_poll_seconds = {poll_seconds}",  # 300: one quote poll per 5-minute candle keeps a day to seconds
            "sync_minutes = 60",  # periodic reconcile hourly, not every step (each costs three broker requests)
            "[strategies.oi-momentum]",
            "monitor_seconds = 300",
            "[strategies.example]",
            f'instrument = "{OPTION}"',
            "entry_move_pct = 0.5",
            "stop_pct = 5",
            "hold_candles = 60",
            "max_entries = 1",
            "monitor_seconds = 300",
        ]
        (self.home / "tradekit.toml").write_text("\n".join(lines) + "\n")
        self.env = {
            "TRADEKIT_HOME": str(self.home),
            "TRADEKIT_SIM_CLOCK": str(self.clock_path),
            "ANGELONE_API_KEY": self.fake.api_key,
            "ANGELONE_CLIENT_CODE": self.fake.client_code,
            "ANGELONE_PIN": self.fake.pin,
            "ANGELONE_TOTP_SECRET": self.fake.totp_secret,
        }

    def set_poll_seconds(self, seconds: int) -> None:
        config = self.home / "tradekit.toml"
        lines = config.read_text().splitlines()
        config.write_text("\n".join(f"live_poll_seconds = {seconds}" if line.startswith("live_poll_seconds") else line
                                    for line in lines) + "\n")

    def close(self) -> None:
        self.fake.stop()

    # -- tradekit ------------------------------------------------------------

    def cli(self, *args: str, input: str | None = None) -> Result:  # noqa: A002 - CliRunner's name
        """``tradekit ARGS`` in this process (the real app), with this rehearsal's environment."""
        return CliRunner().invoke(cli_app(), list(args), env=self.env, input=input)

    def child_env(self, **extra: str) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("TRADEKIT", "ANGELONE"))}
        env.update(self.env, PYTHONDONTWRITEBYTECODE="1", **extra)
        return env

    def child(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        """``python -m tradekit ARGS`` as a child process on the shared clock."""
        return subprocess.run([sys.executable, "-m", "tradekit", *args], env=self.child_env(**extra),
                              capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)

    def spawn(self, *args: str, **extra: str) -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "tradekit", *args], env=self.child_env(**extra),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)

    # -- what happened ---------------------------------------------------------

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        store = DuckDBStore(self.home / "tradekit.duckdb", readonly=True)
        try:
            return store.query(sql)
        finally:
            store.close()

    def endpoint_count(self, endpoint: str) -> int:
        return len(self.fake.endpoint_calls(endpoint))
