"""The automatic reply to an e-mail that waits for a person (RFC 3834): the sender learns
it arrived, when to expect an answer, which attachments were refused, and how to apply so
that the next one opens a case by itself.

Never to mail a machine sent (those are ignored before this), never to a sender whose
domain failed authentication (a forged address would make us write to a stranger), never
to our own addresses, and at most REFUNDDESK_MAIL_AUTO_REPLIES_PER_HOUR to one sender in
an hour, so that two robots never write to each other forever. The reply's words are
notifications/auto_reply.py's, where the outbox writes them."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import parseaddr

from django.conf import settings

from refunddesk.intake.models import InboundMail, TriageReason
from refunddesk.notifications.models import EmailDelivery, Kind
from refunddesk.notifications.outbox import notify_sender

# Whom a person answers anyway: no acknowledgement for a forged or broken message.
ACKNOWLEDGED = frozenset({TriageReason.UNKNOWN_SENDER, TriageReason.NO_ORDER,
                          TriageReason.SEVERAL_ORDERS, TriageReason.NOT_REFUNDABLE,
                          TriageReason.NOTHING_READABLE})


def _ours(address: str) -> bool:
    own = {parseaddr(settings.DEFAULT_FROM_EMAIL)[1].lower()}
    reply = settings.REFUNDDESK_REPLY_ADDRESS.lower()
    if reply:
        local, _at, domain = reply.partition("@")
        own.add(f"{local.split('+')[0]}@{domain}")
    local, _at, domain = address.lower().partition("@")
    return f"{local.split('+')[0]}@{domain}" in own


def acknowledge(mail: InboundMail, *, address: str, language: str,
                now: datetime) -> EmailDelivery | None:
    """Queue the automatic reply to `mail` (in triage), or None when none is due."""
    if mail.triage_reason not in ACKNOWLEDGED or not address or _ours(address):
        return None
    recent = EmailDelivery.objects.filter(kind=Kind.MAIL_RECEIVED, to_address=address,
                                          created_at__gte=now - timedelta(hours=1)).count()
    if recent >= settings.REFUNDDESK_MAIL_AUTO_REPLIES_PER_HOUR:
        return None
    return notify_sender(mail, address, language)
