"""Tracking numbers: what a customer reads over the phone and types into /track.

Ten random symbols and one check symbol, grouped 4-4-3: `K7QH-3M9T-XW4`. The alphabet has
no 0/O, 1/I/L, so nothing is ambiguous when read aloud or handwritten; 31¹⁰ ≈ 2⁴⁹ numbers,
drawn from the `secrets` module. The check symbol is a weighted sum modulo 31: because 31
is prime and the weights differ from their neighbours', it catches every single mistyped
symbol and every swap of two neighbours, so a typo is reported as a typo instead of
looking up someone else's case. (Luhn's mod-N scheme would not do here: it needs an even
alphabet size.)
"""

from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
BASE = len(ALPHABET)
RANDOM_SYMBOLS = 10
_INDEX = {symbol: index for index, symbol in enumerate(ALPHABET)}


def check_symbol(symbols: str) -> str:
    """The symbol c for which Σ (i+1)·symbol_i + c ≡ 0 (mod 31)."""
    total = sum((position + 1) * _INDEX[symbol] for position, symbol in enumerate(symbols))
    return ALPHABET[-total % BASE]


def is_valid(symbols: str) -> bool:
    body, check = symbols[:-1], symbols[-1:]
    return bool(body) and check_symbol(body) == check


def new_tracking_number() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_SYMBOLS))
    return format_grouped(body + check_symbol(body))


def format_grouped(symbols: str) -> str:
    return f"{symbols[:4]}-{symbols[4:8]}-{symbols[8:]}"


class NotATrackingNumber(ValueError):
    pass


def normalise(text: str) -> str:
    """What a person typed → the canonical grouped form, or NotATrackingNumber.

    Spaces, hyphens and lower case are forgiven; a wrong length, a symbol outside the
    alphabet or a failed check symbol is not."""
    symbols = "".join(ch for ch in text.upper() if ch not in " -\t")
    if len(symbols) != RANDOM_SYMBOLS + 1 or any(ch not in _INDEX for ch in symbols):
        raise NotATrackingNumber("not a tracking number")
    if not is_valid(symbols):
        raise NotATrackingNumber("check symbol does not match: a symbol is mistyped")
    return format_grouped(symbols)
