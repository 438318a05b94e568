"""Every hook spec is documented for plugin authors and exercised by a test (after datasette's meta-test)."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from tradekit.plugins import hookspecs

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "plugin-authors.md"
HOOKS = sorted(name for name, value in inspect.getmembers(hookspecs) if hasattr(value, "tradekit_spec"))


def test_hookspecs_found() -> None:
    assert {"register_brokers", "register_strategies", "on_event"} <= set(HOOKS)


@pytest.mark.parametrize("hook", HOOKS)
def test_plugin_hooks_are_documented(hook: str) -> None:
    headings = [line for line in GUIDE.read_text().splitlines() if line.startswith("#")]
    pattern = re.compile(rf"^#{{2,4}} `?{hook}`?(\(|\s|$)")
    assert any(pattern.match(line) for line in headings), f"docs/plugin-authors.md has no '## {hook}' heading"


@pytest.mark.parametrize("hook", HOOKS)
def test_plugin_hooks_have_tests(hook: str) -> None:
    this = Path(__file__).resolve()
    sources = [p for p in (ROOT / "tests").rglob("test_*.py") if p.resolve() != this]
    users = [p.name for p in sources if re.search(rf"\b{hook}\b", p.read_text())]
    assert users, f"no test under tests/ mentions the hook {hook}"
