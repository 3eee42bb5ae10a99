"""The outbox for staff: every e-mail to a customer, what became of it, and what it says.

Read-only: deliveries are written by `notify` in the case's transaction and by the worker;
editing one by hand would falsify the log.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from refunddesk.core.read_only_admin import ReadOnlyAdmin
from refunddesk.notifications.compose import compose
from refunddesk.notifications.models import EmailDelivery


@admin.register(EmailDelivery)
class EmailDeliveryAdmin(ReadOnlyAdmin[EmailDelivery]):
    list_display = ["created_at", "kind", "to_address", "case", "language", "status",
                    "attempts", "sent_at", "subject"]
    list_filter = ["status", "kind", "language", "created_at"]
    search_fields = ["to_address", "case__tracking_number", "subject"]
    date_hierarchy = "created_at"
    list_select_related = ["case"]
    # One tuple for both: every field shown is read-only.
    fields = readonly_fields = ("case", "kind", "to_address", "language", "status",
                                "attempts", "created_at", "sent_at", "last_error", "subject",
                                "message_text")

    @admin.display(description=_("message (plain text, as it reads now)"))
    def message_text(self, delivery: EmailDelivery) -> str:
        # Composed on demand from the case as it is now: the outbox stores no bodies.
        _subject, text, _html = compose(delivery)
        return format_html("<pre>{}</pre>", text)
