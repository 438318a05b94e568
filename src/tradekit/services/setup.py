"""Shared set-up for services: home, config, plugins, store."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tradekit.config import Config, load_config
from tradekit.errors import StoreLockedError, StoreNeedsMigration
from tradekit.paths import home_dir
from tradekit.plugins.manager import PluginManager, get_plugin_manager
from tradekit.store import DuckDBStore, default_store_path


@dataclass
class Workspace:
    home: Path
    config: Config
    plugins: PluginManager

    @property
    def store_path(self) -> Path:
        return default_store_path(self.home)

    def open_store(self, *, readonly: bool = False, batch_size: int = 1, lazy_projections: bool = False) -> DuckDBStore:
        """The home's store. A read-only open of a store an older tradekit wrote migrates it first (the morning's
        ``report`` after an upgrade), unless a running writer holds it: then the error says to wait for it."""
        try:
            return DuckDBStore(self.store_path, readonly=readonly, batch_size=batch_size, lazy_projections=lazy_projections)
        except StoreNeedsMigration as needs:
            try:
                DuckDBStore(self.store_path).close()  # takes the writer's lock, migrates in one transaction
            except StoreLockedError as locked:
                raise StoreNeedsMigration(f"{needs}; {locked}") from None
            return DuckDBStore(self.store_path, readonly=True, batch_size=batch_size, lazy_projections=lazy_projections)

    def strategy(self, name: str) -> Any:
        registration = self.plugins.strategy(name)
        return registration.factory(self.config.section("strategies", name))


def workspace(home: Path | str | None = None, overrides: dict[str, Any] | None = None) -> Workspace:
    path = home_dir(home)
    return Workspace(home=path, config=load_config(path, env=os.environ, overrides=overrides), plugins=get_plugin_manager())
