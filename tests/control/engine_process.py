"""A real ``tradekit run`` subprocess whose output lines a test waits on (bounded, no sleeps)."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

WAIT = 30.0  # seconds any one expected line may take to appear


def tradekit_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEKIT")}
    env["TRADEKIT_HOME"] = str(home)
    return env


def tradekit(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tradekit", *args], env=tradekit_env(home), capture_output=True, text=True,
                          timeout=120)


class EngineProcess:
    def __init__(self, home: Path, *args: str) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "tradekit", "run", *args], env=tradekit_env(home),
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1)
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    @property
    def pid(self) -> int:
        return self.process.pid

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait_for(self, text: str, timeout: float = WAIT) -> str:
        """The next output line containing ``text``; fails with the output so far when the run ends or times out."""
        while True:
            try:
                line = self._queue.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(f"no line with {text!r} within {timeout}s; output:\n" + "\n".join(self.lines[-30:])) from None
            if line is None:
                stderr = self.process.stderr.read() if self.process.stderr else ""
                raise AssertionError(f"run ended before {text!r}; output:\n" + "\n".join(self.lines[-30:]) + "\n" + stderr)
            self.lines.append(line)
            if text in line:
                return line

    def finish(self, timeout: float = 60) -> int:
        code = self.process.wait(timeout=timeout)
        while (line := self._queue.get(timeout=timeout)) is not None:
            self.lines.append(line)
        return code

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
