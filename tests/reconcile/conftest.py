"""Helpers: a paper home that has traded one day, the CLI commands of this feature, in-process runs."""

from __future__ import annotations

from collections.abc import Callable
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


@pytest.fixture
def traded_home(isolated_home: Path, market_root: Path, configure_example: Callable[..., None]) -> Path:
    """A home whose example strategy has traded the first market day on the paper venue."""
    configure_example(isolated_home, market_root)
    run_day(isolated_home)
    return isolated_home


@pytest.fixture
def ws(traded_home: Path) -> Workspace:
    return workspace(traded_home)
