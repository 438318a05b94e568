"""Fault injection for the fake Kite server, armed from tests.

``fake.faults.next("timeout", path="/orders/regular")`` makes the next
matching request misbehave once (``times=`` for more). Kinds:

- ``timeout``: the request IS applied (an order is placed), then the reply is
  held for ``hang_seconds`` and the connection closed without an answer: the
  client times out although the order arrived.
- ``hang``: held for ``hang_seconds`` and dropped, NOT applied.
- ``disconnect``: the connection is closed at once, not applied.
- ``429``: NetworkException "Too many requests" with HTTP 429.
- ``500`` / ``502`` / ``503``: GeneralException / DataException / NetworkException.
- ``token``: TokenException 403 (an expired session).
- ``input``: InputException 400; ``order``: OrderException 400.

``after=N`` lets the first N matching requests through (the fault fires from
the N+1-th on). ``then=callable`` runs when the fault fires (for ``timeout``: after the
request was applied; for ``hang``: before it is dropped): the kill tests use
it to kill -9 the tradekit process while its order is in flight.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

ERRORS: dict[str, tuple[int, str, str]] = {
    "429": (429, "NetworkException", "Too many requests"),
    "500": (500, "GeneralException", "Internal server error"),
    "502": (502, "DataException", "Bad response from the OMS"),
    "503": (503, "NetworkException", "Gateway timed out talking to the OMS"),
    "token": (403, "TokenException", "Incorrect `api_key` or `access_token`."),
    "input": (400, "InputException", "Invalid input (injected fault)"),
    "order": (400, "OrderException", "Order rejected by the RMS (injected fault)"),
}
KINDS = frozenset({"timeout", "hang", "disconnect", *ERRORS})


@dataclass
class Fault:
    kind: str
    path: str | None
    method: str | None
    remaining: int
    then: Callable[[], None] | None = None
    after: int = 0

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method:
            return False
        if self.path is None:
            return True
        return path == self.path or (self.path.endswith("*") and path.startswith(self.path[:-1]))


class Faults:
    """Armed faults, consumed in the order they were armed."""

    def __init__(self, hang_seconds: float = 1.0) -> None:
        self.hang_seconds = hang_seconds
        self._armed: list[Fault] = []
        self._lock = threading.Lock()
        self.fired: list[tuple[str, str, str]] = []

    def next(self, kind: str, *, path: str | None = None, method: str | None = None, times: int = 1,
             after: int = 0, then: Callable[[], None] | None = None) -> None:
        """Make the next ``times`` requests matching ``path`` (``*`` suffix: prefix) and ``method`` fail."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(sorted(KINDS))}")
        if times < 1 or after < 0:
            raise ValueError("times must be >= 1 and after >= 0")
        with self._lock:
            self._armed.append(Fault(kind, path, method, times, then, after))

    def clear(self) -> None:
        with self._lock:
            self._armed.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """The fault this request must suffer, if any (consumes one use)."""
        with self._lock:
            for fault in self._armed:
                if fault.matches(method, path):
                    if fault.after > 0:
                        fault.after -= 1
                        continue
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._armed.remove(fault)
                    self.fired.append((fault.kind, method, path))
                    return fault
        return None
