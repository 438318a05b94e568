"""Registration through the ``tradekit`` entry point, and the ``tradekit ibkr`` command group."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
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


def test_plugin_cli_fake_gateway_follows_a_clock_file(tmp_path: Path) -> None:
    """`--clock-file FILE` creates the shared clock at 09:00 New York and serves bars up to wherever it is moved."""
    from datetime import timedelta

    from tradekit.clock import FileClock

    clock_path = tmp_path / "clock"
    command = [sys.executable, "-c", "from tradekit.cli.main import main; main()", "ibkr", "fake-gateway",
               "--port", "0", "--day", "2025-01-02", "--symbols", "TSLA=445.25", "--clock-file", str(clock_path)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        lines = []
        for _ in range(50):
            line = process.stderr.readline()
            lines.append(line)
            if "fake TWS listening on" in line or not line:
                break
        assert f"following the clock in {clock_path}" in line, "".join(lines)
        clock = FileClock(clock_path)
        assert clock.now() == datetime(2025, 1, 2, 14, 0, tzinfo=UTC)  # 09:00 New York
        clock.set(datetime(2025, 1, 2, 15, 0, tzinfo=UTC))  # as a `tradekit run` sleeping on it would
        port = int(line.split("127.0.0.1:")[1].split(",")[0])
        context = BrokerContext("ibkr", {"port": port, "connect_timeout": 5, "request_timeout": 5}, tmp_path, clock)
        broker = PluginManager().broker("ibkr").factory(context)
        broker.connect()
        try:
            bars = broker.historical("SMART:TSLA", clock.now() - timedelta(hours=1), clock.now() + timedelta(hours=1), 60)
        finally:
            broker.close()
        assert len(bars) == 30 and bars[-1].end == clock.now()  # 09:30-10:00 New York: the fake is at the file's time
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_plugin_cli_fake_gateway_refuses_a_bad_clock_file(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from tradekit_ibkr.cli import ibkr_app

    group = typer.Typer()
    group.add_typer(ibkr_app, name="ibkr")  # as the register_commands hook mounts it under tradekit
    bad = tmp_path / "clock"
    bad.write_text("not a time\n")
    result = CliRunner().invoke(group, ["ibkr", "fake-gateway", "--port", "0", "--clock-file", str(bad)])
    text = " ".join(result.output.replace("│", " ").split())  # rich wraps the message in a box
    assert result.exit_code == 2 and "--clock-file" in text and "is not an ISO time with an offset" in text
