"""What the core hands to plugin factories."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradekit.clock import Clock


@dataclass(frozen=True)
class BrokerContext:
    """Everything a broker factory gets.

    ``settings`` is the merged ``[brokers.<name>]`` section (defaults < file <
    ``TRADEKIT__BROKERS__<NAME>__<KEY>`` env vars). Secrets are never in it:
    it holds the *names* of env vars (``api_key_env``) and the adapter reads
    ``env[...]`` itself. Tokens and caches go under ``home / "brokers" / name``.
    """

    name: str
    settings: Mapping[str, Any]
    home: Path
    clock: Clock
    env: Mapping[str, str] = field(default_factory=dict)
    live: bool = False
    log: Callable[[str], None] = lambda message: None
    market: Any = None  # for the paper venue: where its prices come from (a replayed day or a live broker)

    @property
    def state_dir(self) -> Path:
        path = self.home / "brokers" / self.name
        path.mkdir(parents=True, exist_ok=True)
        return path
