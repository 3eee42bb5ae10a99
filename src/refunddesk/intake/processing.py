"""Turn a stored message into what it asks for, exactly once: a new case (through the same
action as the portal, channel "email"), a message and documents on the case it answers, or
an item of the triage queue for a person. Mail a machine sent is kept and ignored.

The message's row is locked and its state checked and changed in the same transaction as
the case action, so a message processed twice at once, or again after a crash, opens at
most one case; one whose processing failed stays `received` and is tried again. The stored
bytes are read and parsed before that transaction: no lock is held while the storage
answers.

The pipe and the mailbox poller process a message as soon as it is stored. What they
could not finish, the worker's sweep (`process_waiting`) takes by the claim-and-lease
protocol every outbox shares (core/leasing.py): a short transaction claims due messages
(SKIP LOCKED on PostgreSQL, so two workers share them), counting the attempt, so that a
message that kills its worker every time still reaches a person after MAX_ATTEMPTS."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from refunddesk.billing.models import Order
from refunddesk.cases import actions
from refunddesk.cases.actors import customer_of
from refunddesk.cases.errors import CaseError
from refunddesk.cases.models import CaseLine, Channel, RefundCase
from refunddesk.cases.states import State
from refunddesk.cases.uploads import UploadRefused, check_upload
from refunddesk.core import leasing
from refunddesk.intake.matching import account_of, answered_case, read_request
from refunddesk.intake.models import InboundMail, MailState, TriageReason
from refunddesk.intake.reading import ReadMail, read_mail
from refunddesk.intake.replying import acknowledge

log = logging.getLogger(__name__)
VIA = "email"
MAX_ATTEMPTS = 3
RETRY = leasing.RetryPolicy(first=timedelta(minutes=1), longest=timedelta(hours=1),
                            max_attempts=MAX_ATTEMPTS)
# Longer than reading and processing the largest message allowed can take.
LEASE = timedelta(minutes=5)


def _is_readable(mail: InboundMail) -> bool:
    # One over the size limit is kept whole and not read (a person opens it from triage).
    return mail.size <= settings.REFUNDDESK_MAIL_MAX_BYTES


def _read(mail: InboundMail) -> ReadMail:
    with mail.raw.open("rb") as stored:
        return read_mail(stored.read())


def process(mail: InboundMail, *, now: datetime | None = None,
            claim: leasing.Claim | None = None) -> InboundMail:
    """Turn a stored message into what it asks for, once; the row as it ends up. With the
    sweep's `claim`, only while the claim is still the worker's."""
    now = now or timezone.now()
    read = _read(mail) if mail.state == MailState.RECEIVED and _is_readable(mail) else None
    with transaction.atomic():
        mail = InboundMail.objects.select_for_update().get(pk=mail.pk)
        if mail.state != MailState.RECEIVED:
            return mail  # done already: by another worker, or before a crash after commit
        if claim is not None and mail.attempts != claim.attempt:
            return mail  # the lease ran out and another worker took it: it decides
        if not _is_readable(mail):
            _triage(mail, TriageReason.TOO_LARGE, now=now)
            return mail
        read = read or _read(mail)
        uploads, refused = checked_attachments(read)
        mail.refused_attachments = refused
        if read.automatic:
            _finish(mail, MailState.IGNORED, now=now)
        elif read.failed_authentication:
            _triage(mail, TriageReason.NOT_AUTHENTIC, now=now)  # never answer a forgery
        elif not (read.reply or read.text) and not uploads:
            _triage(mail, TriageReason.NOTHING_READABLE, now=now, read=read)
        elif (case := answered_case(read)) is not None:
            _add_to_case(mail, case, read, uploads, now=now)
        else:
            _open_case(mail, read, uploads, now=now)
    return mail


def _finish(mail: InboundMail, state: str, *, now: datetime,
            case: RefundCase | None = None) -> None:
    mail.state, mail.case, mail.processed_at = state, case, now
    mail.next_attempt_at = None
    mail.save()


def _triage(mail: InboundMail, reason: str, *, now: datetime,
            case: RefundCase | None = None, read: ReadMail | None = None) -> None:
    mail.triage_reason = reason
    _finish(mail, MailState.TRIAGE, now=now, case=case)
    if read is not None:
        acknowledge(mail, address=read.from_address, language=read.language, now=now)


def checked_attachments(read: ReadMail) -> tuple[list[SimpleUploadedFile], list[dict[str, str]]]:
    """The attachments the portal would take, and the refused ones named with why."""
    kept: list[SimpleUploadedFile] = []
    refused: list[dict[str, str]] = []
    for number, attachment in enumerate(read.attachments):
        if number >= settings.REFUNDDESK_MAIL_MAX_ATTACHMENTS:
            refused.append({"name": attachment.name, "reason": _(
                "more than %(count)d attachments in one e-mail")
                % {"count": settings.REFUNDDESK_MAIL_MAX_ATTACHMENTS}})
            continue
        uploaded = SimpleUploadedFile(attachment.name, attachment.data,
                                      attachment.content_type)
        try:
            check_upload(uploaded)
        except UploadRefused as error:
            refused.append({"name": attachment.name, "reason": str(error)})
            continue
        uploaded.seek(0)
        kept.append(uploaded)
    return kept, refused


def deliver_to_case(case: RefundCase, read: ReadMail, uploads: list[SimpleUploadedFile], *,
                    now: datetime) -> None:
    """The e-mail's text becomes the customer's message on `case` and its attachments the
    case's documents; a case waiting for the customer is supplemented (back to review)."""
    actor = customer_of(case.account)
    body = read.reply or read.text
    if case.state == State.AWAITING_CUSTOMER:
        actions.supplement(case, actor=actor, message=body, uploads=uploads, now=now, via=VIA)
        return
    if body:
        actions.post_message(case, actor=actor, body=body, now=now, via=VIA)
    if uploads:
        actions.add_documents(case, actor=actor, uploads=uploads, now=now, via=VIA)


def _add_to_case(mail: InboundMail, case: RefundCase, read: ReadMail,
                 uploads: list[SimpleUploadedFile], *, now: datetime) -> None:
    if account_of(read.from_address) != case.account:
        # A reply naming a case from an address that is not its customer's: a person looks.
        _triage(mail, TriageReason.UNKNOWN_SENDER, now=now, case=case, read=read)
        return
    try:
        with transaction.atomic():
            deliver_to_case(case, read, uploads, now=now)
    except CaseError as error:
        log.info("mail %s for case %s goes to triage: %s", mail.pk, case.tracking_number,
                 error)
        _triage(mail, TriageReason.NOT_REFUNDABLE, now=now, case=case, read=read)
        return
    _finish(mail, MailState.ADDED_TO_CASE, now=now, case=case)


def _open_case(mail: InboundMail, read: ReadMail, uploads: list[SimpleUploadedFile], *,
               now: datetime) -> None:
    request = read_request(read)
    if request.account is None:
        _triage(mail, TriageReason.UNKNOWN_SENDER, now=now, read=read)
        return
    if len(request.orders) != 1:
        _triage(mail, TriageReason.NO_ORDER if not request.orders
                else TriageReason.SEVERAL_ORDERS, now=now, read=read)
        return
    order = request.orders[0]
    line_ids = request.line_ids or _free_lines(order)
    try:
        with transaction.atomic():
            cases = actions.open_cases(
                account=request.account, order=order, line_ids=line_ids,
                actor=customer_of(request.account), channel=Channel.EMAIL,
                reason_text=request.reason or read.reply or read.text, uploads=uploads,
                language=read.language, now=now)
    except CaseError as error:
        log.info("mail %s goes to triage: %s", mail.pk, error)
        _triage(mail, TriageReason.NOT_REFUNDABLE, now=now, read=read)
        return
    _finish(mail, MailState.OPENED_CASE, now=now, case=cases[0])


def _free_lines(order: Order) -> list[str]:
    """Every line of the order no case holds: a request that names no lines asks for all."""
    held = set(CaseLine.objects.filter(order_line__order=order, holds_line=True)
               .values_list("order_line__line_id", flat=True))
    return [line.line_id for line in order.lines.all() if line.line_id not in held]


def waiting() -> QuerySet[InboundMail]:
    return InboundMail.objects.filter(state=MailState.RECEIVED)


def process_waiting(*, limit: int = 100, now: datetime | None = None) -> int:
    """The worker's sweep: claim the messages stored but not yet processed that are due (a
    pipe whose processing failed, a worker killed mid-way) and process each; how many
    were processed."""
    now = now or timezone.now()
    done = 0
    for mail in leasing.claim_due(waiting(), now=now, lease=LEASE, limit=limit):
        claim = leasing.Claim.of(mail)
        if claim.attempt > MAX_ATTEMPTS:
            # Every attempt failed, or its worker died on it: a person looks.
            _give_up(claim, now=now)
            continue
        try:
            process(mail, now=now, claim=claim)
        except Exception:  # one broken message must not stop the others
            log.exception("processing inbound mail %s failed (attempt %s)", mail.pk,
                          claim.attempt)
            _failed(claim, now=now)
            continue
        done += 1
    return done


def _failed(claim: leasing.Claim, *, now: datetime) -> None:
    """A failed attempt: tried again on the shared backoff; a message that keeps failing
    goes to a person, kept whole."""
    if RETRY.is_exhausted(claim.attempt):
        _give_up(claim, now=now)
    else:
        leasing.record_if_current(InboundMail, claim,
                                  next_attempt_at=RETRY.next_attempt_at(claim.attempt, now))


def _give_up(claim: leasing.Claim, *, now: datetime) -> None:
    with transaction.atomic():
        mail = InboundMail.objects.select_for_update().get(pk=claim.pk)
        if mail.state == MailState.RECEIVED and mail.attempts == claim.attempt:
            _triage(mail, TriageReason.BROKEN, now=now)
