"""The control endpoint's guards: the token, the owner-only info file, a file left by a killed run."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tradekit.control import ControlError
from tradekit.control.client import EngineClient
from tradekit.control.server import ControlChannel, ControlServer, info_path


@pytest.fixture
def server(tmp_path: Path):
    started = ControlServer(tmp_path, ControlChannel(), store=tmp_path / "tradekit.duckdb", strategy="example")
    started.start()
    yield started
    started.close()


def test_info_file_is_owner_only_and_names_this_process(server: ControlServer, tmp_path: Path) -> None:
    path = info_path(tmp_path)
    assert path.stat().st_mode & 0o777 == 0o600
    client = EngineClient.find(tmp_path)
    assert client is not None and client.port == server.port and client.token == server.token
    path.chmod(0o644)
    with pytest.raises(ControlError, match="readable by others"):
        EngineClient.find(tmp_path)


def test_a_request_without_the_token_is_refused_before_it_reaches_the_engine(server: ControlServer) -> None:
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}/v1", data=json.dumps({"op": "flatten"}).encode(),
                                     method="POST", headers={"Authorization": "Bearer guessed"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 401
    assert server.channel._queue.empty()  # nothing was queued for the engine
    with pytest.raises(ControlError, match="HTTP 401"):
        EngineClient(pid=0, port=server.port, token="wrong").call("status")


def test_info_file_of_a_killed_run_is_ignored_and_closing_removes_ours(server: ControlServer, tmp_path: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    path = info_path(tmp_path)
    info = json.loads(path.read_text())
    path.write_text(json.dumps({**info, "pid": int(gone.stdout)}))
    assert EngineClient.find(tmp_path) is None  # its pid is gone: no engine, commands act on the store
    path.write_text(json.dumps(info))
    server.close()
    assert not path.exists()
    with pytest.raises(ControlError, match="cannot reach the engine"):
        EngineClient(pid=info["pid"], port=info["port"], token=info["token"]).call("status", timeout=5)
