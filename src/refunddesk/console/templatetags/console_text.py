"""Text the console shows in narrow columns."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.filter
def email_breaks(address: Any) -> SafeString:
    """An e-mail address that may wrap after its "@" and before its dots, never inside a
    word (a long address in a table column otherwise breaks anywhere, or widens the page)."""
    text = str(escape(address or ""))
    # escape() leaves "@" and "." alone, so the marks go between escaped characters.
    return mark_safe(text.replace("@", "@<wbr>").replace(".", "<wbr>."))
