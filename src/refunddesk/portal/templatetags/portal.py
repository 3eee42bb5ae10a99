"""Showing money (always with its currency) and names in the viewer's language."""

from __future__ import annotations

from typing import Any

from django import template

from refunddesk.policy.money import Money, format_amount

register = template.Library()


@register.filter
def money(value: Any, currency: str | None = None) -> str:
    """`Money` as is; integer minor units or an already formatted amount with `currency`."""
    if value is None or value == "":
        return ""
    if isinstance(value, Money):
        return f"{format_amount(value.minor, value.currency)} {value.currency}"
    if isinstance(value, int) and currency:
        return f"{format_amount(value, currency)} {currency}"
    return f"{value} {currency}" if currency else str(value)


@register.filter
def name_for(thing: Any, language: str) -> str:
    """A product's or reason's name in the viewer's language."""
    return str(thing.name_for(language or "")) if thing is not None else ""


@register.filter
def customer_event_label(action: str) -> str:
    """The customer's words for an event of their case's timeline (cases/events.py)."""
    from refunddesk.cases.events import customer_label

    return customer_label(action)
