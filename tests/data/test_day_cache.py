"""The per-day cache (tradekit.data.cache): a cached load is identical to a fresh one and never stale."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from tradekit.data import MarketDay, load_day

from .conftest import NIFTY_BARS, NIFTY_INSTRUMENTS, NIFTY_MANIFEST, write_day
from .test_loader import BAD_BARS

COLUMNS = ("ts", "open", "high", "low", "close", "volume", "oi")


def assert_same_day(fresh: MarketDay, cached: MarketDay) -> None:
    assert list(cached.series) == list(fresh.series)
    assert cached.issues == fresh.issues
    assert cached.instruments == fresh.instruments
    for key, series in fresh.series.items():
        other = cached.series[key]
        assert other.instrument == series.instrument
        for name in COLUMNS:
            a, b = getattr(series, name), getattr(other, name)
            assert b.dtype == a.dtype, (key, name)
            assert np.array_equal(a, b), (key, name)


def entries(root: Path) -> list[Path]:
    return sorted(p.parent for p in root.rglob("meta.json"))


@pytest.mark.parametrize("bars", [NIFTY_BARS, BAD_BARS], ids=["clean", "bad-rows"])
def test_cached_load_is_identical_to_a_fresh_load(tmp_path: Path, bars: str) -> None:
    directory = write_day(tmp_path / "data", NIFTY_MANIFEST, NIFTY_INSTRUMENTS, bars)
    root = tmp_path / "cache"
    fresh = load_day(directory, cache=False)
    assert entries(root) == []
    first = load_day(directory, cache=True, cache_root=root)  # a miss: loads from the source and stores it
    assert len(entries(root)) == 1
    second = load_day(directory, cache=True, cache_root=root)  # a hit: mapped from the cache
    assert_same_day(fresh, first)
    assert_same_day(fresh, second)
    assert all(not s.close.flags.writeable for s in second.series.values())  # mapped, read-only arrays
    if bars is BAD_BARS:
        assert {i.reason for i in second.issues} >= {"unknown_instrument", "duplicate_ts", "out_of_order_ts"}


def test_changed_bars_file_is_reloaded_and_the_old_entry_removed(tmp_path: Path) -> None:
    directory = write_day(tmp_path / "data", NIFTY_MANIFEST, NIFTY_INSTRUMENTS, NIFTY_BARS)
    root = tmp_path / "cache"
    load_day(directory, cache=True, cache_root=root)
    before = entries(root)
    (directory / "bars.csv").write_text(NIFTY_BARS.replace("43.20,187500", "43.25,187500"))
    changed = load_day(directory, cache=True, cache_root=root)
    assert changed.series["NFO:NIFTY25D0925900PE"].close.tolist() == [43.25, 46.65, 45.50]
    assert_same_day(load_day(directory, cache=False), changed)
    after = entries(root)
    assert len(after) == 1 and after != before


def test_same_size_rewrite_and_touch_are_seen(tmp_path: Path) -> None:
    directory = write_day(tmp_path / "data", NIFTY_MANIFEST, NIFTY_INSTRUMENTS, NIFTY_BARS)
    root = tmp_path / "cache"
    load_day(directory, cache=True, cache_root=root)
    bars = directory / "bars.csv"
    stat = bars.stat()
    bars.write_text(NIFTY_BARS.replace("43.20,187500", "43.90,187500"))  # same size
    os.utime(bars, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    assert bars.stat().st_size == stat.st_size
    day = load_day(directory, cache=True, cache_root=root)
    assert day.series["NFO:NIFTY25D0925900PE"].close[0] == 43.90


def test_changed_instruments_file_invalidates(tmp_path: Path) -> None:
    directory = write_day(tmp_path / "data", NIFTY_MANIFEST, NIFTY_INSTRUMENTS, NIFTY_BARS)
    root = tmp_path / "cache"
    load_day(directory, cache=True, cache_root=root)
    without_call = "\n".join(line for line in NIFTY_INSTRUMENTS.splitlines() if "26000,CALL" not in line) + "\n"
    (directory / "instruments.csv").write_text(without_call)
    day = load_day(directory, cache=True, cache_root=root)
    assert "NFO:NIFTY25D0926000CE" not in day.series
    assert [(i.symbol, i.reason, i.count) for i in day.issues] == [("NIFTY25D0926000CE", "unknown_instrument", 3)]
    assert_same_day(load_day(directory, cache=False), day)


def test_damaged_entry_is_a_miss_not_an_error(tmp_path: Path) -> None:
    directory = write_day(tmp_path / "data", NIFTY_MANIFEST, NIFTY_INSTRUMENTS, NIFTY_BARS)
    root = tmp_path / "cache"
    load_day(directory, cache=True, cache_root=root)
    (entry,) = entries(root)
    (entry / "close.npy").write_bytes(b"not an array")
    assert_same_day(load_day(directory, cache=False), load_day(directory, cache=True, cache_root=root))
    (entry / "meta.json").write_text("{")
    assert_same_day(load_day(directory, cache=False), load_day(directory, cache=True, cache_root=root))


def _big_bars() -> str:
    """One instrument at one-second bars for the whole session: a bars file over the cache's size floor."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    start = datetime(2025, 12, 9, 9, 15, tzinfo=ZoneInfo("Asia/Kolkata"))
    rows = ["ts,symbol,price,volume,oi"]
    for second in range(22_500):
        rows.append(f"{(start + timedelta(seconds=second)).isoformat()},NIFTY25D0925900PE,{40 + (second % 97) * 0.05:.2f},{second % 7},3412500")
    return "\n".join(rows) + "\n"


def test_default_caches_big_days_under_the_home_and_env_turns_it_off(tmp_path: Path, isolated_home: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    small = write_day(tmp_path / "small", NIFTY_MANIFEST, NIFTY_INSTRUMENTS, NIFTY_BARS)
    load_day(small)  # three rows: cheaper to read than to cache
    assert entries(isolated_home) == []
    bars = _big_bars()
    assert len(bars) > 1 << 20
    big = write_day(tmp_path / "big", NIFTY_MANIFEST, NIFTY_INSTRUMENTS, bars)
    fresh = load_day(big)
    assert len(entries(isolated_home / "cache" / "days")) == 1
    assert_same_day(fresh, load_day(big))
    assert fresh.series["NFO:NIFTY25D0925900PE"].volume.tolist()[:8] == [0, 1, 2, 3, 4, 5, 6, 0]
    monkeypatch.setenv("TRADEKIT_DAY_CACHE", "off")
    other = write_day(tmp_path / "other", NIFTY_MANIFEST, NIFTY_INSTRUMENTS, bars)
    load_day(other)
    assert len(entries(isolated_home / "cache" / "days")) == 1


def test_day_listing_sees_a_changed_manifest_and_bars_file(tmp_path: Path) -> None:
    """``list_days`` remembers each day's summary only while its files are unchanged."""
    from tradekit.data import list_days

    directory = write_day(tmp_path / "data", NIFTY_MANIFEST, NIFTY_INSTRUMENTS, NIFTY_BARS)
    (first,) = list_days(tmp_path / "data")
    assert (first.regime, first.rows) == ("hand-written", 9)
    (directory / "day.toml").write_text(NIFTY_MANIFEST.replace('regime = "hand-written"', 'regime = "edited by hand"'))
    (directory / "bars.csv").write_text(NIFTY_BARS + "2025-12-09T09:18:00+05:30,NIFTY 50,1,1,1,1,0,0\n")
    (again,) = list_days(tmp_path / "data")
    assert (again.regime, again.rows) == ("edited by hand", 10)


def test_read_ahead_asks_for_a_cached_day_only_and_changes_nothing(tmp_path: Path) -> None:
    from tradekit.data.loader import read_ahead

    directory = write_day(tmp_path / "data", NIFTY_MANIFEST, NIFTY_INSTRUMENTS, NIFTY_BARS)
    root = tmp_path / "cache"
    assert read_ahead(directory, cache_root=root) is False  # not cached yet: nothing to read ahead
    first = load_day(directory, cache=True, cache_root=root)
    assert read_ahead(directory, cache_root=root) is True
    assert read_ahead(tmp_path / "data" / "no-such-day", cache_root=root) is False
    assert len(entries(root)) == 1
    assert_same_day(first, load_day(directory, cache=True, cache_root=root))
