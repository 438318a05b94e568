"""Plugin manager: entry points of group ``tradekit``, then the built-ins, with the same call.

``TRADEKIT_LOAD_PLUGINS=a,b`` limits which entry points load (empty: none).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from typing import Any

import pluggy

from tradekit.errors import PluginError
from tradekit.plugins import hookspecs

DEFAULT_PLUGINS = (
    "tradekit.plugins.paper",
    "tradekit.plugins.duckdb_store",
    "tradekit.plugins.replay",
    "tradekit.plugins.broker_feed",
    "tradekit.plugins.example_strategy",
)

KINDS = ("brokers", "strategies", "stores", "feeds")


@dataclass(frozen=True)
class Registration:
    name: str
    factory: Callable[..., Any]
    plugin: str


@dataclass
class Registry:
    kind: str
    entries: dict[str, Registration] = field(default_factory=dict)

    def register(self, plugin: str) -> Callable[..., None]:
        def register(name: str, factory: Callable[..., Any]) -> None:
            if name in self.entries:
                other = self.entries[name].plugin
                raise PluginError(f"{self.kind[:-1]} {name!r} registered twice: by {other} and by {plugin}")
            self.entries[name] = Registration(name, factory, plugin)

        return register

    def get(self, name: str) -> Registration:
        try:
            return self.entries[name]
        except KeyError:
            known = ", ".join(sorted(self.entries)) or "none"
            singular = {"brokers": "broker", "strategies": "strategy", "stores": "store", "feeds": "feed"}[self.kind]
            raise PluginError(f"unknown {singular} {name!r} (installed: {known})") from None


@dataclass(frozen=True)
class PluginInfo:
    name: str
    version: str | None
    hooks: tuple[str, ...]
    builtin: bool


class PluginManager:
    """Loads plugins once and exposes the registries."""

    def __init__(self, *, load_entry_points: bool = True) -> None:
        self.pm = pluggy.PluginManager("tradekit")
        self.pm.add_hookspecs(hookspecs)
        self._versions: dict[str, str | None] = {}
        self._builtin: set[str] = set()
        if load_entry_points:
            self._load_entry_points()
        for module_name in DEFAULT_PLUGINS:
            module = importlib.import_module(module_name)
            if self.pm.get_plugin(module_name) is None:
                self.pm.register(module, name=module_name)
                self._builtin.add(module_name)
        try:
            self.pm.check_pending()
        except pluggy.PluginValidationError as error:
            name = self.pm.get_name(error.plugin) or repr(error.plugin)
            detail = str(error).split(" in plugin ")[0]  # "unknown hook 'register_broker'"
            raise PluginError(f"plugin {name!r} implements an unknown hook: {detail} (see tradekit.plugins.hookspecs)") from None
        self._registries: dict[str, Registry] | None = None

    def _load_entry_points(self) -> None:
        allowed_raw = os.environ.get("TRADEKIT_LOAD_PLUGINS")
        allowed = None if allowed_raw is None else {p.strip() for p in allowed_raw.split(",") if p.strip()}
        for entry_point in metadata.entry_points(group="tradekit"):
            if allowed is not None and entry_point.name not in allowed:
                continue
            if self.pm.get_plugin(entry_point.name) is not None:
                continue
            try:
                plugin = entry_point.load()
            except Exception as error:  # a broken plugin must name itself, not crash the CLI
                raise PluginError(f"plugin {entry_point.name!r} failed to load: {error}") from error
            self.pm.register(plugin, name=entry_point.name)
            dist = getattr(entry_point, "dist", None)
            self._versions[entry_point.name] = dist.version if dist is not None else None

    def register(self, plugin: object, name: str | None = None) -> None:
        """Register a plugin object (tests use this, then ``unregister``)."""
        self.pm.register(plugin, name=name)
        self._registries = None

    def unregister(self, plugin: object | None = None, name: str | None = None) -> None:
        self.pm.unregister(plugin=plugin, name=name)
        self._registries = None

    @property
    def registries(self) -> dict[str, Registry]:
        if self._registries is None:
            registries = {kind: Registry(kind) for kind in KINDS}
            for kind, registry in registries.items():
                hook = getattr(self.pm.hook, f"register_{kind}")
                for impl in hook.get_hookimpls():
                    impl.function(register=registry.register(impl.plugin_name))
            self._registries = registries
        return self._registries

    def broker(self, name: str) -> Registration:
        return self.registries["brokers"].get(name)

    def strategy(self, name: str) -> Registration:
        return self.registries["strategies"].get(name)

    def store(self, name: str) -> Registration:
        return self.registries["stores"].get(name)

    def feed(self, name: str) -> Registration:
        return self.registries["feeds"].get(name)

    def register_commands(self, app: Any) -> None:
        self.pm.hook.register_commands(app=app)

    def notify(self, event: Any) -> list[Exception]:
        """Call ``on_event`` observers; return their exceptions instead of raising."""
        errors: list[Exception] = []
        for impl in self.pm.hook.on_event.get_hookimpls():
            try:
                impl.function(event=event)
            except Exception as error:  # observers never stop the engine
                errors.append(error)
        return errors

    def plugins(self) -> list[PluginInfo]:
        infos = []
        for name, plugin in self.pm.list_name_plugin():
            hooks = tuple(sorted(h.name for h in self.pm.get_hookcallers(plugin) or []))
            version = self._versions.get(name)
            if name in self._builtin:
                version = metadata.version("tradekit")
            infos.append(PluginInfo(name=name, version=version, hooks=hooks, builtin=name in self._builtin))
        return sorted(infos, key=lambda info: (not info.builtin, info.name))


_MANAGER: PluginManager | None = None


def get_plugin_manager() -> PluginManager:
    """The process-wide manager (built on first use)."""
    global _MANAGER
    if _MANAGER is None:
        _MANAGER = PluginManager()
    return _MANAGER


def reset_plugin_manager() -> None:
    global _MANAGER
    _MANAGER = None
