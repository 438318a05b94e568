"""Crash injection for recovery tests: kill -9 this process at the N-th crash point.

``TRADEKIT_CRASH_AT=N`` sends SIGKILL to the process the N-th time execution
passes any crash point (after a journal commit, between sending an order
and recording its acknowledgement, inside an open store transaction, after
the paper venue saved its state, ...). ``TRADEKIT_CRASHPOINTS_FILE=PATH``
writes how many crash points a run passed, so a harness can choose
instants across the whole run. Unset, a crash point costs one dict lookup.
"""

from __future__ import annotations

import atexit
import os
import signal

_passed = 0
_target = int(os.environ.get("TRADEKIT_CRASH_AT", "0") or 0)
_count_file = os.environ.get("TRADEKIT_CRASHPOINTS_FILE")


def crashpoint(name: str) -> None:
    global _passed
    if not _target and not _count_file:
        return
    _passed += 1
    if _target and _passed == _target:
        os.kill(os.getpid(), signal.SIGKILL)


def _write_count() -> None:
    if _count_file:
        with open(_count_file, "w") as handle:
            handle.write(str(_passed))


if _count_file:
    atexit.register(_write_count)
