"""One writing process per store: an exclusive lock on ``<store>.lock`` holding the owner's pid."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from tradekit.errors import StoreLockedError


class StoreLock:
    def __init__(self, store_path: Path) -> None:
        self.path = Path(str(store_path) + ".lock")
        self._handle: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.pread(handle, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(handle)
            raise StoreLockedError(
                f"store {self.path.with_suffix('')} is being written by another tradekit process (pid {owner}); "
                "stop it or use its control commands"
            ) from None
        os.ftruncate(handle, 0)
        os.pwrite(handle, str(os.getpid()).encode(), 0)
        self._handle = handle

    def owner(self) -> int | None:
        try:
            text = self.path.read_text().strip()
        except OSError:
            return None
        return int(text) if text.isdigit() else None

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            os.close(self._handle)
            self._handle = None
