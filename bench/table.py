"""Print the markdown results table for docs/performance.md from bench/results.jsonl."""

from __future__ import annotations

import json
import sys
from pathlib import Path

path = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).with_name("results.jsonl"))
rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
print("| workload | figure | value | command |")
print("| --- | --- | --- | --- |")


def row(what: str, figure: str, value: object, command: str) -> None:
    print(f"| {what} | {figure} | {value} | `{command}` |")


for item in rows:
    r, cmd = item["results"], item["command"]
    name = item["bench"]
    if name == "replay_oi_momentum":
        what = f"(a) replay oi-momentum, {r['days']} day(s)"
        row(what, "quotes replayed / s (wall)", f"{r['quotes_per_s']:,}", cmd)
        row(what, "s per trading day, wall / CPU", f"{r['s_per_day']} / {r['cpu_s_per_day']}", cmd)
        row(what, "projected 250 days, wall / CPU", f"{r['projected_250_days_s']} s / {r['projected_250_days_cpu_s']} s", cmd)
        row(f"(f) peak memory, {r['days']} day(s)", "peak RSS of the backtest process", f"{r['peak_rss_mib']} MiB", cmd)
    elif name == "sma_reference":
        what = "(b) SMA 10/30 reference"
        row(what, "plain Python loop, bars/s (wall)", f"{r['plain_loop']['bars_per_s']:,.0f}", cmd)
        if "backtrader" in r:
            row(what, "backtrader, bars/s wall (CPU)", f"{r['backtrader']['bars_per_s']:,.0f} ({r['backtrader']['bars_per_cpu_s']:,.0f})", cmd)
        t = r["tradekit"]
        row(what, f"tradekit engine + paper venue ({t.get('mode', 'bar by bar')}), bars/s wall (CPU), {t['bars']:,} bars", f"{t['bars_per_s']:,.0f} ({t['bars_per_cpu_s']:,.0f})", cmd)
        row(what, "ratios", ", ".join(f"{k} {v}" for k, v in r["ratios"].items()), cmd)
        row(what, "trade counts", f"plain {r['plain_loop']['trades']}, backtrader {r.get('backtrader', {}).get('trades', '-')}, "
            f"tradekit {t['trades']} (plain on the same bars {t['plain_loop_trades_same_bars']}); checks {r['checks']}", cmd)
    elif name == "tick_to_order":
        for key, value in r.items():
            if isinstance(value, dict) and "p50_ms" in value:
                row("(c) reaction latency", f"{key} p50 / p99", f"{value['p50_ms']} / {value['p99_ms']} ms", cmd)
        row("(c) reaction latency", "ticks, orders sent, duplicate tags at the fake",
            f"{r['ticks']}, {r['orders_sent']}, {r.get('duplicate_tags_at_fake', '-')}", cmd)
    elif name == "journal_step":
        for key, value in r.items():
            extra = f", mean {value['mean_ms']} ms"
            if "projections_behind" in value:
                behind = value["projections_behind"]
                extra += f"; DuckDB behind it (after acting) {behind['p50_ms']} / {behind['p99_ms']} ms"
            row("(d) journal step", f"{key} p50 / p99", f"{value['p50_ms']} / {value['p99_ms']} ms{extra}", cmd)
    elif name == "recovery":
        row("(e) recovery", "python + imports alone", f"{r['python_and_imports_s']} s", cmd)
        for key, value in r.items():
            if key.startswith("events_"):
                row("(e) recovery", f"{value['events']:,} events: start to ready (median / max)", f"{value['ready_s']} / {value['max_s']} s ({value['probe']})", cmd)
                if "gc_full_pass_ms" in value:
                    row("(c) collector", f"{value['events']:,}-event book loaded: one full gc pass, before / after gc.freeze()",
                        f"{value['gc_full_pass_ms']} / {value['gc_full_pass_after_freeze_ms']} ms ({value['gc_tracked_objects']:,} tracked objects)", cmd)
    load = item["machine"].get("load_average_1m")
    speed = item["machine"].get("speed_index", "not recorded")
    print(f"| | machine load (1 min) / speed index (M loop iterations/s) during {name} | {load} / {speed} | |")
