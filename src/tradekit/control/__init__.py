"""Control of a running engine: a local HTTP endpoint on 127.0.0.1 with a per-run token.

``server`` runs in the ``tradekit run`` process (requests are queued and
executed on the engine's own thread between steps, so the book is never
touched by two threads); ``client`` is what ``tradekit status``, ``close``,
``flatten``, ... use to find and talk to it; ``ops`` are the actions
themselves, shared with the offline path (no engine running).
"""

from __future__ import annotations

from tradekit.errors import TradekitError


class ControlError(TradekitError):
    """The control endpoint refused or failed a request, or its info file is unsafe."""

    exit_code = 1
