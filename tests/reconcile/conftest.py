"""Helpers: a paper home that has traded one day, the CLI commands of this feature, in-process runs."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner, Result

from tradekit.services.run import RunOptions, run
from tradekit.services.setup import Workspace, workspace


def make_app() -> typer.Typer:
    from tradekit.cli import paper, sync_cmd

    app = typer.Typer()
    sync_cmd.register(app)
    app.add_typer(paper.app, name="paper")
    return app


@pytest.fixture
def cli() -> Callable[..., Result]:
    app, runner = make_app(), CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args))

    return invoke


def run_day(home: Path, **options: object) -> list[str]:
    lines: list[str] = []
    run(workspace(home), RunOptions(strategy="example", **options), lines.append)  # type: ignore[arg-type]
    return lines


@pytest.fixture(scope="session")
def traded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Traded once per test session; each test gets a copy (a day's run costs seconds, a copy does not)."""
    import os

    from tradekit.testing.market import example_config, random_walk, session_bars, write_day

    base = tmp_path_factory.mktemp("reconcile-template")
    root, home = base / "data", base / "home"
    bars = session_bars("NSE", 60)
    for offset, day in enumerate((date(2025, 12, 8), date(2025, 12, 9), date(2025, 12, 10))):
        write_day(root, "NSE", day, {"TESTCO": random_walk(11 + offset, bars, 1000.0)})
    example_config(home, root)
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("TRADEKIT__")}
    try:
        run(workspace(home), RunOptions(strategy="example"), lambda line: None)
    finally:
        os.environ.update(saved)
    return home


@pytest.fixture
def traded_home(isolated_home: Path, traded_template: Path) -> Path:
    """A home whose example strategy has traded the first market day on the paper venue."""
    shutil.copytree(traded_template, isolated_home, dirs_exist_ok=True)
    return isolated_home


@pytest.fixture
def ws(traded_home: Path) -> Workspace:
    return workspace(traded_home)
