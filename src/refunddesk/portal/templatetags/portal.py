"""Names and event labels in the viewer's language (money: the `money` library,
core/templatetags/money.py)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def name_for(thing: Any, language: str) -> str:
    """A product's or reason's name in the viewer's language."""
    return str(thing.name_for(language or "")) if thing is not None else ""


@register.filter
def customer_event_label(action: str) -> str:
    """The customer's words for an event of their case's timeline (cases/events.py)."""
    from refunddesk.cases.events import customer_label

    return customer_label(action)
