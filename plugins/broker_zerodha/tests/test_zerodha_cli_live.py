"""`tradekit run --broker zerodha --live` as a user (or cron) types it: refusals that must be one clear line."""

from __future__ import annotations

from pathlib import Path

from tradekit.clock import FileClock

from zerodha_live_helpers import BEFORE_OPEN, Child, rehearsal_fake, tradekit_orders, write_home


def _error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err  # one line, no traceback
    return lines[0]


def test_live_without_yes_and_without_a_terminal_refuses_before_touching_kite(tmp_path: Path, clock_file: Path) -> None:
    FileClock(clock_file, start=BEFORE_OPEN)
    with rehearsal_fake(tmp_path / "data", FileClock(clock_file)) as fake:
        child = Child(tmp_path / "home", clock_file, write_home(tmp_path / "home", fake, strategy="oi-momentum"))
        code, out, err = child.run("run", "--broker", "zerodha", "--strategy", "oi-momentum", "--live")
        assert code == 2
        assert "--yes" in _error_line(err) and "REAL orders" in err
        assert fake.requests == []


def test_live_with_a_missing_or_expired_token_stops_naming_the_login_command(tmp_path: Path, clock_file: Path) -> None:
    FileClock(clock_file, start=BEFORE_OPEN)
    with rehearsal_fake(tmp_path / "data", FileClock(clock_file)) as fake:
        home = tmp_path / "home"
        kite_env = write_home(home, fake, strategy="oi-momentum")
        missing = Child(home, clock_file, {"REHEARSAL_KITE_KEY": kite_env["REHEARSAL_KITE_KEY"]})
        code, out, err = missing.run("run", "--broker", "zerodha", "--strategy", "oi-momentum", "--live", "--yes")
        assert code == 6
        assert "`tradekit zerodha login`" in _error_line(err) and "REHEARSAL_KITE_TOKEN" in err
        assert fake.requests == []  # nothing asked of Kite without a token

        fake.expire_tokens()  # Kite's morning reset: yesterday's token is dead
        expired = Child(home, clock_file, kite_env)
        code, out, err = expired.run("run", "--broker", "zerodha", "--strategy", "oi-momentum", "--live", "--yes")
        assert code == 6
        line = _error_line(err)
        assert "`tradekit zerodha login`" in line and "expired" in line
        assert [path for _, path, _ in fake.requests] == ["/user/profile"] and tradekit_orders(fake) == []
