"""Each rule of the risk gate on a real engine, store and paper venue: what passes, what is blocked and why."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.risk.desk import ACCOUNT, OPTION, Desk, open_desk

from tradekit.config import load_config
from tradekit.errors import ConfigError
from tradekit.model.orders import OrderType, Side
from tradekit.services.doctor import check

TESTCO, OTHERCO, BANKCO, NIFTY_CE = "NSE:TESTCO", "NSE:OTHERCO", "NSE:BANKCO", f"NFO:{OPTION}"


@pytest.fixture
def desk_factory(tmp_path: Path):
    desks: list[Desk] = []

    def make(**risk) -> Desk:
        desk = open_desk(tmp_path / "home", tmp_path / "data", **risk)
        desks.append(desk)
        return desk

    yield make
    for desk in desks:
        if desk.store._connection is not None:
            desk.close()


def _sent(desk: Desk, iid: str) -> list[int]:
    return [o.quantity for o in desk.book.orders.values() if o.instrument_id == iid and o.order_type is not OrderType.STOP_MARKET]


def test_fixed_lot_sizing_overrides_the_strategy_quantity(desk_factory) -> None:
    desk = desk_factory(sizing={"example": {"mode": "fixed", "lots": 2}})
    desk.at(5)
    desk.enter(NIFTY_CE, 1, 100.0)
    assert desk.held(NIFTY_CE) == 150  # two lots of 75


def test_risk_pct_sizing_from_stop_distance(desk_factory) -> None:
    desk = desk_factory(sizing={"example": {"mode": "risk_pct", "pct": 2}})
    desk.at(5)
    desk.enter(TESTCO, 1, 1000.0, stop="980")  # 2% of 100000 = 2000 at risk, 20 per share -> 100 shares
    assert desk.held(TESTCO) == 100
    desk.enter(OTHERCO, 1, 500.0)  # no stop: cannot size
    assert desk.held(OTHERCO) == 0 and desk.blocked("SIZING") == 1


def test_max_open_positions(desk_factory) -> None:
    desk = desk_factory(max_open_positions=1)
    desk.at(5)
    desk.enter(TESTCO, 10, 1000.0)
    desk.enter(OTHERCO, 10, 500.0)
    assert desk.held(TESTCO) == 10 and desk.held(OTHERCO) == 0
    assert desk.blocked("MAX_POSITIONS") == 1


@pytest.mark.parametrize(
    ("caps", "first", "second", "rule"),
    [
        ({"total_exposure_pct": 70}, (TESTCO, 40), (BANKCO, 200), "TOTAL_EXPOSURE"),  # 40k + 40k > 70k
        ({"symbol_exposure_pct": 15}, (OTHERCO, 10), (TESTCO, 20), "SYMBOL_EXPOSURE"),  # 20k > 15k
        ({"sector_exposure_pct": 30}, (TESTCO, 20), (OTHERCO, 30), "SECTOR_EXPOSURE"),  # IT: 20k + 15k > 30k
        ({"options_exposure_pct": 10}, (TESTCO, 50), (NIFTY_CE, 150), "OPTIONS_EXPOSURE"),  # 15k premium > 10k
    ],
)
def test_exposure_caps(desk_factory, caps, first, second, rule) -> None:
    prices = {TESTCO: 1000.0, OTHERCO: 500.0, BANKCO: 200.0, NIFTY_CE: 100.0}
    desk = desk_factory(**caps)
    desk.at(5)
    desk.enter(first[0], first[1], prices[first[0]])
    desk.enter(second[0], second[1], prices[second[0]])
    assert desk.held(first[0]) == first[1]
    assert desk.held(second[0]) == 0
    assert desk.blocked(rule) == 1
    reason = [e for e in desk.engine.store.events() if e[1].TYPE == "SignalBlocked"][-1][1].reason
    assert "cap" in reason and "%" in reason


def test_sector_map_in_config_overrides_the_data(desk_factory) -> None:
    desk = desk_factory(sector_exposure_pct=30, sectors={"BANKCO": "IT"})
    desk.at(5)
    desk.enter(TESTCO, 25, 1000.0)
    desk.enter(BANKCO, 50, 200.0)  # 25k + 10k of "IT" > 30k
    assert desk.held(BANKCO) == 0 and desk.blocked("SECTOR_EXPOSURE") == 1


def test_daily_loss_limit_stops_new_entries_for_the_day(desk_factory) -> None:
    desk = desk_factory(daily_loss_pct=2)
    desk.at(5)
    desk.enter(TESTCO, 50, 1000.0)
    desk.at(40)  # TESTCO fell 10%: 50 x 100 = 5000 lost, 5% of capital
    desk.watch()
    assert "daily-loss" in desk.engine.risk.latches(desk.engine)
    desk.exit(TESTCO)
    desk.enter(OTHERCO, 10, 500.0)
    assert desk.held(OTHERCO) == 0 and desk.blocked("DAILY_LOSS_LIMIT") == 1


@pytest.mark.parametrize(
    ("levels", "expect"),
    [((1, 4, 20), "warn"), ((1, 2.5, 20), "halt"), ((1, 2, 2.8), "liquidate")],
)
def test_drawdown_guard_warns_halts_and_liquidates(desk_factory, levels, expect) -> None:
    warn, halt, liquidate = levels
    desk = desk_factory(drawdown_warn_pct=warn, drawdown_halt_pct=halt, drawdown_liquidate_pct=liquidate)
    desk.at(5)
    desk.enter(TESTCO, 30, 1000.0, stop="500")
    desk.at(40)  # TESTCO fell 10%: 3000 of 100000, a 3% drawdown from the day's high-water mark
    desk.watch()
    latches = desk.engine.risk.latches(desk.engine)
    assert (desk.book.risk_value(ACCOUNT, "drawdown:warned") is not None) == (expect == "warn")
    assert ("drawdown" in latches) == (expect in ("halt", "liquidate"))
    assert ("kill" in latches) == (expect == "liquidate")
    if expect == "liquidate":
        assert desk.held(TESTCO) == 0 and not desk.book.working_orders(ACCOUNT)  # the stop was cancelled too
        closing = [o for o in desk.book.orders.values() if o.reason == "DRAWDOWN_LIQUIDATE"]
        assert len(closing) == 1 and closing[0].side is Side.SELL and closing[0].filled_quantity == 30
        desk.watch()  # flat and still 3% below the mark: the guard does not fire again
        assert len([o for o in desk.book.orders.values() if o.reason == "DRAWDOWN_LIQUIDATE"]) == 1
    else:
        assert desk.held(TESTCO) == 30
    desk.enter(OTHERCO, 10, 500.0)
    assert desk.held(OTHERCO) == (10 if expect == "warn" else 0)
    assert desk.blocked({"warn": "none", "halt": "DRAWDOWN_HALT", "liquidate": "KILL_SWITCH"}[expect]) == (0 if expect == "warn" else 1)
    if expect == "liquidate":
        from tradekit.control import ops

        assert ops.unlatch(desk.engine, ["kill", "drawdown"])["still_latched"] == []
        desk.watch()  # the mark starts again from here: unlatching sticks
        assert desk.engine.risk.latches(desk.engine) == {}
        desk.enter(BANKCO, 10, 200.0)
        assert desk.held(BANKCO) == 10


def test_signal_expiry(desk_factory) -> None:
    from tradekit.model.intents import Block, Enter

    desk = desk_factory(signal_expiry_seconds=120)
    signal_time = desk.at(5)
    desk.at(8)  # the order would go out three minutes after the signal
    verdict = desk.engine.risk.review(desk.engine, Enter(TESTCO, Side.BUY, 10, signal_price=1000.0), signal_time)
    assert isinstance(verdict, Block) and verdict.rule == "SIGNAL_EXPIRED" and "180s" in verdict.reason
    fresh = desk.engine.risk.review(desk.engine, Enter(TESTCO, Side.BUY, 10, signal_price=1000.0), desk.clock.now())
    assert isinstance(fresh, Enter)


def test_an_entry_journalled_but_never_sent_is_not_sent_after_its_signal_expired(tmp_path: Path) -> None:
    from tradekit.model.intents import Enter
    from tradekit.model.orders import OrderStatus

    def crash_between_journal_and_send(restart_minutes: float) -> Desk:
        home = tmp_path / f"home{restart_minutes}"
        desk = open_desk(home, tmp_path / "data", signal_expiry_seconds=120)
        now = desk.at(5)
        desk.engine._enter(Enter(TESTCO, Side.BUY, 10, signal_price=1000.0), now)  # journalled; its send never ran
        desk.engine._commit(force_durable=True)
        desk.close()
        return open_desk(home, tmp_path / "data", minutes=restart_minutes, signal_expiry_seconds=120)

    late = crash_between_journal_and_send(9)  # back four minutes later
    try:
        (order,) = late.book.orders.values()
        assert order.status is OrderStatus.CANCELLED and order.status_reason.startswith("SIGNAL_EXPIRED: 240s old")
        assert late.engine.broker.order_reports() == [] and late.held(TESTCO) == 0
    finally:
        late.close()
    soon = crash_between_journal_and_send(6)  # back within the expiry: sent, as before
    try:
        assert soon.held(TESTCO) == 10 and len(soon.engine.broker.order_reports()) == 1
    finally:
        soon.close()


def test_duplicate_cooldown_and_attempt_limit(desk_factory) -> None:
    desk = desk_factory(cooldown_seconds=300, max_entries_per_symbol=2)
    desk.at(5)
    desk.enter(TESTCO, 10, 1000.0)
    desk.exit(TESTCO)
    desk.at(6)
    desk.enter(TESTCO, 10, 1000.0)  # the same entry a minute later
    assert desk.held(TESTCO) == 0 and desk.blocked("DUPLICATE_SIGNAL") == 1
    desk.at(11)
    desk.enter(TESTCO, 10, 1000.0)
    assert desk.held(TESTCO) == 10
    desk.exit(TESTCO)
    desk.at(20)
    desk.enter(TESTCO, 10, 1000.0)
    assert desk.held(TESTCO) == 0 and desk.blocked("ATTEMPT_LIMIT") == 1


def test_no_entry_where_the_broker_already_holds_the_symbol(desk_factory) -> None:
    desk = desk_factory()
    desk.at(5)
    from tradekit.model.intents import Enter

    desk.engine.broker.place_manual(TESTCO, Side.BUY, 5)  # typed into the broker's app; tradekit's book has not seen it
    verdict = desk.engine.risk.review(desk.engine, Enter(TESTCO, Side.BUY, 10, signal_price=1000.0), desk.clock.now())
    assert getattr(verdict, "rule", None) == "BROKER_HOLDS" and "5" in verdict.reason
    assert isinstance(desk.engine.risk.review(desk.engine, Enter(OTHERCO, Side.BUY, 10, signal_price=500.0), desk.clock.now()), Enter)


def test_paused_strategy_gets_no_entries_but_exits_go_on(desk_factory) -> None:
    from tradekit.control import ops

    desk = desk_factory()
    desk.at(5)
    desk.enter(TESTCO, 10, 1000.0)
    ops.set_paused(desk.engine, "example", True)
    desk.enter(OTHERCO, 10, 500.0)
    desk.exit(TESTCO)
    assert desk.held(OTHERCO) == 0 and desk.held(TESTCO) == 0 and desk.blocked("PAUSED") == 1
    ops.set_paused(desk.engine, "example", False)
    desk.enter(OTHERCO, 10, 500.0)
    assert desk.held(OTHERCO) == 10


def test_latches_pauses_and_attempts_survive_a_restart_and_doctor_agrees(desk_factory, tmp_path: Path) -> None:
    from tradekit.control import ops

    desk = desk_factory(daily_loss_pct=2, cooldown_seconds=3600)
    desk.at(5)
    desk.enter(TESTCO, 50, 1000.0)
    desk.at(40)
    desk.watch()
    ops.flatten(desk.engine)
    ops.set_paused(desk.engine, "other-strategy", True)
    desk.close()  # what a kill -9 leaves: every risk event was committed durably when it happened

    again = desk_factory(daily_loss_pct=2, cooldown_seconds=3600)
    assert set(again.engine.risk.latches(again.engine)) == {"kill", "daily-loss"}
    assert again.engine.risk.paused(again.engine, "other-strategy")
    ops.unlatch(again.engine, ["kill"])
    again.at(41)
    again.enter(TESTCO, 10, 900.0)
    assert again.held(TESTCO) == 0 and again.blocked("DAILY_LOSS_LIMIT") == 1  # the daily loss latch outlives unlatch kill
    again.close()
    from tradekit.store import DuckDBStore

    store = DuckDBStore(tmp_path / "home" / "tradekit.duckdb", readonly=True)
    try:
        report = check(store)
        assert report.clean, report.differences
        assert store.query("SELECT count(*) FROM risk_state WHERE key = 'latch:KILL' AND value IS NULL")[0][0] == 1
    finally:
        store.close()


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[risk]\ndaily_loss_pct = 150\n", "risk.daily_loss_pct"),
        ("[risk]\nmax_open_positons = 3\n", "risk.max_open_positons in .*: unknown key"),
        ("[risk]\ndrawdown_warn_pct = 30\n", "risk.drawdown_halt_pct"),
        ("[risk.sizing]\nexample = { mode = \"fixed\" }\n", "risk.sizing.example"),
        ("[risk.sizing]\nexample = { mode = \"kelly\" }\n", "unknown mode 'kelly'"),
        ("[risk.sizing]\nexample = { mode = \"risk_pct\", lots = 2 }\n", "risk.sizing.example.lots"),
        ("[risk]\ncooldown_seconds = \"soon\"\n", "risk.cooldown_seconds"),
    ],
)
def test_bad_risk_config_names_the_key(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / "tradekit.toml").write_text(toml)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        load_config(tmp_path, env={})


def test_risk_defaults_are_the_documented_ones(tmp_path: Path) -> None:
    risk = load_config(tmp_path, env={}).section("risk")
    assert (risk["daily_loss_pct"], risk["drawdown_warn_pct"], risk["drawdown_halt_pct"], risk["drawdown_liquidate_pct"]) == (5.0, 15.0, 20.0, 25.0)
    assert risk["signal_expiry_seconds"] == 120
    doc = (Path(__file__).parents[2] / "docs" / "risk-and-control.md").read_text()
    for key, value in risk.items():
        if key not in ("sizing", "sectors"):
            assert f"{key} = {value}" in doc, key
    assert Decimal(0) == Decimal(risk["capital"])
