"""print_json: the same JSON as json.dumps gives, objects indented, each object in a list on one line."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest

from tradekit.cli.output import print_json

CASES = [
    {"store": "x", "filters": {"from": None, "strategies": [], "risk_free": 0.065},
     "days": [{"day": date(2025, 12, 1), "net_pnl": -40.5, "trades": 3}, {"day": date(2025, 12, 2), "net_pnl": 0.0, "trades": 0}],
     "nested": [[{"a": 1}], [], [1, 2]], "money": Decimal("12.50"), "ts": datetime(2025, 12, 1, 4, tzinfo=timezone.utc)},
    {}, [], "text", 3.25, None, [1, "a", None], {1: "int key", False: "bool key", None: [{"deep": {"er": [1, {"x": 2}]}}]},
]  # fmt: skip


@pytest.mark.parametrize("data", CASES)
def test_same_json_as_the_standard_encoder(data: object, capsys: pytest.CaptureFixture[str]) -> None:
    print_json(data)
    out = capsys.readouterr().out
    assert out.endswith("\n")
    standard = json.dumps(data, default=lambda v: str(v) if isinstance(v, Decimal) else v.isoformat())
    assert json.loads(out) == json.loads(standard)


def test_rows_one_per_line_and_the_rest_indented(capsys: pytest.CaptureFixture[str]) -> None:
    print_json(CASES[0])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "{" and lines[-1] == "}"
    assert '  "filters": {' in lines and '    "from": null,' in lines
    rows = [line for line in lines if line.lstrip().startswith('{"day"')]
    assert [json.loads(line.strip().rstrip(",")) for line in rows] == [
        {"day": "2025-12-01", "net_pnl": -40.5, "trades": 3}, {"day": "2025-12-02", "net_pnl": 0.0, "trades": 0}]
