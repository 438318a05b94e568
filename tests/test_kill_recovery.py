"""kill -9 of a real ``tradekit run`` at many instants, then restarts: the end state equals an uninterrupted run.

Crash instants come from crash points (``tradekit.faults``): after each
journal commit, between sending an order and recording its acknowledgement,
inside an open store transaction, around the paper venue's save. A second
test kills the process asynchronously after a chosen line of its live log.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

from tradekit.testing.market import example_config
from tradekit.testing.outcome import store_outcome, venue_outcome
from tradekit.testing.process import run_tradekit

DONE = "every NSE day in the data has been traded"


tradekit = run_tradekit  # the shared child-process runner (tradekit.testing.process)


def run_to_the_end(home: Path, limit: int = 12) -> list[str]:
    outputs = []
    for _ in range(limit):
        result = tradekit(home, "run", "--strategy", "example")
        assert result.returncode == 0, result.stderr
        outputs.append(result.stdout)
        if DONE in result.stdout:
            return outputs
    raise AssertionError("run never finished the data")


def test_run_killed_at_random_crash_points_ends_like_uninterrupted_run(tmp_path: Path, market_root: Path) -> None:
    reference = tmp_path / "reference"
    example_config(reference, market_root)
    counts = []
    for _ in range(3):
        count_file = tmp_path / f"count{len(counts)}"
        result = tradekit(reference, "run", "--strategy", "example", count_file=count_file)
        assert result.returncode == 0, result.stderr
        counts.append(int(count_file.read_text()))
    assert DONE in tradekit(reference, "run", "--strategy", "example").stdout
    expected, expected_venue = store_outcome(reference), venue_outcome(reference)
    assert expected["trades"], "the reference run must trade for this test to mean anything"

    crashed = tmp_path / "crashed"
    example_config(crashed, market_root)
    chooser = random.Random(20251209)
    kills = 0
    for day_points in counts:
        for _ in range(3):  # three kills inside each day's run, at random crash points
            result = tradekit(crashed, "run", "--strategy", "example", crash_at=chooser.randint(1, max(1, day_points // 2)))  # a resumed run has less left to do
            if result.returncode == -signal.SIGKILL:
                kills += 1
            else:
                assert result.returncode == 0, result.stderr
        result = tradekit(crashed, "run", "--strategy", "example")
        assert result.returncode == 0, result.stderr
    run_to_the_end(crashed)

    assert kills >= 4  # some picks land past what a resumed run still has to do
    assert store_outcome(crashed) == expected
    venue = venue_outcome(crashed)
    assert venue["orders"] == expected_venue["orders"]  # no order sent twice, none lost
    assert len(venue["tags"]) == len(set(venue["tags"]))
    assert venue["fills"] == expected_venue["fills"] and venue["cash"] == expected_venue["cash"]
    doctor = tradekit(crashed, "doctor")
    assert doctor.returncode == 0 and "projections match the journal" in doctor.stdout


def test_run_killed_after_a_log_line_resumes_and_matches(tmp_path: Path, market_root: Path) -> None:
    reference = tmp_path / "reference"
    example_config(reference, market_root)
    run_to_the_end(reference)

    crashed = tmp_path / "crashed"
    example_config(crashed, market_root)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEKIT")}
    env["TRADEKIT_HOME"] = str(crashed)
    for stop_after in (5, 11):  # kill -9 right after the process printed that many lines (the first fill, a later trade)
        process = subprocess.Popen([sys.executable, "-m", "tradekit", "run", "--strategy", "example"], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert process.stdout is not None
        for _ in range(stop_after):
            if not process.stdout.readline():
                break
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        process.stdout.close()
    outputs = run_to_the_end(crashed)
    assert "resumed from checkpoint" in outputs[0] or "opens with cash" in outputs[0]
    assert store_outcome(crashed) == store_outcome(reference)
    assert venue_outcome(crashed)["orders"] == venue_outcome(reference)["orders"]
