"""`{% bulk_bar %}`: the queue's bar of bulk actions, with the choices it offers (staff,
rejection reasons) read here, so the queue's own view need not know about it."""

from __future__ import annotations

from typing import Any

from django import template

from refunddesk.cases import permissions
from refunddesk.console.bulk import MAX_CASES
from refunddesk.console.bulk_forms import BulkForm

register = template.Library()


@register.inclusion_tag("console/queue/_bulk_bar.html", takes_context=True)
def bulk_bar(context: Any) -> dict[str, Any]:
    request = context["request"]
    if not permissions.can_work(request.user) or not context.get("rows"):
        return {"is_shown": False}
    return {
        "is_shown": True,
        "form": BulkForm(language=request.LANGUAGE_CODE, auto_id="bulk_%s"),
        # Without JavaScript, "select all" means these: the rows this page was shown with.
        "on_page": [row.case.tracking_number for row in context["rows"] if row.is_open],
        "queue_url": context.get("queue_url", ""),
        "limit": MAX_CASES,
    }
