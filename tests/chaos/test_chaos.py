"""The chaos harness (bench/chaos.py) with a small N: kill -9, manual trades and downtime fills, same end state.

Any N on demand: ``python bench/chaos.py --kills 200``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HARNESS = Path(__file__).resolve().parents[2] / "bench" / "chaos.py"


def load_harness():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("tradekit_chaos_harness", HARNESS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_chaos_small_n_kills_end_like_uninterrupted_run_plus_manual_trades(tmp_path: Path) -> None:
    harness = load_harness()
    summary = harness.chaos(kills=2, seed=4, work=tmp_path)
    assert summary.failures == []
    assert summary.kills == 2
    assert summary.manual_orders >= 1  # the seed makes the trader trade by hand between restarts
    assert summary.duplicate_orders == 0 and summary.lost_fills == 0
    assert summary.start_reconciles_in_sync >= 1 and summary.start_reconciles_corrected == 0


def test_chaos_detects_a_lost_fill(tmp_path: Path) -> None:
    """The harness can fail: a fill deleted from the store is reported lost, and the cash no longer matches."""
    import json
    import shutil

    from tradekit.store import DuckDBStore

    harness = load_harness()
    root = tmp_path / "data"
    harness.write_market(root, 1)
    reference, broken = tmp_path / "reference", tmp_path / "broken"
    harness._run_reference(reference, root)
    shutil.copytree(reference, broken)
    state = json.loads((broken / "paper" / "default.json").read_text())
    store = DuckDBStore(broken / "tradekit.duckdb")
    try:
        store._connection.execute("DELETE FROM fills WHERE fill_id = ?", [state["fills"][0]["fill_id"]])
    finally:
        store.close()
    summary = harness.Summary(kills_requested=0, seed=0)
    harness._compare(reference, broken, summary)
    assert summary.lost_fills == 1 and any("lost fills" in failure for failure in summary.failures)
