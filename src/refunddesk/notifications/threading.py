"""Headers that let a customer's reply to a case e-mail find its case (intake/matching.py)
and let their mail program show a case's e-mails as one conversation.

- `Message-ID`: the same at every retry of a delivery, and naming the case
  (`<rd.K7QH3M9TXW4.42@desk.example>`), so a reply's `In-Reply-To` leads to the case even
  from a program that drops the plus address.
- `References`: one root per case (`<rd.K7QH3M9TXW4@desk.example>`): every e-mail of the case
  lists it, so mail programs thread them.
- `Reply-To`: REFUNDDESK_REPLY_ADDRESS with `{tracking}` replaced by the case's tracking
  number without dashes (`refunds+{tracking}@desk.example`), when set.
"""

from __future__ import annotations

import re
from email.utils import parseaddr
from typing import TYPE_CHECKING

from django.conf import settings

from refunddesk.notifications.models import Kind

if TYPE_CHECKING:
    from refunddesk.notifications.models import EmailDelivery

PREFIX = "rd"
# What a reference of ours says about its case: the tracking number without dashes.
OUR_REFERENCE = re.compile(rf"^{PREFIX}\.([2-9A-Z]{{11}})(?:\.\d+)?@", re.IGNORECASE)


def _domain() -> str:
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return address.rpartition("@")[2] or "localhost"


def _symbols(tracking_number: str) -> str:
    return tracking_number.replace("-", "")


def _answering(message_key: str) -> dict[str, str]:
    """An automatic reply (RFC 3834) to the e-mail with this key: marked so that the
    sender's robots do not answer it, and threaded under it."""
    headers = {"Auto-Submitted": "auto-replied"}
    if not message_key.startswith("sha256:"):  # a real Message-ID, not our digest of one
        headers["In-Reply-To"] = f"<{message_key}>"
    return headers


def thread_headers(delivery: EmailDelivery) -> tuple[dict[str, str], list[str]]:
    """(headers, reply_to) for a delivery; none for e-mail that is neither about a case
    nor an automatic reply to an e-mail."""
    case = delivery.case
    if case is None:
        if delivery.kind in (Kind.MAIL_RECEIVED, Kind.MAIL_ANSWERED) and (
                delivery.inbound_mail is not None):
            headers = _answering(delivery.inbound_mail.message_key)
            if "In-Reply-To" in headers:
                headers["References"] = headers["In-Reply-To"]
            if delivery.kind == Kind.MAIL_ANSWERED:
                del headers["Auto-Submitted"]  # a person wrote this one
            return headers, []
        return {}, []
    symbols, domain = _symbols(case.tracking_number), _domain()
    headers = {"Message-ID": f"<{PREFIX}.{symbols}.{delivery.pk}@{domain}>",
               "References": f"<{PREFIX}.{symbols}@{domain}>"}
    if delivery.kind == Kind.SUBMITTED and case.channel == "email":
        # The "received" e-mail of a case opened by e-mail answers that e-mail.
        first = case.inbound_mail.order_by("received_at").first()
        if first is not None:
            answering = _answering(first.message_key)
            headers["Auto-Submitted"] = answering["Auto-Submitted"]
            if "In-Reply-To" in answering:
                headers["In-Reply-To"] = answering["In-Reply-To"]
                headers["References"] += " " + answering["In-Reply-To"]
    template = settings.REFUNDDESK_REPLY_ADDRESS
    reply_to = [template.replace("{tracking}", symbols)] if template else []
    return headers, reply_to


def tracking_in_reference(reference: str) -> str:
    """The tracking number's symbols in a Message-ID of ours, or ""."""
    match = OUR_REFERENCE.match(reference.strip().strip("<>"))
    return match.group(1).upper() if match else ""
