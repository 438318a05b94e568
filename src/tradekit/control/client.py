"""Finding and talking to a running engine's control endpoint."""

from __future__ import annotations

import json
import os
import stat
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tradekit.control import ControlError
from tradekit.control.server import API_PATH, REPLY_TIMEOUT, info_path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass(frozen=True)
class EngineClient:
    pid: int
    port: int
    token: str
    strategy: str = ""

    @classmethod
    def find(cls, home: Path) -> EngineClient | None:
        """The running engine of this home, or None (no info file, or its process is gone)."""
        path = info_path(home)
        try:
            info_stat = path.stat()
        except FileNotFoundError:
            return None
        if info_stat.st_uid != os.getuid() or stat.S_IMODE(info_stat.st_mode) & 0o077:
            raise ControlError(f"{path} is readable by others or not yours; refusing to use its token (remove it)")
        try:
            info = json.loads(path.read_text())
            client = cls(pid=int(info["pid"]), port=int(info["port"]), token=str(info["token"]), strategy=str(info.get("strategy", "")))
        except (OSError, ValueError, KeyError, TypeError):
            return None  # half-written or foreign: treat as no engine
        return client if _alive(client.pid) else None

    def call(self, op: str, timeout: float = REPLY_TIMEOUT + 5, **args: Any) -> Any:
        body = json.dumps({"op": op, **args}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{API_PATH}", data=body, method="POST",
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as error:
            raise ControlError(f"engine pid {self.pid} refused {op}: HTTP {error.code}") from None
        except (urllib.error.URLError, OSError) as error:
            raise ControlError(f"cannot reach the engine (pid {self.pid}) on 127.0.0.1:{self.port}: {error}") from None
        if not answer.get("ok"):
            raise ControlError(f"{op}: {answer.get('error')}")
        return answer.get("result")
