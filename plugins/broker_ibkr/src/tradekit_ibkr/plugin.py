"""pluggy hooks: the ``ibkr`` broker and the ``tradekit ibkr`` command group."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tradekit.plugins.hookspecs import hookimpl
from tradekit.ports import Broker, BrokerContext


def create_broker(context: BrokerContext) -> Broker:
    """Validate ``[brokers.ibkr]`` and build the broker; no network until ``connect()``."""
    from tradekit_ibkr.broker import IBKRBroker
    from tradekit_ibkr.config import IBKRConfig

    return IBKRBroker(IBKRConfig.from_settings(context.settings), context)


@hookimpl
def register_brokers(register: Callable[..., None]) -> None:
    register("ibkr", create_broker)


@hookimpl
def register_commands(app: Any) -> None:
    from tradekit_ibkr.cli import ibkr_app

    app.add_typer(ibkr_app, name="ibkr")
