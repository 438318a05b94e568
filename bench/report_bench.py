#!/usr/bin/env python3
"""Benchmark `tradekit report` over 1,000,000 generated trades (docs/performance.md, "## Report").

    .venv/bin/python bench/report_bench.py [--trades 1000000] [--home DIR] [--keep]

1. Generates a store: three accounts (two paper, one live) over 750 NSE
   trading days, their DayOpened/DayClosed events written through the
   public model (Book + DuckDBStore.commit), then N closed trades, 2N orders
   and some blocked-signal counts bulk-inserted with SQL (deterministic:
   every field is a hash of the row number); the per-day trade summary
   (``trades_daily``) built from them with the store's own back-fill SQL.
2. In a fresh process, times the report (all metrics, every scope, per day
   and month, exit reasons, blocks, benchmark lookup) three times after
   one warm-up run and records the process's peak resident memory; then
   times the whole CLI (`tradekit report --json`) end to end, and the HTML.

Prints one JSON line with the figures. Not a test: it takes about a minute.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import duckdb

ACCOUNTS = ("paper:alpha", "paper:beta", "zerodha:AB1234")
STRATEGIES = ("oi-momentum", "ps60", "meanrev", "breakout")
REASONS = ("TARGET", "INITIAL_STOP", "TRAILING_STOP", "END_OF_DAY", "VWAP_STOP")


def trading_days(count: int, start: date = date(2023, 1, 2)) -> list[date]:
    days, day = [], start
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def generate(home: Path, trades: int, day_count: int = 750) -> None:
    from datetime import datetime
    from datetime import time as clock
    from zoneinfo import ZoneInfo

    from tradekit.model.book import Book
    from tradekit.model.events import DayClosed, DayOpened
    from tradekit.store import DuckDBStore

    ist = ZoneInfo("Asia/Kolkata")
    days = trading_days(day_count)
    store = DuckDBStore(home / "tradekit.duckdb", batch_size=5000)
    book = Book()
    for account in ACCOUNTS:
        capital = Decimal(1_000_000)
        for day in days:
            for event in (
                DayOpened(ts=datetime.combine(day, clock(9, 15), ist), account=account, day=day, cash=capital, source="capital"),
                DayClosed(ts=datetime.combine(day, clock(15, 30), ist), account=account, day=day, cash=capital, equity=capital),
            ):
                book.apply(event)
                store.commit([event], book, durable=False)
    store.flush(book)
    store.close()

    connection = duckdb.connect(str(home / "tradekit.duckdb"))
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute("CREATE TEMP TABLE d AS SELECT unnest(?::DATE[]) AS day, generate_subscripts(?::DATE[], 1) - 1 AS n", [days, days])
    accounts_sql = "[" + ", ".join(f"'{a}'" for a in ACCOUNTS) + "]"
    strategies_sql = "[" + ", ".join(f"'{s}'" for s in STRATEGIES) + "]"
    reasons_sql = "[" + ", ".join(f"'{r}'" for r in REASONS) + "]"
    # every trade: an account, a day, a strategy, an entry in the session, 1-60 minutes held,
    # a price near 100 and a move of -3..+3 %, 75-300 units, costs and slippage of a few rupees
    connection.execute(f"""
        CREATE TEMP TABLE g AS
        SELECT i,
               {accounts_sql}[1 + i % {len(ACCOUNTS)}] AS account,
               {strategies_sql}[1 + (hash(i * 3 + 1) % {len(STRATEGIES)})::INT] AS strategy,
               {reasons_sql}[1 + (hash(i * 5 + 2) % {len(REASONS)})::INT] AS exit_reason,
               (hash(i * 7 + 3) % {len(days)})::INT AS n,
               (hash(i * 11 + 4) % 21000)::INT AS entry_offset,
               60 + (hash(i * 13 + 5) % 3540)::INT AS held,
               round(80 + (hash(i * 17 + 6) % 4000) / 100.0, 2) AS entry_price,
               ((hash(i * 19 + 7) % 6001)::INT - 2900) / 100000.0 AS move,
               75 * (1 + (hash(i * 23 + 8) % 4)::INT) AS quantity,
               CASE WHEN hash(i * 29 + 9) % 3 = 0 THEN -1 ELSE 1 END AS direction
        FROM range({trades}) t(i)
    """)
    connection.execute("""
        INSERT INTO trades
        SELECT account, 'T' || (i + 1), strategy, 'NFO:NIFTY' || (24000 + (i % 40) * 50) || 'CE',
               CASE WHEN direction > 0 THEN 'LONG' ELSE 'SHORT' END, quantity,
               timezone('Asia/Kolkata', d.day + INTERVAL 9 HOUR + INTERVAL 15 MINUTE) + to_seconds(entry_offset) AS entry_ts,
               entry_price,
               timezone('Asia/Kolkata', d.day + INTERVAL 9 HOUR + INTERVAL 15 MINUTE) + to_seconds(entry_offset + held) AS exit_ts,
               round(entry_price * (1 + move), 2) AS exit_price,
               round((round(entry_price * (1 + move), 2) - entry_price) * quantity * direction, 2) AS gross_pnl,
               round(5 + quantity * 0.01, 2) AS costs,
               round((round(entry_price * (1 + move), 2) - entry_price) * quantity * direction, 2) - round(5 + quantity * 0.01, 2),
               round(move * 100 * direction, 4), exit_reason, round((i % 7) * 0.25 * quantity / 75, 2), 0, false
        FROM g JOIN d USING (n)
    """)
    from tradekit.store.trades_daily import SELECT_SQL

    connection.execute(f"INSERT INTO trades_daily {SELECT_SQL}")  # the store's per-day summary of them, as m004 back-fills it
    connection.execute("""
        INSERT INTO orders
        SELECT 'O' || (i * 2 + k), account, 'NFO:NIFTY' || (24000 + (i % 40) * 50) || 'CE',
               CASE WHEN (k = 0) = (direction > 0) THEN 'BUY' ELSE 'SELL' END, quantity, 'MARKET', NULL, NULL, strategy,
               CASE WHEN k = 0 THEN 'ENTRY' ELSE exit_reason END,
               timezone('Asia/Kolkata', d.day + INTERVAL 9 HOUR + INTERVAL 15 MINUTE) + to_seconds(entry_offset + k * held),
               'FILLED', 'B' || (i * 2 + k), quantity, entry_price, NULL, '', NULL
        FROM g JOIN d USING (n), range(2) r(k)
    """)
    connection.execute(f"""
        INSERT INTO blocks
        SELECT a.account, s.strategy, d.day, r.rule, 1 + (hash(d.n * 31 + len(r.rule)) % 5)::INT
        FROM d, (SELECT unnest({accounts_sql}) AS account) a, (SELECT unnest({strategies_sql}) AS strategy) s,
             (SELECT unnest(['MAX_TRADES', 'ALREADY_HELD', 'OUTSIDE_WINDOW']) AS rule) r
    """)
    connection.execute("CHECKPOINT")
    connection.close()


def peak_rss_mib() -> float:
    """This process's peak resident memory (VmHWM: starts fresh at exec, unlike ru_maxrss which a forked child inherits)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def measure(home: Path, runs: int) -> dict[str, object]:
    """Runs in a fresh process: time build_report and record peak RSS."""
    os.environ["TRADEKIT_HOME"] = str(home)
    from tradekit.report.html import render
    from tradekit.report.metrics import ReportFilters
    from tradekit.services.report import build_report
    from tradekit.services.setup import workspace

    before = peak_rss_mib()
    build_report(workspace(), ReportFilters())  # warm-up: file cache, DuckDB start
    times, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        report = build_report(workspace(), ReportFilters())
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)  # all threads' CPU: much less sensitive to a busy machine than wall time
    started = time.perf_counter()
    page = render(report)
    html_seconds = time.perf_counter() - started
    peak = peak_rss_mib()
    trades = sum(s["trades"] for s in report.metrics.scopes if s["kind"] == "overall")
    return {
        "trades_in_report": trades, "report_seconds": [round(t, 3) for t in sorted(times)], "report_median_seconds": round(sorted(times)[len(times) // 2], 3),
        "report_cpu_seconds_median": round(sorted(cpu)[len(cpu) // 2], 3),
        "html_render_seconds": round(html_seconds, 3), "html_bytes": len(page), "peak_rss_mib": peak,
        "rss_after_imports_mib": before, "load_average_1min": round(os.getloadavg()[0], 2),
        "report_cpu_seconds": [round(c, 3) for c in sorted(cpu)],
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trades", type=int, default=1_000_000)
    parser.add_argument("--home", type=Path, default=None, help="where to build the store (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the generated store")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--measure", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure is not None:
        print(json.dumps(measure(args.measure, args.runs)))
        return
    home = args.home or Path(tempfile.mkdtemp(prefix="tradekit-report-bench-"))
    home.mkdir(parents=True, exist_ok=True)
    if (home / "tradekit.duckdb").exists():
        sys.exit(f"{home / 'tradekit.duckdb'} exists; give an empty --home")
    try:
        started = time.perf_counter()
        generate(home, args.trades)
        generated = time.perf_counter() - started
        child = subprocess.run([sys.executable, __file__, "--measure", str(home), "--runs", str(args.runs)],
                               capture_output=True, text=True, check=True)  # fmt: skip
        figures = json.loads(child.stdout.strip().splitlines()[-1])
        tradekit = Path(sys.executable).with_name("tradekit")
        command = [str(tradekit), "--home", str(home), "report", "--json"]
        timer = shutil.which("time") or ("/usr/bin/time" if Path("/usr/bin/time").exists() else None)
        if timer:  # GNU time prints the CLI's own peak RSS (KiB) on stderr
            command = [timer, "-f", "%M", *command]
        started = time.perf_counter()
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
        cli_seconds = time.perf_counter() - started
        cli_peak = round(int(done.stderr.strip().splitlines()[-1]) / 1024, 1) if timer else None
        result = {
            "trades": args.trades, "generate_seconds": round(generated, 1), **figures,
            "cli_report_json_seconds": round(cli_seconds, 3), "cli_peak_rss_mib": cli_peak,
            "store_mib": round((home / "tradekit.duckdb").stat().st_size / 2**20, 1),
            "duckdb": duckdb.__version__, "python": platform.python_version(), "cpus": os.cpu_count(),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        }  # fmt: skip
        print(json.dumps(result))
    finally:
        if not args.keep and args.home is None:
            shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
