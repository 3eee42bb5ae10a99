"""Money as integer minor units plus an ISO 4217 code.

Amounts arrive as decimal strings ("960.00") and are stored as integers in the currency's
minor unit (96000 fen). Nothing here rounds silently: an input with more decimal places
than the currency has is an error, because guessing would move money.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache

from babel.numbers import get_currency_precision, list_currencies

# Integer powers of ten by exponent; no currency has more than four minor digits.
TEN_TO_THE: tuple[int, ...] = tuple(10**n for n in range(8))
# Whole digits an amount may have: a trillion and more is no refund, and with the minor
# digits it stays inside the database's 64-bit integers.
MAX_WHOLE_DIGITS = 13


class MoneyError(ValueError):
    """An amount or currency that cannot be taken as money."""


@lru_cache(maxsize=1)
def _known_currencies() -> frozenset[str]:
    return frozenset(list_currencies())


def is_known_currency(code: str) -> bool:
    return code in _known_currencies()


def check_currency(code: object) -> str:
    """Return `code` if it is an ISO 4217 currency Babel knows, else raise MoneyError."""
    if not isinstance(code, str) or not is_known_currency(code):
        raise MoneyError(f"not an ISO 4217 currency code: {code!r}")
    return code


@cache
def minor_digits(currency: str) -> int:
    """How many decimal places the currency's minor unit has (CNY 2, JPY 0, KWD 3)."""
    return int(get_currency_precision(check_currency(currency)))


def parse_amount(text: object, currency: str) -> int:
    """Turn a decimal string in `currency` into integer minor units.

    The one way amounts are read (API, forms, import, settlement files): ASCII digits,
    optionally one "." followed by at most the currency's minor digits — "960", "960.5",
    "960.00" for CNY — and nothing else. Refused: floats (they have already lost cents),
    signs, spaces, exponents, thousands separators, other scripts' digits ("١٢٣" would
    otherwise read as 123), and more decimal places than the currency has.
    """
    digits = minor_digits(currency)
    if type(text) is str and text.isascii():
        # The common shape first ("960.00" for CNY): one pass of checks, then the integer.
        whole, dot, fraction = text.partition(".")
        if (len(fraction) == digits and whole.isdigit() and len(whole) <= MAX_WHOLE_DIGITS
                and (fraction.isdigit() if dot else not digits)):
            return int(whole + fraction)
    return _parse_other_shapes(text, currency, digits)


def _parse_other_shapes(text: object, currency: str, digits: int) -> int:
    """An amount not in the common shape ("960", "960.5"), read the long way, or
    MoneyError saying what is wrong with it."""
    if not isinstance(text, str):
        raise MoneyError("not a decimal amount (give it as a string, like \"960.00\")")
    whole, dot, fraction = text.partition(".")
    # isdigit() alone is true for "١٢٣" and "²"; isascii() keeps it to 0-9.
    if not (whole.isascii() and whole.isdigit()):
        if whole.strip() != whole or fraction.strip() != fraction:
            raise MoneyError("not a decimal amount: no spaces around or inside it")
        if whole.startswith("-"):
            raise MoneyError("must not be negative")
        raise MoneyError("not a decimal amount: use the digits 0-9 and one \".\" "
                         "(like \"960.00\")")
    if len(whole.lstrip("0")) > MAX_WHOLE_DIGITS:
        raise MoneyError(f"too large: at most {MAX_WHOLE_DIGITS} digits before the point")
    if dot:
        if not (fraction.isascii() and fraction.isdigit()):
            raise MoneyError("not a decimal amount: use the digits 0-9 and one \".\" "
                             "(like \"960.00\")")
        if len(fraction) > digits:
            raise MoneyError(f"more decimal places than {currency} has ({digits})")
    return int(whole) * TEN_TO_THE[digits] + (
        int(fraction) * TEN_TO_THE[digits - len(fraction)] if fraction else 0)


def format_amount(minor: int, currency: str) -> str:
    """Integer minor units back to the decimal string of the order-facts format."""
    digits = minor_digits(currency)
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), TEN_TO_THE[digits])
    if not digits:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{fraction:0{digits}d}"


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount: `minor` units of `currency`'s minor unit."""

    minor: int
    currency: str

    @classmethod
    def parse(cls, text: object, currency: str) -> Money:
        return cls(parse_amount(text, currency), currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(0, currency)

    def __add__(self, other: Money) -> Money:
        self._check_same_currency(other)
        return Money(self.minor + other.minor, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check_same_currency(other)
        return Money(self.minor - other.minor, self.currency)

    def to_decimal(self) -> Decimal:
        return Decimal(self.minor).scaleb(-minor_digits(self.currency))

    def __str__(self) -> str:
        return format_amount(self.minor, self.currency)

    def _check_same_currency(self, other: Money) -> None:
        if other.currency != self.currency:
            raise MoneyError(f"cannot combine {self.currency} and {other.currency}")


def round_half_up(numerator: int, denominator: int) -> int:
    """Round the exact fraction numerator/denominator (in minor units) half-up.

    The policy engine computes in exact integer fractions and rounds once, here: no
    binary floating point and no intermediate Decimal precision to reason about.
    Half-up means away from zero for the non-negative amounts the engine produces.
    """
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    if numerator < 0:
        return -round_half_up(-numerator, denominator)
    return (2 * numerator + denominator) // (2 * denominator)


def allocate(total: int, weights: list[int]) -> list[int]:
    """Split `total` minor units in proportion to `weights`, losing no unit.

    Largest-remainder method: everyone gets the floor of their exact share, and the units
    left over go one each to the largest remainders (ties to the earlier weight, so the
    result is deterministic). Shares always add up to `total` exactly.
    """
    if len(weights) == 1:
        if total < 0 or weights[0] < 0 or (weights[0] == 0 and total):
            return _refused_allocation(total, weights)
        return [total]  # the common case: one payment funds the line
    if total < 0 or (weights and min(weights) < 0):
        return _refused_allocation(total, weights)
    weight_sum = sum(weights)
    if weight_sum == 0:
        if total == 0:
            return [0] * len(weights)
        return _refused_allocation(total, weights)
    # One pass, no comprehensions: this runs for every payment of every assessment.
    shares = []
    remainders = []
    for weight in weights:
        share, remainder = divmod(total * weight, weight_sum)
        shares.append(share)
        remainders.append(remainder)
    left_over = total - sum(shares)
    if left_over == 1:
        shares[remainders.index(max(remainders))] += 1  # the first of the largest
    elif left_over:
        # Largest remainder first; on a tie the earlier weight wins (the sort is stable,
        # reversed too).
        for index in sorted(range(len(weights)), key=remainders.__getitem__,
                            reverse=True)[:left_over]:
            shares[index] += 1
    return shares


def _refused_allocation(total: int, weights: list[int]) -> list[int]:
    if total < 0 or any(w < 0 for w in weights):
        raise ValueError("allocate takes a non-negative total and weights")
    raise ValueError("cannot allocate a non-zero total over zero weights")
