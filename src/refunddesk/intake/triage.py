"""What staff do with a message in triage: add it to the case it belongs to (as the
customer's message, its attachments as documents), answer its sender, or set it aside
(spam, not a request).
Each under the message's row lock, so two agents never both handle it; the case changes go
through the case actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from refunddesk.cases import permissions
from refunddesk.cases.errors import CaseError
from refunddesk.cases.models import RefundCase
from refunddesk.cases.tracking import NotATrackingNumber, normalise
from refunddesk.intake.models import InboundMail, MailAnswer, MailState
from refunddesk.intake.processing import checked_attachments, deliver_to_case
from refunddesk.intake.reading import read_mail
from refunddesk.notifications.outbox import notify_answer

OPEN_FOR_STAFF = (MailState.TRIAGE,)
ANSWER_MAX = 10_000


class TriageError(CaseError):
    code = "triage_error"


def _locked(mail: InboundMail, actor: Any) -> InboundMail:
    permissions.require_work(actor)
    mail = InboundMail.objects.select_for_update().get(pk=mail.pk)
    if mail.state not in OPEN_FOR_STAFF:
        raise TriageError(_("This message has been dealt with already (%(state)s).")
                          % {"state": mail.get_state_display()})
    # Read only when someone else holds it, as the message names them.
    holder = mail.claimed_by if mail.claimed_by_id not in (None, actor.pk) else None
    if holder is not None:
        raise TriageError(_("%(name)s has taken this e-mail already.")
                          % {"name": holder.get_username()})
    return mail


def case_by_number(text: str) -> RefundCase:
    try:
        number = normalise(text)
    except NotATrackingNumber:
        raise TriageError(_("“%(text)s” is not a tracking number.") % {"text": text}) from None
    case = RefundCase.objects.select_related("account").filter(tracking_number=number).first()
    if case is None:
        raise TriageError(_("No case has the tracking number %(number)s.")
                          % {"number": number})
    return case


def add_to_case(mail: InboundMail, case: RefundCase, *, actor: Any,
                now: datetime | None = None) -> InboundMail:
    """The message becomes the customer's message on `case` (an agent vouches that the
    sender is the case's customer), its accepted attachments the case's documents."""
    now = now or timezone.now()
    with transaction.atomic():
        mail = _locked(mail, actor)
        with mail.raw.open("rb") as stored:
            read = read_mail(stored.read())
        uploads, _refused = checked_attachments(read)
        deliver_to_case(case, read, uploads, now=now)
        mail.state, mail.case = MailState.ADDED_TO_CASE, case
        mail.handled_by, mail.handled_at = actor, now
        mail.save()
    return mail


def set_aside(mail: InboundMail, *, actor: Any, now: datetime | None = None) -> InboundMail:
    """Not a request (spam, a newsletter, a thank-you): kept, out of the triage queue."""
    now = now or timezone.now()
    with transaction.atomic():
        mail = _locked(mail, actor)
        mail.state, mail.handled_by, mail.handled_at = MailState.SET_ASIDE, actor, now
        mail.save()
    return mail


def answer(mail: InboundMail, *, actor: Any, body: str,
           now: datetime | None = None) -> MailAnswer:
    """Write back to the sender (a question that is not a refund request, or what to send
    to apply): the answer goes out through the outbox, in the language the sender wrote in,
    and the e-mail leaves the triage queue."""
    now = now or timezone.now()
    body = body.strip()
    if not body:
        raise TriageError(_("Write the answer to the sender."))
    if len(body) > ANSWER_MAX:
        raise TriageError(_("The answer is too long (at most %(count)d characters).")
                          % {"count": ANSWER_MAX})
    with transaction.atomic():
        mail = _locked(mail, actor)
        with mail.raw.open("rb") as stored:
            read = read_mail(stored.read())
        if not read.from_address:
            raise TriageError(_("This e-mail has no sender address to answer."))
        written = MailAnswer.objects.create(mail=mail, author=actor, body=body, created_at=now)
        notify_answer(written, read.from_address, read.language)
        mail.state, mail.handled_by, mail.handled_at = MailState.ANSWERED, actor, now
        mail.save()
    return written


def claim(mail: InboundMail, *, actor: Any) -> InboundMail:
    """Take a message in triage to deal with it; taking one another agent took is refused,
    so two people do not answer the same sender."""
    with transaction.atomic():
        mail = _locked(mail, actor)
        mail.claimed_by = actor
        mail.save(update_fields=["claimed_by"])
    return mail
