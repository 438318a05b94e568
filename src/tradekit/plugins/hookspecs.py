"""The hook specs: everything a plugin can supply to tradekit.

Registration hooks receive a ``register`` callback; the core owns the
registry and fails loudly on duplicate names. Built-in plugins use the very
same hooks (see ``manager.DEFAULT_PLUGINS``). Each spec is documented in
docs/plugin-authors.md; a test fails when one is missing there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

hookspec = pluggy.HookspecMarker("tradekit")
hookimpl = pluggy.HookimplMarker("tradekit")

Register = Callable[..., None]


@hookspec
def register_brokers(register: Register) -> None:
    """Register broker factories: ``register(name, factory)``.

    ``factory(context: tradekit.ports.BrokerContext) -> Broker`` is called
    when a command needs the broker; it must not touch the network before
    ``connect()``.
    """


@hookspec
def register_strategies(register: Register) -> None:
    """Register strategy factories: ``register(name, factory)``.

    ``factory(settings: Mapping[str, object]) -> Strategy`` receives the
    ``[strategies.<name>]`` config section and validates it, raising
    ``ConfigError`` that names the bad key.
    """


@hookspec
def register_stores(register: Register) -> None:
    """Register store factories: ``register(name, factory)``; ``factory(path) -> Store``."""


@hookspec
def register_feeds(register: Register) -> None:
    """Register market-data feed factories: ``register(name, factory)``.

    A feed implements ``tradekit.ports.feed.Feed``. The factory's arguments
    depend on the source: the built-in ``replay`` takes a day directory,
    ``broker`` takes a connected Broker and the market (``NSE``/``NYSE``).
    """


@hookspec
def register_commands(app: Any) -> None:
    """Add CLI commands or command groups to the Typer ``app``."""


@hookspec
def on_event(event: Any) -> None:
    """Observe a journal event after it has been committed (notifications, dashboards).

    Exceptions raised here are logged and never stop the engine.
    """
