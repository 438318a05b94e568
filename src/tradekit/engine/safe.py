"""One safe way to call strategy code: its exception becomes a StrategyError, engine state untouched."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tradekit.errors import StrategyError
from tradekit.ports.strategy import Decision


def guard(name: str, hook: str, function: Callable[..., Any], *args: Any) -> Any:
    try:
        return function(*args)
    except StrategyError:
        raise
    except Exception as error:
        raise StrategyError(f"strategy {name!r} failed in {hook}: {type(error).__name__}: {error}") from error


_UNSET: Any = object()


def call_strategy(name: str, hook: str, function: Callable[..., Decision], *args: Any, previous: Any = _UNSET) -> Decision:
    """Call a strategy hook; its state must be plain JSON data. ``previous``: the state it was handed,
    which passed this check when it was returned; an equal state is the same JSON data and is not
    encoded again (most exit-monitor calls change nothing)."""
    decision = guard(name, hook, function, *args)
    if not isinstance(decision, Decision):
        raise StrategyError(f"strategy {name!r} {hook} returned {type(decision).__name__}, expected Decision")
    if previous is not _UNSET and type(decision.state) is type(previous) and decision.state == previous:
        return decision
    try:
        text = _CHECK(decision.state)
    except (TypeError, ValueError) as error:
        raise StrategyError(f"strategy {name!r} {hook} returned state that is not plain JSON data: {error}") from None
    try:
        object.__setattr__(decision, "_state_json", text)  # the journal's encoding of this very state (see state_json)
    except AttributeError:
        pass  # a Decision subclass with __slots__: the journal encodes the state itself
    return decision


def state_json(decision: Decision) -> str | None:
    """The canonical JSON of ``decision.state`` if ``call_strategy`` encoded it when checking it, else None.

    The check and the journal then encode a changed state once, not twice. The
    text belongs to the decision object, so it always matches the state that
    decision carried.
    """
    return getattr(decision, "__dict__", {}).get("_state_json")


_CHECK = json.JSONEncoder(sort_keys=True, allow_nan=False).encode  # canonical_json's output, refusing NaN and infinities
