"""Money: exact amounts, one rounding rule, and allocations that never lose a cent."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refunddesk.policy.money import (
    Money,
    MoneyError,
    allocate,
    format_amount,
    minor_digits,
    parse_amount,
    round_half_up,
)


def test_minor_units_follow_the_currency():
    assert (minor_digits("CNY"), minor_digits("JPY"), minor_digits("KWD")) == (2, 0, 3)


def test_amounts_round_trip_through_their_decimal_strings():
    assert parse_amount("960.5", "CNY") == 96050
    assert format_amount(96050, "CNY") == "960.50"
    assert format_amount(7, "KWD") == "0.007"
    assert format_amount(960, "JPY") == "960"


@pytest.mark.parametrize("text", [
    "1e3", "NaN", "-1.00", "Infinity", "", "1,000.00",
    # the finding: other scripts' digits read as numbers, and padding was forgiven
    "١٢٣", " 1 ", "1 ", "\t1", "１２３", "12.٣", "1.0\n",
    "+1", "1.", ".5", "1.2.3", "0x10", "1_000", "²", "1.000", "10 00", "1e-2"])
def test_things_that_are_not_plain_amounts_are_refused(text):
    with pytest.raises(MoneyError):
        parse_amount(text, "CNY")


@pytest.mark.parametrize(("text", "currency", "minor"), [
    ("0", "CNY", 0), ("960", "CNY", 96000), ("960.5", "CNY", 96050),
    ("960.05", "CNY", 96005), ("007.10", "CNY", 710), ("1200", "JPY", 1200),
    ("0.125", "KWD", 125)])
def test_plain_ascii_amounts_up_to_the_currencys_minor_digits_are_read(text, currency,
                                                                       minor):
    assert parse_amount(text, currency) == minor


def test_a_refusal_says_what_is_wrong():
    with pytest.raises(MoneyError, match="no spaces"):
        parse_amount(" 1 ", "CNY")
    with pytest.raises(MoneyError, match="0-9"):
        parse_amount("١٢٣", "CNY")
    with pytest.raises(MoneyError, match="negative"):
        parse_amount("-5", "CNY")
    with pytest.raises(MoneyError, match=r"more decimal places than JPY has \(0\)"):
        parse_amount("5.0", "JPY")
    with pytest.raises(MoneyError, match="too large"):
        parse_amount("9" * 5000, "CNY")  # int() itself would refuse it with a ValueError
    assert parse_amount("9" * 13 + ".99", "CNY") == int("9" * 15)


def test_money_of_different_currencies_does_not_add_up():
    with pytest.raises(MoneyError, match="cannot combine CNY and USD"):
        Money(100, "CNY") + Money(100, "USD")


@pytest.mark.parametrize(("numerator", "denominator", "rounded"), [
    (5, 2, 3),      # 2.5 → 3: half goes up
    (7, 2, 4),      # 3.5 → 4
    (249, 100, 2),  # 2.49 → 2
    (-5, 2, -3),    # symmetric away from zero
    (0, 7, 0),
])
def test_rounding_is_half_up(numerator, denominator, rounded):
    assert round_half_up(numerator, denominator) == rounded


def test_an_allocation_gives_the_left_over_cent_to_the_largest_remainder():
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(1000, [900, 60, 40]) == [900, 60, 40]
    assert allocate(10, [3, 3, 4]) == [3, 3, 4]
    assert allocate(5, [1, 2]) == [2, 3]


def test_nothing_can_be_allocated_over_zero_weights():
    assert allocate(0, [0, 0]) == [0, 0]
    with pytest.raises(ValueError):
        allocate(1, [0, 0])


@given(st.integers(min_value=0, max_value=10**12),
       st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=12)
       .filter(lambda ws: sum(ws) > 0))
def test_an_allocation_adds_up_exactly_and_each_share_is_within_one_unit(total, weights):
    shares = allocate(total, weights)

    assert sum(shares) == total
    for share, weight in zip(shares, weights, strict=True):
        exact = total * weight / sum(weights)
        assert abs(share - exact) < 1 + 1e-6 * exact
        assert share >= 0
