"""The bundled samples: listed, loadable, rebuilt byte-for-byte, and exercising every rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradekit.data import bundled_root, find_day, list_days, load_day, read_scanner
from tradekit.data.bundle import NIFTY_SAMPLES, US_SAMPLES, build_nifty_sample, build_us_sample
from tradekit.errors import DataError

from . import rules

OI_MOMENTUM = {"initial_stop", "trailing_stop", "vwap_stop", "oi_stop", "end_of_day"}
PS60 = {"partial_then_target_2", "partial_then_stop_break_even", "stop_at_pivot", "attempt_limit_reached", "end_of_day"}


def test_list_days_shows_bundled_days() -> None:
    days = list_days()
    assert [(d.market, d.day) for d in days] == [("NSE", d) for d, _ in NIFTY_SAMPLES] + [("NYSE", d) for d, _ in US_SAMPLES]
    assert all(d.rows > 0 and d.instruments > 0 for d in days)
    total = sum(p.stat().st_size for p in bundled_root().rglob("*") if p.is_file())
    assert total < 10 * 1024 * 1024


def test_find_day_unknown_day_names_what_was_searched(tmp_path: Path) -> None:
    assert find_day("nse").name == NIFTY_SAMPLES[0][0].isoformat()
    with pytest.raises(DataError, match="no market day found for NYSE 2020-01-02"):
        from datetime import date

        find_day("NYSE", date(2020, 1, 2))


def _ps60_events(events: list[str]) -> set[str]:
    names = {event.split(":", 1)[1] for event in events}
    found = set()
    if "target_2" in names:
        found.add("partial_then_target_2")
    if "stop_break_even" in names:
        found.add("partial_then_stop_break_even")
    if "stop_pivot" in names:
        found.add("stop_at_pivot")
    return found | (names & {"attempt_limit_reached", "end_of_day"})


def test_bundled_days_exercise_what_their_manifests_claim_and_every_rule() -> None:
    seen_oi, seen_ps60 = set(), set()
    for info in list_days():
        day = load_day(info.path)
        assert day.issues == ()
        claimed = {item.split(":", 1)[1] for item in day.manifest["exercises"]}
        if day.market == "NSE":
            found = set(rules.oi_momentum(day)) - {e for e in rules.oi_momentum(day) if e.startswith("entry@")}
            seen_oi |= found
        else:
            found = _ps60_events(rules.ps60(day, read_scanner(day.scanner)))
            seen_ps60 |= found
        assert claimed <= found, (info.path, claimed - found)
    assert OI_MOMENTUM <= seen_oi and PS60 <= seen_ps60


@pytest.mark.parametrize("kind", ["NSE", "NYSE"])
def test_bundled_sample_rebuilds_byte_identical(tmp_path: Path, kind: str) -> None:
    day, regime = (NIFTY_SAMPLES if kind == "NSE" else US_SAMPLES)[0]
    build = build_nifty_sample if kind == "NSE" else build_us_sample
    rebuilt = build(day, regime, tmp_path)
    shipped = bundled_root() / kind / day.isoformat()
    for path in sorted(shipped.iterdir()):
        assert (rebuilt / path.name).read_bytes() == path.read_bytes(), path.name
