"""The file clock (one simulated time shared by processes) and named crash points for kill tests."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tradekit.clock import FileClock, LiveClock, session_clock
from tradekit.errors import ConfigError

IST = timezone(timedelta(hours=5, minutes=30))
START = datetime(2025, 10, 6, 9, 0, tzinfo=IST)


def test_two_clocks_on_one_file_see_the_same_time_and_it_never_goes_back(tmp_path: Path) -> None:
    first = FileClock(tmp_path / "clock", START)
    second = FileClock(tmp_path / "clock")
    first.sleep_until(START + timedelta(minutes=20))
    assert second.now() == START + timedelta(minutes=20)
    second.sleep_until(START + timedelta(minutes=5))  # earlier than now: nothing moves
    assert first.now() == START + timedelta(minutes=20)
    second.sleep(30)
    assert first.now() == START + timedelta(minutes=20, seconds=30)
    assert first.monotonic() == pytest.approx((START + timedelta(minutes=20, seconds=30)).timestamp())
    with pytest.raises(ValueError, match="cannot go back"):
        first.set(START)


def test_another_process_moves_the_shared_time(tmp_path: Path) -> None:
    clock = FileClock(tmp_path / "clock", START)
    code = ("import sys; from datetime import timedelta; from tradekit.clock import FileClock; "
            "c = FileClock(sys.argv[1]); c.sleep_until(c.now() + timedelta(hours=6, minutes=30))")
    subprocess.run([sys.executable, "-c", code, str(clock.path)], check=True)
    assert clock.now() == START + timedelta(hours=6, minutes=30)
    assert clock.now().utcoffset() == timedelta(hours=5, minutes=30)


def test_session_clock_is_the_wall_clock_unless_the_environment_names_a_clock_file(tmp_path: Path) -> None:
    assert isinstance(session_clock({}), LiveClock)
    path = tmp_path / "clock"
    path.write_text("2025-10-06T09:00:00+05:30\n")
    clock = session_clock({"TRADEKIT_SIM_CLOCK": str(path)})
    assert isinstance(clock, FileClock) and clock.now() == START


@pytest.mark.parametrize("content, culprit", [(None, "does not exist"), ("tomorrow", "not an ISO time"),
                                              ("2025-10-06T09:00:00", "not an ISO time")])
def test_a_missing_or_malformed_clock_file_is_one_line_naming_it(tmp_path: Path, content: str | None, culprit: str) -> None:
    path = tmp_path / "clock"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError, match=culprit) as raised:
        session_clock({"TRADEKIT_SIM_CLOCK": str(path)})
    assert str(path) in str(raised.value) and "\n" not in str(raised.value)


def test_a_named_crash_point_kills_the_process_there_and_nowhere_else(tmp_path: Path) -> None:
    import os
    import signal

    code = ("from tradekit.faults import crashpoint\n"
            "for name in ['after_commit', 'before_send', 'after_commit', 'before_send', 'after_send']:\n"
            "    print(name, flush=True)\n"
            "    crashpoint(name)\n")
    env = {**os.environ, "TRADEKIT_CRASH_AT": "before_send:2"}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode == -signal.SIGKILL
    assert result.stdout.split() == ["after_commit", "before_send", "after_commit", "before_send"]
    env["TRADEKIT_CRASH_AT"] = "3"
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert result.returncode == -signal.SIGKILL and len(result.stdout.split()) == 3
