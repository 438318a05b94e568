"""Registers ``ps60`` with tradekit (entry point group ``tradekit``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tradekit import hookimpl
from tradekit.plugins.hookspecs import Register

from tradekit_ps60.config import parse_config
from tradekit_ps60.strategy import Ps60Strategy


def factory(settings: Mapping[str, object] | None = None) -> Ps60Strategy:
    """Build the strategy from the ``[strategies.ps60]`` section (validated: ``ConfigError`` names the key)."""
    return Ps60Strategy(parse_config(settings))


@hookimpl
def register_strategies(register: Register) -> None:
    register("ps60", factory)


@hookimpl
def register_commands(app: Any) -> None:
    from tradekit_ps60.cli import app as ps60_app

    app.add_typer(ps60_app, name="ps60")
