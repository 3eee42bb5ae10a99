"""The words of the automatic reply to an e-mail that waits for a person (RFC 3834): that
it arrived, when to expect an answer, which attachments were refused, and how to apply so
that the next one opens a case by itself. Whether a reply is due, and to whom, the intake
decides (intake/replying.py); the outbox writes the words here when it sends it."""

from __future__ import annotations

from django.utils.translation import gettext as _

from refunddesk.cases.sla import email_answer_within
from refunddesk.intake.models import InboundMail, TriageReason
from refunddesk.policy.explain import duration_text


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
