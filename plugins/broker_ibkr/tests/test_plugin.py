"""Registration through the ``tradekit`` entry point, and the ``tradekit ibkr`` command group."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tradekit.clock import SimClock
from tradekit.errors import ConfigError
from tradekit.plugins.manager import PluginManager
from tradekit.ports import Broker, BrokerContext


def _context(settings: dict[str, object], home: Path) -> BrokerContext:
    return BrokerContext("ibkr", settings, home, SimClock(datetime(2025, 1, 2, 14, 30, tzinfo=UTC)))


def test_plugin_registers_ibkr_through_the_entry_point(tmp_path: Path) -> None:
    registration = PluginManager().broker("ibkr")
    assert registration.plugin == "ibkr"
    broker = registration.factory(_context({"port": 1}, tmp_path))  # no network before connect()
    assert isinstance(broker, Broker) and broker.name == "ibkr"


def test_plugin_factory_validates_settings(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"brokers\.ibkr\.port"):
        PluginManager().broker("ibkr").factory(_context({"port": "seventy"}, tmp_path))


def test_plugin_cli_fake_gateway_serves_the_real_client(tmp_path: Path) -> None:
    """`tradekit ibkr fake-gateway` as a user starts it; the broker connects and trades through it."""
    command = [sys.executable, "-c", "from tradekit.cli.main import main; main()", "ibkr", "fake-gateway",
               "--port", "0", "--day", "2025-01-02", "--symbols", "TSLA=445.25", "--speed", "60"]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        lines = []
        for _ in range(50):  # warnings from imports may come first
            line = process.stderr.readline()
            lines.append(line)
            if "fake TWS listening on" in line or not line:
                break
        assert "fake TWS listening on 127.0.0.1:" in line, "".join(lines)
        port = int(line.split("127.0.0.1:")[1].split(",")[0])
        context = BrokerContext("ibkr", {"port": port, "connect_timeout": 5, "request_timeout": 5}, tmp_path,
                                SimClock(datetime(2025, 1, 2, 14, 30, tzinfo=UTC)), live=True)
        broker = PluginManager().broker("ibkr").factory(context)
        broker.connect()
        try:
            assert broker.account == "ibkr:DU1234567"
            assert broker.account_report().cash == 100_000
        finally:
            broker.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
