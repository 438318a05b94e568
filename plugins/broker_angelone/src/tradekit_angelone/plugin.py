"""tradekit hooks: the ``angelone`` broker and the ``tradekit angelone`` command group.

Importing this module (which ``tradekit plugins`` does through the entry
point) imports neither smartapi-python nor requests: the client is imported
only when a broker connects, so listing plugins makes no network call and
writes no file.
"""

from __future__ import annotations

from typing import Any

from tradekit import hookimpl

NAME = "angelone"


def create_broker(context: Any) -> Any:
    """``factory(context) -> Broker``; validates the config, touches no network until ``connect()``."""
    from tradekit_angelone.broker import AngelOneBroker

    return AngelOneBroker(context)


@hookimpl
def register_brokers(register: Any) -> None:
    register(NAME, create_broker)


@hookimpl
def register_commands(app: Any) -> None:
    from tradekit_angelone.cli import build_app

    app.add_typer(build_app(), name=NAME, help="Angel One SmartAPI: log in, run a local fake server.")
