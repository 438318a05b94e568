"""Workloads (a) and (f): `tradekit backtest` of oi-momentum over generated NIFTY days at 1-second
quotes for the whole chain (20 strikes a side: 83 instruments, ~1.87M quotes a day).

Generates ``--days`` seeded days once (cached under $TRADEKIT_BENCH_DIR, default
/tmp/tradekit-bench), then runs the real CLI in a subprocess, timed from process
start to exit, and reports quotes replayed per second, seconds per trading day
(startup excluded: (wall - startup) / days), the projected time for 250 days
and the subprocess's peak RSS (a year's backtest loads one day at a time, so its
peak is the same as a few days'; the figure for one day comes from --days 1).

    .venv/bin/python bench/replay_oi.py --days 5
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, WORK, emit, note  # noqa: E402

REGIMES = ("trend_down", "opening_gap", "chop", "reversal", "trend_up")
TRADEKIT = str(ROOT / ".venv" / "bin" / "tradekit")


def nse_days(count: int, first: date = date(2024, 3, 4)) -> list[date]:
    from tradekit.calendars import session

    days, day = [], first
    while len(days) < count:
        if session("NSE", day) is not None:
            days.append(day)
        day += timedelta(days=1)
    return days


def ensure_days(root: Path, count: int) -> list[date]:
    days = nse_days(count)
    for number, day in enumerate(days):
        if (root / "NSE" / day.isoformat() / "bars.parquet").is_file():
            continue
        note(f"generating NSE {day} ...")
        subprocess.run([TRADEKIT, "--home", str(WORK / "home"), "data", "generate", "--market", "NSE", "--date", day.isoformat(),
                        "--regime", REGIMES[number % len(REGIMES)], "--seed", str(number + 1), "--root", str(root)],
                       check=True, stdout=subprocess.DEVNULL)
    return days


def timed(args: list[str]) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds (user + system of the child) and stdout."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(args, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime + after.ru_stime) - (usage.ru_utime + usage.ru_stime), done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=5)
    args = parser.parse_args()
    root = WORK / "nse-1s"
    days = ensure_days(root, args.days)
    env_home = str(WORK / "home")
    quotes = 0
    import pyarrow.parquet as pq

    for day in days:
        quotes += pq.ParquetFile(root / "NSE" / day.isoformat() / "bars.parquet").metadata.num_rows
    startup, startup_cpu, _ = timed([TRADEKIT, "--home", env_home, "plugins"])  # process start + plugin loading, no replay
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    wall, cpu, out = timed([TRADEKIT, "--home", env_home, "backtest", "--data", str(root), "--from", days[0].isoformat(),
                       "--to", days[-1].isoformat(), "--json"])
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    import json

    summary = json.loads(out)
    per_day = (wall - startup) / len(days)
    cpu_per_day = (cpu - startup_cpu) / len(days)
    emit("replay_oi_momentum", {
        "days": len(days), "instruments": 83, "quotes": quotes, "trades": summary["trades"],
        "wall_s": round(wall, 2), "startup_s": round(startup, 2),
        "quotes_per_s": round(quotes / (wall - startup)), "s_per_day": round(per_day, 3),
        "projected_250_days_s": round(startup + 250 * per_day, 1),
        "cpu_s": round(cpu, 2), "startup_cpu_s": round(startup_cpu, 2), "cpu_s_per_day": round(cpu_per_day, 3),
        "projected_250_days_cpu_s": round(startup_cpu + 250 * cpu_per_day, 1),
        "peak_rss_mib": round(max(peak, before) / 1024, 1),
        "backtest_command": f"tradekit --home {env_home} backtest --data {root} --from {days[0]} --to {days[-1]} --json",
        "load_average": os.getloadavg(),
    })


if __name__ == "__main__":
    main()
