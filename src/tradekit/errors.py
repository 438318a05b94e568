"""One error tree for tradekit.

Library code raises these; only the CLI turns them into a one-line message
and an exit code (see ``EXIT_CODES`` and docs/user-guide.md).
"""

from __future__ import annotations


class TradekitError(Exception):
    """Base of every error tradekit raises on purpose."""

    exit_code = 1


class ConfigError(TradekitError):
    """Configuration is missing, malformed or invalid; the message names the key."""

    exit_code = 2


class PluginError(TradekitError):
    """A plugin is unknown, broken or registers a duplicate name."""

    exit_code = 3


class StoreError(TradekitError):
    """The store is damaged, newer than this tradekit, or locked by another process."""

    exit_code = 4


class StoreNeedsMigration(StoreError):
    """A read-only open of a store written by an older tradekit: a writer must apply its migrations first."""


class StoreLockedError(StoreError):
    """Another process holds the store for writing."""


class BrokerError(TradekitError):
    """The broker refused or failed a request."""

    exit_code = 5


class TemporaryBrokerError(BrokerError):
    """A transient failure (timeout, 5xx, rate limit, dropped connection): safe to retry."""


class OrderRejected(BrokerError):
    """The broker (or the paper venue) rejected an order; the reason says why."""


class AuthError(BrokerError):
    """The session token is missing, expired or invalid; the message names the login command."""

    exit_code = 6


class StrategyError(TradekitError):
    """A strategy raised; the engine's state is untouched."""

    exit_code = 7


class ReconciliationError(TradekitError):
    """tradekit's book and the broker disagree in a way that cannot be applied automatically."""

    exit_code = 8


class DataError(TradekitError):
    """Market data files are missing or unreadable."""

    exit_code = 9


class InvalidTransition(TradekitError):
    """An order status change that the transition table forbids."""


EXIT_CODES = {
    0: "success",
    1: "differences found (reconcile) or a general error",
    2: "configuration error",
    3: "plugin error",
    4: "store error (damaged, newer, locked)",
    5: "broker error",
    6: "authentication needed (log in again)",
    7: "strategy error",
    8: "reconciliation error",
    9: "market data error",
    130: "interrupted",
}
