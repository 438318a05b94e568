from datetime import date
from decimal import Decimal

import pytest

from oi_momentum_helpers import DAY, EXPIRY, build_instruments, oid, option
from tradekit.model import OptionRight
from tradekit_oi_momentum.chain import build_chain, choose_direction, contract_label, format_strike, trading_strike

STRIKES = [Decimal(s) for s in (25850, 25900, 25950, 26000)]


def test_trading_strike_put_worked_example_spot_25946_95_is_25900():
    assert trading_strike(STRIKES, OptionRight.PUT, 25946.95) == Decimal(25900)


def test_trading_strike_call_at_spot_25946_95_is_25950():
    assert trading_strike(STRIKES, OptionRight.CALL, 25946.95) == Decimal(25950)


@pytest.mark.parametrize(
    ("right", "spot", "expected"),
    [
        (OptionRight.CALL, 25950.0, 25950),  # CALL: smallest strike >= spot, equality included
        (OptionRight.PUT, 25950.0, 25900),  # PUT: largest strike strictly below spot
        (OptionRight.CALL, 25900.05, 25950),
        (OptionRight.PUT, 25900.05, 25900),
        (OptionRight.CALL, 26000.01, None),  # off the chain
        (OptionRight.PUT, 25850.0, None),
    ],
)
def test_trading_strike_boundaries(right, spot, expected):
    result = trading_strike(STRIKES, right, spot)
    assert result == (Decimal(expected) if expected is not None else None)


def test_direction_call_oi_heavier_is_put_day_and_logs_oi_with_strikes():
    choice = choose_direction({Decimal(26000): 35_123_625, Decimal(25900): 1_000}, {Decimal(26000): 17_592_275})
    assert choice is not None and choice.right is OptionRight.PUT
    assert choice.describe() == "max call OI 35,123,625 @ 26000, max put OI 17,592,275 @ 26000 -> PUT"


def test_direction_equal_or_heavier_put_oi_is_call_day():
    equal = choose_direction({Decimal(26000): 500}, {Decimal(25500): 500})
    heavier = choose_direction({Decimal(26000): 500}, {Decimal(25500): 501})
    assert equal is not None and equal.right is OptionRight.CALL
    assert heavier is not None and heavier.right is OptionRight.CALL
    assert heavier.describe() == "max call OI 500 @ 26000, max put OI 501 @ 25500 -> CALL"


def test_direction_tie_between_strikes_takes_the_lower_strike():
    choice = choose_direction({Decimal(26100): 9, Decimal(26000): 9}, {Decimal(25000): 1})
    assert choice is not None and choice.call_strike == Decimal(26000)


def test_direction_without_both_rights_is_undecided():
    assert choose_direction({Decimal(26000): 9}, {}) is None


def test_chain_takes_the_nearest_expiry_on_or_after_today_and_the_strike_grid():
    later = date(2025, 12, 16)
    instruments = build_instruments(range(25800, 26100, 50), expiries=(date(2025, 12, 2), EXPIRY, later))
    odd = option(25925, "CALL")
    instruments[odd.id] = odd
    chain = build_chain(instruments, "NIFTY", DAY, Decimal(50))
    assert chain is not None and chain.expiry == EXPIRY
    assert sorted(chain.calls) == [Decimal(s) for s in range(25800, 26100, 50)]
    assert chain.puts[Decimal(25900)] == oid(25900, "PUT")
    assert not chain.contains(odd.id)
    assert not chain.contains(oid(25900, "PUT", later))
    assert len(chain.ids()) == 12


def test_chain_without_options_of_the_underlying_is_none():
    assert build_chain(build_instruments(range(25800, 26000, 50)), "BANKNIFTY", DAY, Decimal(50)) is None


def test_labels_say_call_and_put_never_ce_pe():
    assert contract_label(option(25900, "PUT")) == "NIFTY 25900 PUT"
    assert contract_label(option(26000, "CALL")) == "NIFTY 26000 CALL"
    assert format_strike(Decimal("17512.50")) == "17512.5"
