"""{{ amount|money }}: money as the reader's language shows it (core/money.py), in every
page and e-mail template: `{% load money %}`."""

from __future__ import annotations

from typing import Any

from django import template

from refunddesk.core.money import format_money
from refunddesk.policy.money import Money, MoneyError, parse_amount

register = template.Library()


@register.filter
def money(value: Any, currency: str | None = None) -> str:
    """A `Money` as is; integer minor units, or a decimal string in the currency's unit (an
    assessment's "900.00"), with `currency`. Empty for nothing."""
    if value is None or value == "":
        return ""
    if isinstance(value, Money):
        return format_money(value.minor, value.currency)
    if currency and isinstance(value, int) and not isinstance(value, bool):
        return format_money(value, currency)
    if currency and isinstance(value, str):
        sign, digits = (-1, value[1:]) if value.startswith("-") else (1, value)
        try:
            return format_money(sign * parse_amount(digits, currency), currency)
        except MoneyError:
            pass  # not an amount: shown as it came
    return f"{value} {currency}" if currency else str(value)
