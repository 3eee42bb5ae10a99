"""The console header's unread count: `{% unread_notices as count %}`."""

from __future__ import annotations

from typing import Any

from django import template

from refunddesk.inbox.reading import unread_count

register = template.Library()


@register.simple_tag(takes_context=True)
def unread_notices(context: Any) -> int:
    request = context.get("request")
    return unread_count(getattr(request, "user", None))
