"""The words of the staff's e-mails about their inbox: one notice (e-mail at once) or an
hour's digest, in the language the staff member chose (inbox/models.py Preference)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from refunddesk.inbox.models import Notice
from refunddesk.inbox.presenting import describe, open_link, preferences_link

if TYPE_CHECKING:
    from refunddesk.notifications.models import EmailDelivery


def _subject(notice: Notice) -> str:
    label = notice.get_kind_display()
    if notice.case is None:
        return str(label)
    return _("%(what)s: case %(number)s") % {"what": label,
                                              "number": notice.case.tracking_number}


def staff_mail(delivery: EmailDelivery) -> tuple[str, str, str]:
    """(subject, text, html) of a STAFF_NOTICE or STAFF_DIGEST delivery."""
    with translation.override(delivery.language):
        if delivery.notice_id is not None:
            notices = [Notice.objects.select_related("case").get(pk=delivery.notice_id)]
            subject = _subject(notices[0])
            intro = _("Something in RefundDesk needs you:")
        else:
            digest = delivery.digest
            if digest is None:
                raise ValueError(f"delivery {delivery.pk} is of neither a notice nor a digest")
            notices = list(digest.notices.select_related("case").order_by("created_at", "id"))
            count = len(notices)
            subject = ngettext("%(count)d notice in your RefundDesk inbox",
                               "%(count)d notices in your RefundDesk inbox",
                               count) % {"count": count}
            intro = _("What needed you since your last digest, and is still unread:")
        context = {
            "subject": subject, "intro": intro,
            "items": [{"label": notice.get_kind_display(), "text": describe(notice),
                       "link": open_link(notice)} for notice in notices],
            "preferences_link": preferences_link(),
            "language": translation.get_language()}
        text = render_to_string("notifications/staff_notice.txt", context)
        html = render_to_string("notifications/staff_notice.html", context)
    return subject, text, html
