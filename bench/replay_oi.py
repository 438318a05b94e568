"""Workloads (a) and (f): `tradekit backtest` of oi-momentum over generated NIFTY days at 1-second
quotes for the whole chain (20 strikes a side: 83 instruments, ~1.87M quotes a day).

Generates ``--days`` seeded days once (cached under $TRADEKIT_BENCH_DIR, default
/tmp/tradekit-bench; about 10 s of CPU a day, so a 250-day run generates for about
40 minutes the first time), then runs the real CLI in a subprocess, timed from
process start to exit, and reports per trading day: CPU seconds (user + system of
that process alone, which the machine's load barely moves) and wall seconds, with
start-up (a `tradekit plugins` run: interpreter, imports, plugin loading) taken out;
quotes replayed per second; the projection for 250 days (start-up + 250 x per day);
and the backtest process's own peak RSS.

Days are read through tradekit's per-day cache (<home>/cache/days): by default the
bench fills it first (``--cache warm``: what every backtest after the first one sees,
and it reports what filling it cost per day); ``--cache cold`` empties it so the
timed run pays the first read and the write; ``--cache off`` turns it off
(TRADEKIT_DAY_CACHE=off).

``--per-day`` then runs the same backtest in the bench process and reports each day's
CPU seconds, how they grow with the days run, and a 250-day projection carrying that growth.

    .venv/bin/python bench/replay_oi.py --days 20 --per-day
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import ROOT, WORK, emit, note  # noqa: E402

REGIMES = ("trend_down", "opening_gap", "chop", "reversal", "trend_up")
TRADEKIT = str(ROOT / ".venv" / "bin" / "tradekit")
HOME = WORK / "home"


def nse_days(count: int, first: date = date(2024, 3, 4)) -> list[date]:
    from tradekit.calendars import session

    days, day = [], first
    while len(days) < count:
        if session("NSE", day) is not None:
            days.append(day)
        day += timedelta(days=1)
    return days


def ensure_days(root: Path, count: int, jobs: int = 1) -> list[date]:
    """The first ``count`` NSE trading days from 2024-03-04, generated once each (seed = its number)."""
    from concurrent.futures import ThreadPoolExecutor

    days = nse_days(count)

    def generate(number: int, day: date) -> None:
        note(f"generating NSE {day} ({number + 1} of {count}) ...")
        subprocess.run([TRADEKIT, "--home", str(HOME), "data", "generate", "--market", "NSE", "--date", day.isoformat(),
                        "--regime", REGIMES[number % len(REGIMES)], "--seed", str(number + 1), "--root", str(root)],
                       check=True, stdout=subprocess.DEVNULL)

    missing = [(n, d) for n, d in enumerate(days) if not (root / "NSE" / d.isoformat() / "bars.parquet").is_file()]
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for future in [pool.submit(generate, n, d) for n, d in missing]:
            future.result()
    return days


def timed(args: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Wall seconds, CPU seconds (user + system) and peak RSS of this one child process, and its stdout."""
    started = time.perf_counter()
    with subprocess.Popen(args, stdout=subprocess.PIPE, env=env, text=True) as child:
        assert child.stdout is not None
        out = child.stdout.read()
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"{args[0]} exited with {child.returncode}")
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "peak_mib": usage.ru_maxrss / 1024, "out": out}


def prime_cache(root: Path, days: list[date]) -> float:
    """Load every day once through the cache (in this process); CPU seconds per day it cost."""
    os.environ["TRADEKIT_HOME"] = str(HOME)
    from tradekit.data import load_day

    started = time.process_time()
    for day in days:
        load_day(root / "NSE" / day.isoformat())
    return (time.process_time() - started) / len(days)


def per_day_series(root: Path, days: list[date]) -> dict[str, Any]:
    """The same backtest in this process, CPU and wall seconds of each day (the engine's progress callback),
    so growth with the number of days shows: the mean of the first and last five days and a least-squares
    slope, and a 250-day projection that carries the slope on (per-day costs that grow with the account's
    orders, fills and journal make a year cost more than 250 x an early day)."""
    os.environ["TRADEKIT_HOME"] = str(HOME)
    from tradekit.services.backtest import backtest
    from tradekit.services.setup import workspace

    marks = [(time.process_time(), time.perf_counter())]
    backtest(workspace(HOME), "oi-momentum", days[0], days[-1], data=root,
             progress=lambda done, total, day: marks.append((time.process_time(), time.perf_counter())))
    cpu = [b[0] - a[0] for a, b in zip(marks, marks[1:])]
    wall = [b[1] - a[1] for a, b in zip(marks, marks[1:])]
    steady = cpu[1:] if len(cpu) > 2 else cpu  # the first day also pays this process's lazy imports
    n = len(steady)
    mean_x, mean_y = (n - 1) / 2, sum(steady) / n
    spread = sum((x - mean_x) ** 2 for x in range(n))
    slope = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(steady)) / spread if spread else 0.0
    start = mean_y - slope * mean_x
    projected = sum(max(start + slope * x, 0.0) for x in range(250)) + (cpu[0] - steady[0] if len(cpu) > 2 else 0.0)
    return {"cpu_s_per_day": [round(x, 3) for x in cpu], "wall_s_per_day": [round(x, 3) for x in wall],
            "cpu_first5_mean": round(sum(cpu[:5]) / len(cpu[:5]), 3), "cpu_last5_mean": round(sum(cpu[-5:]) / len(cpu[-5:]), 3),
            "cpu_slope_s_per_day_per_day": round(slope, 5), "projected_250_days_cpu_s_with_growth": round(projected, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--cache", choices=("warm", "cold", "off"), default="warm")
    parser.add_argument("--jobs", type=int, default=1, help="days generated in parallel the first time (each ~10 CPU-s)")
    parser.add_argument("--per-day", action="store_true", help="also run in-process: each day's CPU, growth, projection with growth")
    args = parser.parse_args()
    root = WORK / "nse-1s"
    days = ensure_days(root, args.days, args.jobs)
    import pyarrow.parquet as pq

    quotes = sum(pq.ParquetFile(root / "NSE" / day.isoformat() / "bars.parquet").metadata.num_rows for day in days)
    env = dict(os.environ)
    prime = None
    if args.cache == "off":
        env["TRADEKIT_DAY_CACHE"] = "off"
    elif args.cache == "cold":
        shutil.rmtree(HOME / "cache" / "days", ignore_errors=True)
    else:
        prime = prime_cache(root, days)
    load_before = os.getloadavg()[0]
    startup = timed([TRADEKIT, "--home", str(HOME), "plugins"], env)  # process start + plugin loading, no replay
    command = [TRADEKIT, "--home", str(HOME), "backtest", "--data", str(root), "--from", days[0].isoformat(),
               "--to", days[-1].isoformat(), "--json"]
    run = timed(command, env)
    summary = json.loads(run["out"])
    n = len(days)
    wall_day = (run["wall"] - startup["wall"]) / n
    cpu_day = (run["cpu"] - startup["cpu"]) / n
    emit("replay_oi_momentum", {
        "days": n, "instruments": 83, "quotes": quotes, "trades": summary["trades"], "final_cash": summary["final_cash"],
        "day_cache": args.cache, "cache_fill_cpu_s_per_day": round(prime, 3) if prime is not None else None,
        "wall_s": round(run["wall"], 2), "startup_s": round(startup["wall"], 2),
        "cpu_s": round(run["cpu"], 2), "startup_cpu_s": round(startup["cpu"], 2),
        "s_per_day": round(wall_day, 3), "cpu_s_per_day": round(cpu_day, 3),
        "quotes_per_s": round(quotes / max(run["wall"] - startup["wall"], 1e-9)),
        "quotes_per_cpu_s": round(quotes / max(run["cpu"] - startup["cpu"], 1e-9)),
        "projected_250_days_s": round(startup["wall"] + 250 * wall_day, 1),
        "projected_250_days_cpu_s": round(startup["cpu"] + 250 * cpu_day, 1),
        "peak_rss_mib": round(run["peak_mib"], 1),
        "backtest_command": "tradekit " + " ".join(command[1:]),
        "load_average_before_after": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        **({"in_process": per_day_series(root, days)} if args.per_day else {}),
    })


if __name__ == "__main__":
    main()
