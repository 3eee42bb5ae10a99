"""One field of the order-facts format, read or refused with the path of the field and
what is wrong with it: the helpers of facts_reading for fields that fail its inline check,
and the conversions of times and amounts it makes once per text and order.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from refunddesk.policy.facts import Problem
from refunddesk.policy.money import MoneyError, parse_amount


def at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def object_of(value: object, path: str, allowed: frozenset[str],
              problems: list[Problem]) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        problems.append(Problem(path, "expected an object"))
        return None
    if not allowed.issuperset(value):
        problems.extend(Problem(at(path, str(key)), "unknown field")
                        for key in sorted(set(value) - allowed, key=str))
    return value


def text(data: dict[str, Any], key: str, path: str, problems: list[Problem],
         max_length: int = 64, *, required: bool = True) -> str:
    value = data.get(key)
    if type(value) is str and 0 < len(value) <= max_length:
        return value
    if value is None or value == "":
        if required:
            problems.append(Problem(at(path, key), "required"))
    elif not isinstance(value, str):
        problems.append(Problem(at(path, key), "expected a string"))
    elif len(value) > max_length:
        problems.append(Problem(at(path, key), f"longer than {max_length} characters"))
    else:
        return str(value)
    return ""


def choice(data: dict[str, Any], key: str, path: str, problems: list[Problem],
           allowed: tuple[str, ...], default: str | None = None) -> str:
    value = data.get(key, default)
    if type(value) is str and value in allowed:
        return value
    shown = "missing" if value is None else repr(value)
    problems.append(Problem(at(path, key), f"{shown} is not one of {', '.join(allowed)}"))
    return ""


def moment(data: dict[str, Any], key: str, path: str, problems: list[Problem], *,
           required: bool = True) -> datetime | None:
    value = data.get(key)
    if value is None:
        if required:
            problems.append(Problem(at(path, key), "required"))
        return None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if moment.tzinfo is not None:
                return moment.astimezone(UTC)
            problems.append(Problem(at(path, key),
                                    "needs a UTC offset, like 2026-03-01T10:00:00+08:00"))
            return None
    problems.append(Problem(at(path, key), "not an ISO 8601 date and time"))
    return None


def amount(data: dict[str, Any], key: str, path: str, problems: list[Problem],
           currency: str, *, required: bool = True) -> int | None:
    """Minor units, or None when there is none to give (then its problem is reported)."""
    if key not in data:
        if required:
            problems.append(Problem(at(path, key), "required"))
        return None
    if not currency:
        return None  # the currency's own problem is already reported
    try:
        return parse_amount(data[key], currency)
    except MoneyError as error:
        problems.append(Problem(at(path, key), str(error)))
        return None


def same_currency(data: dict[str, Any], path: str, problems: list[Problem],
                   currency: str) -> None:
    if "currency" in data and currency and data["currency"] != currency:
        problems.append(Problem(at(path, "currency"), f"{data['currency']} differs from the "
                                                      f"order's currency {currency}"))


def some_list(data: dict[str, Any], key: str, path: str, problems: list[Problem], *,
              at_least_one: bool = False) -> list[Any]:
    items = data.get(key)
    if type(items) is list and (items or not at_least_one):
        return items
    if items is None and not at_least_one:
        return []
    problems.append(Problem(at(path, key), "expected a list with at least one item"
                            if at_least_one else "expected a list"))
    return []


@lru_cache(maxsize=1024)
def is_slug(value: str) -> bool:
    # Cached: an order's products are few and repeat from order to order.
    return all(ch.isascii() and (ch.isalnum() or ch in "-_.") for ch in value)


# An order repeats its times and prices (lines bought together start and end together, a
# price without discount is the price paid): each text is converted once per order.
Seen = dict[str, Any]


def aware(value: object, seen: Seen) -> datetime | None:
    """An ISO 8601 text with offset as the instant in UTC; None for anything else (the
    caller then asks _moment for the problem, if any)."""
    if type(value) is str:
        moment = seen.get(value)
        if moment is None:
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                return None
            if moment.tzinfo is None:
                return None
            moment = seen[value] = moment.astimezone(UTC)
        return moment
    return None


def money(value: object, currency: str, seen: Seen) -> int:
    """parse_amount, once per text and order."""
    if type(value) is not str:
        return parse_amount(value, currency)
    amount = seen.get(value)
    if amount is None:
        amount = seen[value] = parse_amount(value, currency)
    return amount


