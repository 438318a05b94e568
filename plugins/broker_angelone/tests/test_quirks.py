"""smartapi-python's quirks stay contained: no network at import, no files in the cwd, no secrets on stderr."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# Runs before the code under test in a fresh interpreter: records (and blocks) every
# network attempt and every file or directory created, then prints them as JSON.
PROBE = textwrap.dedent(
    """
    import json, os, sys
    events = []
    WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND
    def hook(event, args):
        if event in ("socket.connect", "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr"):
            events.append(["net", event, repr(args)[:160]])
            raise OSError("network blocked by the test probe")
        if event == "open":
            path, mode, flags = args
            if (mode and any(c in mode for c in "wax+")) or (isinstance(flags, int) and flags & WRITE_FLAGS):
                events.append(["write", str(path)])
        if event in ("os.mkdir", "os.rename", "os.remove", "shutil.rmtree"):
            events.append(["write", event, repr(args)[:160]])
    sys.addaudithook(hook)
    try:
        exec(compile(sys.argv[1], "<code>", "exec"), {})
    finally:
        print("EVENTS=" + json.dumps(events))
    """
)


def _probe(code: str, cwd: Path, home: Path) -> tuple[list[list[str]], str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("TRADEKIT")}
    env.update(
        PYTHONDONTWRITEBYTECODE="1",
        TRADEKIT_HOME=str(home),
        HOME=str(home),
        HTTP_PROXY="http://127.0.0.1:9",  # a second line of defence: any request fails fast and locally
        HTTPS_PROXY="http://127.0.0.1:9",
        NO_PROXY="",
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE, code], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("EVENTS="))
    return json.loads(line.removeprefix("EVENTS=")), result.stdout + result.stderr


def test_importing_the_plugin_and_listing_plugins_makes_no_network_call_and_writes_no_file(tmp_path: Path) -> None:
    cwd, home = tmp_path / "cwd", tmp_path / "home"
    cwd.mkdir()
    home.mkdir()
    code = textwrap.dedent(
        """
        import sys
        import tradekit_angelone.plugin
        from tradekit.plugins.manager import PluginManager
        manager = PluginManager()
        names = [info.name for info in manager.plugins()]
        assert "angelone" in names, names
        assert "angelone" in manager.registries["brokers"].entries
        assert "SmartApi" not in sys.modules and "requests" not in sys.modules and "logzero" not in sys.modules
        print("listed", names)
        """
    )
    events, output = _probe(code, cwd, home)
    assert "listed" in output
    assert events == []
    assert list(cwd.iterdir()) == [] and list(home.iterdir()) == []


COMMANDS = [
    (["plugins", "--json"], '"angelone"'),
    (["--help"], "angelone"),
    (["run", "--help"], "--live"),
    (["angelone", "--help"], "fake-server"),
    (["angelone", "fake-server", "--help"], "--clock-file"),
]


def test_cli_listing_and_help_make_no_network_call_and_write_no_file(tmp_path: Path) -> None:
    """The real ``tradekit`` entry (main()) with the plugin installed: sockets refused and recorded, writes recorded.

    One interpreter runs the commands one after another (each a fresh ``main()``, as the console script does).
    """
    cwd, home = tmp_path / "cwd", tmp_path / "home"
    cwd.mkdir()
    home.mkdir()
    code = textwrap.dedent(
        f"""
        import sys
        from tradekit.cli.main import main
        for argv in {[argv for argv, _ in COMMANDS]!r}:
            sys.argv = ["tradekit", *argv]
            print("@@command@@", " ".join(argv), flush=True)
            try:
                main()
            except SystemExit as stop:
                assert stop.code in (None, 0), (argv, stop.code)
        assert "SmartApi" not in sys.modules and "logzero" not in sys.modules
        """
    )
    events, output = _probe(code, cwd, home)
    sections = output.split("@@command@@ ")[1:]
    assert len(sections) == len(COMMANDS)
    for (argv, expected), section in zip(COMMANDS, sections, strict=True):
        assert section.startswith(" ".join(argv)) and expected in section, section[:300]
    assert events == []  # no socket.connect / getaddrinfo, no file opened for writing, no mkdir
    assert list(cwd.iterdir()) == [] and list(home.iterdir()) == []


def test_raw_smartapi_import_reaches_for_the_network_so_the_probe_can_see_it(tmp_path: Path) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    events, _ = _probe("import SmartApi", cwd, tmp_path)
    assert any(kind == "net" for kind, *_ in events), events


def test_contained_import_of_smartconnect_makes_no_network_call(tmp_path: Path) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    code = textwrap.dedent(
        """
        import requests
        from tradekit_angelone.client import import_smartconnect
        original = requests.get
        SmartConnect = import_smartconnect()
        assert requests.get is original  # restored after the import
        assert SmartConnect.__name__ == "SmartConnect"
        print("imported")
        """
    )
    events, output = _probe(code, cwd, tmp_path)
    assert "imported" in output
    assert [event for event in events if event[0] == "net"] == []
    assert "Exception while retriving IP Address" not in output  # its logzero error line is muted too
    assert list(cwd.iterdir()) == []


def test_client_log_files_land_under_tradekits_home_not_the_cwd(make_broker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cwd = tmp_path / "somewhere-else"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    broker = make_broker()
    broker.login()
    broker.connect()
    assert list(cwd.iterdir()) == []
    assert Path.cwd() == cwd
    logs = list((broker.context.state_dir / "logs").glob("*/app.log"))
    assert len(logs) == 1


def test_client_error_logs_never_reach_stderr_and_secrets_are_redacted(broker, fake, capfd: pytest.CaptureFixture[str]) -> None:
    capfd.readouterr()
    fake.faults.inject("getOrderBook", "status_false", errorcode="AB2000", message="boom")
    with pytest.raises(Exception, match="boom"):
        broker.order_reports()
    fake.faults.inject("getTradeBook", "disconnect", times=3)
    with pytest.raises(Exception, match="connection failed"):
        broker.fill_reports()
    captured = capfd.readouterr()
    assert fake.api_key not in captured.err and "boom" not in captured.err
    [log] = list((broker.context.state_dir / "logs").glob("*/app.log"))
    text = log.read_text()
    assert "boom" in text  # the client's own error record is kept, under tradekit's home
    assert fake.api_key not in text and broker.client.session.jwt_token not in text
    assert "***" in text
