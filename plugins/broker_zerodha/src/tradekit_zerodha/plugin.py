"""pluggy hooks: the ``zerodha`` broker and the ``tradekit zerodha`` command group."""

from __future__ import annotations

from typing import Any

from tradekit import hookimpl
from tradekit.ports import BrokerContext


def create_broker(context: BrokerContext) -> Any:
    """Factory the core calls with the merged ``[brokers.zerodha]`` settings; no network until connect()."""
    from tradekit_zerodha.broker import ZerodhaBroker

    return ZerodhaBroker(context)


@hookimpl
def register_brokers(register: Any) -> None:
    register("zerodha", create_broker)


@hookimpl
def register_commands(app: Any) -> None:
    from tradekit_zerodha.cli import group

    app.add_typer(group, name="zerodha")
