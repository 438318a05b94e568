"""The plugin manager: built-ins through the same hooks, entry points, duplicates, unknown names, observers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from tradekit import __version__
from tradekit.errors import PluginError
from tradekit.model.events import DayOpened
from tradekit.plugins.hookspecs import hookimpl
from tradekit.plugins.manager import DEFAULT_PLUGINS, PluginManager

TRADEKIT = Path(sys.executable).parent / "tradekit"


class DuplicatePaperPlugin:
    """Registers a broker under a name the built-in paper plugin already owns."""

    @hookimpl
    def register_brokers(self, register: Any) -> None:
        register("paper", lambda context: None)


class ToolsPlugin:
    """A small third-party plugin: a store, a feed, a command and an observer."""

    def __init__(self) -> None:
        self.seen: list[Any] = []

    @hookimpl
    def register_stores(self, register: Any) -> None:
        register("memory", lambda path: ("memory-store", path))

    @hookimpl
    def register_feeds(self, register: Any) -> None:
        register("constant", lambda context: ("constant-feed", context))

    @hookimpl
    def register_commands(self, app: Any) -> None:
        group = typer.Typer()

        @group.command("hello")
        def hello(name: str) -> None:
            typer.echo(f"hello {name}")

        app.add_typer(group, name="tools")

    @hookimpl
    def on_event(self, event: Any) -> None:
        self.seen.append(event)
        if getattr(event, "cash", None) == 13:
            raise RuntimeError("observer failed")


@pytest.fixture
def manager() -> PluginManager:
    return PluginManager(load_entry_points=False)


@pytest.fixture
def tools(manager: PluginManager) -> Iterator[ToolsPlugin]:
    plugin = ToolsPlugin()
    manager.register(plugin, name="tools-test")
    yield plugin
    manager.unregister(plugin)
    assert manager.pm.get_plugin("tools-test") is None


def test_plugin_manager_builtins_registered_through_hooks(manager: PluginManager) -> None:
    infos = {info.name: info for info in manager.plugins()}
    assert set(DEFAULT_PLUGINS) <= set(infos)
    assert all(infos[name].builtin and infos[name].version == __version__ for name in DEFAULT_PLUGINS)
    assert "register_brokers" in infos["tradekit.plugins.paper"].hooks
    assert manager.broker("paper").plugin == "tradekit.plugins.paper"
    assert manager.strategy("example").plugin == "tradekit.plugins.example_strategy"
    assert manager.store("duckdb").plugin == "tradekit.plugins.duckdb_store"
    assert manager.feed("replay").plugin == "tradekit.plugins.replay"


def test_register_brokers_duplicate_name_raises_plugin_error_naming_both(manager: PluginManager) -> None:
    plugin = DuplicatePaperPlugin()
    manager.register(plugin, name="dup-broker-test")
    try:
        with pytest.raises(PluginError, match="broker 'paper' registered twice") as caught:
            manager.broker("paper")
        assert "tradekit.plugins.paper" in str(caught.value) and "dup-broker-test" in str(caught.value)
    finally:
        manager.unregister(plugin)
    assert manager.broker("paper").plugin == "tradekit.plugins.paper"  # gone after unregister


def test_register_strategies_unknown_name_error_lists_installed(manager: PluginManager) -> None:
    with pytest.raises(PluginError, match=r"unknown strategy 'no-such' \(installed: .*example") as caught:
        manager.strategy("no-such")
    assert "\n" not in str(caught.value)
    with pytest.raises(PluginError, match=r"unknown broker 'kite' \(installed: .*paper"):
        manager.broker("kite")


def test_register_stores_and_register_feeds_third_party_names_available(manager: PluginManager, tools: ToolsPlugin) -> None:
    assert manager.store("memory").factory(Path("x")) == ("memory-store", Path("x"))
    assert manager.store("memory").plugin == "tools-test"
    assert manager.feed("constant").factory("ctx") == ("constant-feed", "ctx")
    assert "duckdb" in manager.registries["stores"].entries  # built-ins stay


def test_register_commands_plugin_group_runs(manager: PluginManager, tools: ToolsPlugin) -> None:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """Root."""

    manager.register_commands(app)
    result = CliRunner().invoke(app, ["tools", "hello", "world"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "hello world"


def test_on_event_observer_called_and_its_failure_returned_not_raised(manager: PluginManager, tools: ToolsPlugin) -> None:
    from datetime import UTC, date, datetime
    from decimal import Decimal

    good = DayOpened(ts=datetime(2025, 12, 9, tzinfo=UTC), account="paper:t", day=date(2025, 12, 9), cash=Decimal(1))
    bad = DayOpened(ts=datetime(2025, 12, 9, tzinfo=UTC), account="paper:t", day=date(2025, 12, 9), cash=Decimal(13))
    assert manager.notify(good) == []
    errors = manager.notify(bad)
    assert [str(e) for e in errors] == ["observer failed"]
    assert tools.seen == [good, bad]


# ---- entry points ---------------------------------------------------------
def _install_distribution(root: Path, module: str, body: str, *, name: str = "demo-plugin", version: str = "1.2.3") -> None:
    """A real installed distribution on sys.path: a module plus a dist-info with a ``tradekit`` entry point."""
    (root / f"{module}.py").write_text(body)
    info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[tradekit]\n{name} = {module}\n")


PLUGIN_BODY = """
from tradekit.plugins.hookspecs import hookimpl

@hookimpl
def register_strategies(register):
    register("demo-strategy", dict)
"""


@pytest.fixture
def demo_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    root = tmp_path / "site"
    root.mkdir()
    module = f"tk_demo_plugin_{os.getpid()}"
    _install_distribution(root, module, PLUGIN_BODY)
    monkeypatch.syspath_prepend(str(root))
    yield module
    sys.modules.pop(module, None)


def test_entry_point_plugin_loaded_with_distribution_version(demo_distribution: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRADEKIT_LOAD_PLUGINS", raising=False)
    manager = PluginManager()
    assert manager.strategy("demo-strategy").plugin == "demo-plugin"
    info = {i.name: i for i in manager.plugins()}["demo-plugin"]
    assert (info.version, info.builtin, info.hooks) == ("1.2.3", False, ("register_strategies",))


@pytest.mark.parametrize(("allowed", "loaded"), [("", False), ("other-plugin", False), ("other-plugin, demo-plugin", True)])
def test_tradekit_load_plugins_limits_entry_points(
    demo_distribution: str, monkeypatch: pytest.MonkeyPatch, allowed: str, loaded: bool
) -> None:
    monkeypatch.setenv("TRADEKIT_LOAD_PLUGINS", allowed)
    manager = PluginManager()
    assert (manager.pm.get_plugin("demo-plugin") is not None) is loaded
    assert ("demo-strategy" in manager.registries["strategies"].entries) is loaded
    assert "example" in manager.registries["strategies"].entries  # built-ins always load


def test_entry_point_plugin_failing_import_raises_plugin_error_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "site"
    root.mkdir()
    _install_distribution(root, f"tk_broken_{os.getpid()}", "raise ImportError('needs kiteconnect')\n", name="broken-plugin")
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.delenv("TRADEKIT_LOAD_PLUGINS", raising=False)
    with pytest.raises(PluginError, match="plugin 'broken-plugin' failed to load: needs kiteconnect"):
        PluginManager()


def test_entry_point_plugin_misspelt_hook_raises_plugin_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "site"
    root.mkdir()
    body = "from tradekit.plugins.hookspecs import hookimpl\n\n@hookimpl\ndef register_broker(register):\n    pass\n"
    _install_distribution(root, f"tk_misspelt_{os.getpid()}", body, name="misspelt-plugin")
    monkeypatch.syspath_prepend(str(root))
    monkeypatch.delenv("TRADEKIT_LOAD_PLUGINS", raising=False)
    with pytest.raises(PluginError, match="misspelt-plugin.*unknown hook.*register_broker"):
        PluginManager()


def test_cli_plugins_json_lists_builtins_with_versions_and_hooks() -> None:
    result = subprocess.run([str(TRADEKIT), "plugins", "--json"], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "TRADEKIT_LOAD_PLUGINS": ""})  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    plugins = {p["name"]: p for p in data["plugins"]}
    for name in DEFAULT_PLUGINS:
        assert plugins[name]["builtin"] is True and plugins[name]["version"] == __version__
    assert plugins["tradekit.plugins.paper"]["hooks"] == ["register_brokers"]
    assert plugins["tradekit.plugins.replay"]["hooks"] == ["register_feeds"]
    assert "paper" in data["brokers"] and "example" in data["strategies"]
    assert data["stores"] == ["duckdb"] and "replay" in data["feeds"]
