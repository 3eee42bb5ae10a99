"""Tracking numbers: readable, random, and a typo is caught by the check symbol."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refunddesk.cases.tracking import (
    ALPHABET,
    NotATrackingNumber,
    check_symbol,
    new_tracking_number,
    normalise,
)

SHAPE = re.compile(r"^[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}-[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{4}-"
                   r"[23456789ABCDEFGHJKMNPQRSTUVWXYZ]{3}$")


def test_a_tracking_number_is_grouped_and_has_no_ambiguous_symbols():
    number = new_tracking_number()

    assert SHAPE.match(number)
    assert not set(number) & set("01OIL")


def test_tracking_numbers_carry_at_least_40_bits_of_randomness():
    assert len(ALPHABET) ** 10 >= 2**40
    assert len({new_tracking_number() for _ in range(2000)}) == 2000


def test_what_a_person_types_is_forgiven_for_case_spaces_and_hyphens():
    number = new_tracking_number()

    assert normalise(number.lower().replace("-", " ")) == number


def drawn_number(data):
    body = data.draw(st.text(alphabet=ALPHABET, min_size=10, max_size=10))
    return body + check_symbol(body)


@given(st.data())
def test_any_single_mistyped_symbol_is_caught(data):
    number = drawn_number(data)
    position = data.draw(st.integers(0, len(number) - 1))
    wrong = data.draw(st.sampled_from([s for s in ALPHABET if s != number[position]]))

    with pytest.raises(NotATrackingNumber):
        normalise(number[:position] + wrong + number[position + 1:])


@given(st.data())
def test_two_neighbouring_symbols_swapped_are_caught(data):
    number = drawn_number(data)
    position = data.draw(st.integers(0, len(number) - 2))
    swapped = number[:position] + number[position + 1] + number[position] + number[position + 2:]

    if swapped != number:
        with pytest.raises(NotATrackingNumber):
            normalise(swapped)


@pytest.mark.parametrize("text", ["", "ABC", "K7QH-3M9T-XW40", "K7QH-3M9T-XW!", "0OIL-1111-111"])
def test_things_that_are_not_tracking_numbers_are_refused(text):
    with pytest.raises(NotATrackingNumber):
        normalise(text)
