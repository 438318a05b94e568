"""Run the real ``tradekit`` command in a child process, isolated in a home, optionally set to crash."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_tradekit(home: Path, *args: str, crash_at: int | None = None, count_file: Path | None = None,
                 timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``python -m tradekit ARGS`` with ``TRADEKIT_HOME=home`` and no other TRADEKIT* variable of ours.

    ``crash_at`` sets ``TRADEKIT_CRASH_AT`` (SIGKILL at that crash point); ``count_file`` sets
    ``TRADEKIT_CRASHPOINTS_FILE`` (how many crash points the run passed).
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEKIT")}
    env["TRADEKIT_HOME"] = str(home)
    if crash_at is not None:
        env["TRADEKIT_CRASH_AT"] = str(crash_at)
    if count_file is not None:
        env["TRADEKIT_CRASHPOINTS_FILE"] = str(count_file)
    return subprocess.run([sys.executable, "-m", "tradekit", *args], env=env, capture_output=True, text=True, timeout=timeout)
