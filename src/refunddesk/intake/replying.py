"""The automatic reply to an e-mail that waits for a person (RFC 3834): the sender learns
it arrived, when to expect an answer, which attachments were refused, and how to apply so
that the next one opens a case by itself.

Never to mail a machine sent (those are ignored before this), never to a sender whose
domain failed authentication (a forged address would make us write to a stranger), never
to our own addresses, and at most REFUNDDESK_MAIL_AUTO_REPLIES_PER_HOUR to one sender in
an hour, so that two robots never write to each other forever."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.utils import parseaddr

from django.conf import settings
from django.utils.translation import gettext as _

from refunddesk.cases.sla import email_answer_within
from refunddesk.intake.models import InboundMail, TriageReason
from refunddesk.notifications.models import EmailDelivery, Kind
from refunddesk.notifications.outbox import notify_sender
from refunddesk.policy.explain import duration_text

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


def acknowledgement(mail: InboundMail, language: str) -> tuple[str, list[str]]:
    """(subject, paragraphs) of the automatic reply, in the active language (`language`)."""
    locale = "zh-Hans" if language.lower().startswith("zh") else "en"
    within = duration_text(str(email_answer_within()), locale)
    paragraphs = [
        _("Thank you for your e-mail “%(subject)s”. It has arrived, and a person will read "
          "it and answer within %(within)s.") % {"subject": mail.subject or _("(no subject)"),
                                                 "within": within}]
    if mail.refused_attachments:
        paragraphs.append(refused_sentence(mail.refused_attachments))
    if mail.triage_reason in (TriageReason.UNKNOWN_SENDER, TriageReason.NO_ORDER,
                              TriageReason.SEVERAL_ORDERS):
        paragraphs.append(_("To have a refund request opened at once, write from the e-mail "
                            "address of your account and name one order, for example with "
                            "the subject “Refund request: <order number>”."))
    return _("We have received your e-mail"), paragraphs


def refused_sentence(refused: list[dict[str, str]]) -> str:
    """What the sender reads of the attachments the intake refused (checked_attachments)."""
    return _("We could not accept these attachments: %(names)s. Send them again as PDF "
             "files or pictures (JPEG, PNG).") % {"names": ", ".join(
                 item["name"] for item in refused)}
