"""Crash injection for recovery tests: kill -9 this process at a chosen crash point.

``TRADEKIT_CRASH_AT=N`` sends SIGKILL to the process the N-th time execution
passes any crash point (after a journal commit, after the ahead log's fsync,
between sending an order and recording its acknowledgement, inside an open
store transaction, around the paper venue's save, ...).
``TRADEKIT_CRASH_AT=NAME`` or ``NAME:N`` kills at the first (N-th) pass of
the crash point called NAME (``before_send``, ``after_send``, ``after_log``,
``after_commit``, ``inside_transaction``, ``venue_before_save``,
``venue_after_save``), so a test can aim at one instant by name.
``TRADEKIT_CRASHPOINTS_FILE=PATH`` writes how many crash points a run
passed, so a harness can choose instants across the whole run. Unset, a
crash point costs one check.
"""

from __future__ import annotations

import atexit
import os
import signal

_passed = 0
_named_passed = 0
_spec = os.environ.get("TRADEKIT_CRASH_AT", "").strip()
_count_file = os.environ.get("TRADEKIT_CRASHPOINTS_FILE")
_target = 0
_name = ""
if _spec.isdigit():
    _target = int(_spec)
elif _spec:
    _name, _, _nth = _spec.partition(":")
    _target = int(_nth) if _nth.isdigit() else 1
_active = bool(_target or _count_file)


def crashpoint(name: str) -> None:
    global _passed, _named_passed
    if not _active:
        return
    _passed += 1
    if _name:
        if name == _name:
            _named_passed += 1
            if _named_passed == _target:
                os.kill(os.getpid(), signal.SIGKILL)
    elif _target and _passed == _target:
        os.kill(os.getpid(), signal.SIGKILL)


def _write_count() -> None:
    if _count_file:
        with open(_count_file, "w") as handle:
            handle.write(str(_passed))


if _count_file:
    atexit.register(_write_count)
