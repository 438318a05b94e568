"""Money in two currencies is never added up: an INR and a USD paper account, worked out by hand.

paper:default (NSE, INR), capital 100,000:
  D1  momo NSE:AAA long 10 @100 -> 110   net +100
  D2  momo NSE:AAA long 10 @100 -> 97    net  -30
paper:us (NYSE, USD), capital 10,000:
  D1  momo NYSE:XYZ long 5 @200 -> 204   net  +20
  D2  no trades
paper:idle (USD by its paper venue file; never traded), capital 5,000: D1 and D2 without trades.

Added up blindly the paper row would say net +90 on 115,000 of "capital";
the right answer is two rows: INR +70 on 100,000 and USD +20 on 15,000.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from tradekit.cli import report_cmd
from tradekit.report.metrics import ReportFilters
from tradekit.services.report import build_report
from tradekit.services.setup import workspace
from tradekit.testing.ledger import D1, D2, NY, Ledger

INR, USD, IDLE = "paper:default", "paper:us", "paper:idle"

app = typer.Typer()
report_cmd.register(app)
runner = CliRunner()


@pytest.fixture
def two_currencies(ledger: Ledger, isolated_home: Path) -> Path:
    ledger.open_day(INR, D1, 100000)
    ledger.trade(INR, "momo", "NSE:AAA", D1, "09:30", 100, "10:30", 110, reason="TARGET")
    ledger.close_day(INR, D1)
    ledger.open_day(INR, D2)
    ledger.trade(INR, "momo", "NSE:AAA", D2, "09:30", 100, "10:30", 97, reason="STOP")
    ledger.close_day(INR, D2)
    ledger.open_day(USD, D1, 10000, tz=NY)
    ledger.trade(USD, "momo", "NYSE:XYZ", D1, "10:00", 200, "11:00", 204, quantity=5, reason="TARGET")
    ledger.close_day(USD, D1, tz=NY)
    ledger.open_day(USD, D2, tz=NY)
    ledger.close_day(USD, D2, tz=NY)
    for day, cash in ((D1, 5000), (D2, None)):
        ledger.open_day(IDLE, day, cash, tz=NY)
        ledger.close_day(IDLE, day, tz=NY)
    ledger.close()
    venue = isolated_home / "paper" / "idle.json"  # what the paper venue writes for its account
    venue.parent.mkdir(parents=True, exist_ok=True)
    venue.write_text(json.dumps({"account": IDLE, "currency": "USD", "cash": "5000", "positions": {}, "orders": {}, "fills": []}))
    return isolated_home


def by(rows: list[dict], **match: object) -> list[dict]:
    return [r for r in rows if all(r.get(k) == v for k, v in match.items())]


def test_scopes_days_and_exits_are_per_currency(two_currencies: Path) -> None:
    report = build_report(workspace(), ReportFilters())
    m = report.metrics
    assert {(a["account"], a["currency"]) for a in m.accounts} == {(INR, "INR"), (USD, "USD"), (IDLE, "USD")}
    (inr,) = by(m.scopes, kind="overall", key="paper", currency="INR")
    (usd,) = by(m.scopes, kind="overall", key="paper", currency="USD")
    assert len(by(m.scopes, kind="overall")) == 2  # no third, mixed row
    assert inr["net_pnl"] == pytest.approx(100 - 30) and inr["trades"] == 2
    assert inr["capital"] == pytest.approx(100_000) and inr["total_return"] == pytest.approx(70 / 100_000)
    assert usd["net_pnl"] == pytest.approx(20) and usd["trades"] == 1
    assert usd["capital"] == pytest.approx(10_000 + 5_000)  # the idle USD account joins USD, never INR
    assert usd["total_return"] == pytest.approx(20 / 15_000)
    assert (inr["longest_win_streak"], inr["longest_loss_streak"]) == (1, 1)
    assert (usd["longest_win_streak"], usd["longest_loss_streak"]) == (1, 0)
    # the same strategy on both accounts: two rows, one per currency
    (momo_inr,) = by(m.scopes, kind="strategy", key="paper/momo", currency="INR")
    (momo_usd,) = by(m.scopes, kind="strategy", key="paper/momo", currency="USD")
    assert momo_inr["net_pnl"] == pytest.approx(70) and momo_usd["net_pnl"] == pytest.approx(20)
    assert momo_inr["fill_rate"] == pytest.approx(1) and momo_inr["orders"] == 4 and momo_usd["orders"] == 2
    assert by(m.scopes, kind="account", key=USD)[0]["currency"] == "USD"
    # the equity curves
    inr_days = by(m.days, kind="overall", key="paper", currency="INR")
    usd_days = by(m.days, kind="overall", key="paper", currency="USD")
    assert [d["equity"] for d in inr_days] == pytest.approx([100_100, 100_070])
    assert [d["equity"] for d in usd_days] == pytest.approx([15_020, 15_020])
    (month_usd,) = by(m.months, kind="overall", key="paper", currency="USD")
    assert month_usd["net_pnl"] == pytest.approx(20)
    exits = {(e["currency"], e["exit_reason"]): e["net_pnl"] for e in m.exit_reasons}
    assert exits == pytest.approx({("INR", "TARGET"): 100, ("INR", "STOP"): -30, ("USD", "TARGET"): 20})
    # one curve per currency, each with its own capital
    assert set(report.curves) == {"paper-inr", "paper-usd"}
    assert report.curves["paper-usd"]["equity"] == pytest.approx([15_020, 15_020])


def test_terminal_table_shows_each_currency_apart(two_currencies: Path) -> None:
    result = runner.invoke(app, ["report"], env={"COLUMNS": "240"})
    assert result.exit_code == 0, result.output
    out = result.output
    cells = [[c.strip() for c in line.strip("│").split("│")] for line in out.splitlines() if line.startswith("│")]
    results = {row[0]: row for row in cells if len(row) == 12}  # the results tables: scope, trades, net P&L, return, ...
    assert results["paper (all, INR)"][1:4] == ["2", "70.00", "0.070%"]  # 70 / 100,000
    assert results["paper (all, USD)"][1:4] == ["1", "20.00", "0.133%"]  # 20 / 15,000
    assert results["strategy momo (USD)"][1:3] == ["1", "20.00"] and results["paper:idle (USD)"][1:3] == ["0", "0.00"]
    assert "paper:us (USD)" in out and "paper:default (INR)" in out and "strategy momo (USD)" in out
    assert "paper (all)" not in out
    assert "90.00" not in out and "115,0" not in out  # nothing added across currencies
    assert out.index("paper: results (INR)") < out.index("paper: results (USD)")


def test_json_and_html_keep_currencies_apart(two_currencies: Path, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    result = runner.invoke(app, ["report", "--json", "--html", str(page)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    overall = {s["currency"]: s for s in data["scopes"] if s["kind"] == "overall"}
    assert set(overall) == {"INR", "USD"}
    assert overall["INR"]["net_pnl"] == pytest.approx(70) and overall["USD"]["net_pnl"] == pytest.approx(20)
    assert {(x["id"], x["currency"]) for x in data["sections"]} == {("paper-inr", "INR"), ("paper-usd", "USD")}
    assert all(d["currency"] in ("INR", "USD") for d in data["days"])
    html = page.read_text()
    for chart in ("equity", "drawdown", "pnl", "months"):
        assert f'id="{chart}-paper-inr"' in html and f'id="{chart}-paper-usd"' in html
    assert 'id="equity-paper"' not in html
    inr_part = html[html.index('id="mode-paper-inr"'):html.index('id="mode-paper-usd"')]
    usd_part = html[html.index('id="mode-paper-usd"'):]
    text = lambda part: re.sub(r"<[^>]+>", " ", part)  # noqa: E731
    assert "paper (all, INR)" in text(inr_part) and "100,070.00" in text(inr_part) and "USD" not in text(inr_part)
    assert "paper (all, USD)" in text(usd_part) and "15,020.00" in text(usd_part) and "INR" not in text(usd_part)
    assert "90.00" not in text(html) and "115,0" not in text(html)


def test_accounts_without_trades_take_their_broker_currency_or_stay_apart(ledger: Ledger, isolated_home: Path) -> None:
    ledger.open_day("zerodha:AB1", D1, 50000)  # an Indian broker: INR even before the first order
    ledger.close_day("zerodha:AB1", D1)
    ledger.open_day("ibkr:U2", D1, 20000, tz=NY)
    ledger.trade("ibkr:U2", "momo", "NYSE:XYZ", D1, "10:00", 200, "11:00", 198, quantity=5, reason="STOP")
    ledger.close_day("ibkr:U2", D1, tz=NY)
    ledger.open_day("ibkr:U1", D1, 30000, tz=NY)  # never traded, and IBKR trades many currencies: unknown
    ledger.close_day("ibkr:U1", D1, tz=NY)
    ledger.close()
    m = build_report(workspace(), ReportFilters()).metrics
    assert {a["account"]: a["currency"] for a in m.accounts} == {"zerodha:AB1": "INR", "ibkr:U2": "USD", "ibkr:U1": "?"}
    live = {s["currency"]: s for s in by(m.scopes, kind="overall", key="live")}
    assert set(live) == {"INR", "USD", "?"}
    assert (live["INR"]["capital"], live["USD"]["capital"], live["?"]["capital"]) == pytest.approx((50_000, 20_000, 30_000))
    assert live["USD"]["net_pnl"] == pytest.approx(-10) and live["USD"]["total_return"] == pytest.approx(-10 / 20_000)
