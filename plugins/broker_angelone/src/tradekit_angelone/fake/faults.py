"""Fault injection for the fake SmartAPI server.

A fault is armed for an endpoint (its route's last path segment, e.g.
``placeOrder``, ``getOrderBook``, ``quote``, ``loginByPassword``,
``generateTokens``, ``OpenAPIScripMaster.json``, or ``*`` for any) and fires
on the next ``times`` matching requests.

Kinds:
- ``timeout``: no answer until the client gives up (the handler waits until
  released or the server stops). With ``apply=True`` the request is carried
  out first, so an order placement "times out but arrived".
- ``disconnect``: the connection is closed with no answer (``apply`` as above).
- ``rate_limit``: HTTP 403 with SmartAPI's plain-text body
  ``Access denied because of exceeding access rate``.
- ``too_many_requests``: HTTP 429 with a JSON ``status: false`` body
  ("Too many requests", no errorcode): the client returns it like any body.
- ``server_error``: HTTP 503 with an HTML body (what a gateway answers).
- ``busy``: HTTP 200 ``status: false``, errorcode AB1004 ("Something Went Wrong").
- ``invalid_token``: ``status: false``, errorcode AG8001 (this answer only).
- ``status_false``: ``status: false`` with the given ``errorcode`` and ``message``.
- ``error_type``: HTTP 403 JSON with an ``error_type`` key, which makes the
  client raise (``TokenException`` by default).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

KINDS = ("timeout", "disconnect", "rate_limit", "too_many_requests", "server_error", "busy", "invalid_token", "status_false", "error_type")


@dataclass
class Fault:
    endpoint: str
    kind: str
    times: int = 1
    apply: bool = False
    errorcode: str = ""
    message: str = ""
    error_type: str = "TokenException"


class FaultPlan:
    """Armed faults; thread-safe."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self.release = threading.Event()  # set to let held ("timeout") requests finish
        self.fired: list[tuple[str, str]] = []

    def inject(
        self,
        endpoint: str,
        kind: str,
        *,
        times: int = 1,
        apply: bool = False,
        errorcode: str = "",
        message: str = "",
        error_type: str = "TokenException",
    ) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r} (known: {', '.join(KINDS)})")
        if times < 1:
            raise ValueError("times must be >= 1")
        fault = Fault(endpoint, kind, times, apply, errorcode, message, error_type)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def take(self, endpoint: str) -> Fault | None:
        """The fault to fire for this request, if any (consumes one of its ``times``)."""
        with self._lock:
            for fault in self._faults:
                if fault.endpoint in (endpoint, "*"):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    self.fired.append((endpoint, fault.kind))
                    return fault
        return None
