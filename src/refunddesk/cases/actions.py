"""Every change of a refund case: one function each, keyword-only `actor`, one transaction,
the case row locked, one CaseEvent, notifications enqueued in the same transaction.

Views, the API, the CLI and tasks call these; they never save a case themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refunddesk.billing.models import Account, Order
from refunddesk.cases import sla
from refunddesk.cases.assessing import NoPolicy, assess_order
from refunddesk.cases.models import CaseEvent, CaseLine, Document, Message, RefundCase
from refunddesk.cases.states import State, holds_lines, next_state
from refunddesk.cases.tracking import new_tracking_number
from refunddesk.cases.uploads import CheckedUpload, check_upload, storage_name
from refunddesk.notifications.outbox import notify
from refunddesk.policy.engine import AssessmentError

Actor = AbstractBaseUser | None


class CaseError(Exception):
    """A request the case cannot take; the message is for the person who asked."""

    code = "case_error"

    def __init__(self, message: Any):
        self.message = message
        super().__init__(str(message))


class LinesAlreadyInCase(CaseError):
    code = "lines_already_in_case"


class NotRefundable(CaseError):
    code = "not_refundable"


class AppealNotAllowed(CaseError):
    code = "appeal_not_allowed"


def actor_kind(actor: Actor) -> str:
    if actor is None:
        return "system"
    return "staff" if getattr(actor, "is_staff", False) else "customer"


def _record(case: RefundCase, action: str, *, actor: Actor, before: str, now: datetime,
            data: dict[str, Any] | None = None, visible: bool = True) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case, at=now, actor=actor, actor_kind=actor_kind(actor), action=action,
        from_state=before, to_state=case.state, data=data or {},
        is_customer_visible=visible)


def _locked(case: RefundCase) -> RefundCase:
    return RefundCase.objects.select_for_update().get(pk=case.pk)


def _move(case: RefundCase, action: str) -> str:
    """Apply the transition table; return the state before."""
    before = case.state
    case.state = next_state(before, action)
    if not holds_lines(case.state):
        case.lines.update(holds_line=False)
    return before


def _store(case: RefundCase, uploads: Sequence[tuple[UploadedFile, CheckedUpload]], *,
           actor: Actor, now: datetime) -> list[Document]:
    documents = []
    for uploaded, checked in uploads:
        document = Document(case=case, uploaded_by=actor, uploaded_by_kind=actor_kind(actor),
                            name=checked.name, content_type=checked.content_type,
                            size=checked.size, sha256=checked.sha256, uploaded_at=now)
        document.file.save(storage_name(case.tracking_number, checked), uploaded, save=False)
        document.save()
        documents.append(document)
    return documents


def check_uploads(uploads: Sequence[UploadedFile]) -> list[tuple[UploadedFile, CheckedUpload]]:
    """Every upload checked before anything is written, so a refused one changes nothing."""
    return [(uploaded, check_upload(uploaded)) for uploaded in uploads]


# -- the customer's actions ----------------------------------------------------------------

def submit(*, account: Account, order: Order, line_ids: Sequence[str], actor: Actor,
           channel: str, reason_category: Any = None, reason_text: str = "",
           uploads: Sequence[UploadedFile] = (), language: str = "zh-hans",
           now: datetime | None = None) -> RefundCase:
    """Open a case for some lines of an order: assess it, and approve it at once where the
    policy says so, or send it to review."""
    now = now or timezone.now()
    if order.account_id != account.pk:
        raise CaseError(_("This order does not belong to this account."))
    checked = check_uploads(uploads)
    try:
        policy, assessment = assess_order(order, list(line_ids), as_of=now)
    except NoPolicy:
        raise NotRefundable(_("These lines fall under different refund policies (or none); "
                              "apply for them separately.")) from None
    except AssessmentError as error:
        raise CaseError(str(error)) from None
    try:
        with transaction.atomic():
            case = RefundCase.objects.create(
                tracking_number=new_tracking_number(), account=account, order=order,
                channel=channel, reason_category=reason_category, reason_text=reason_text,
                language=language, policy_ref=policy.ref, assessment=assessment.to_dict("en"),
                currency=assessment.currency, assessed_total_minor=assessment.total,
                submitted_at=now, **sla.due_times(policy, now))
            order_lines = {line.line_id: line for line in order.lines.all()}
            CaseLine.objects.bulk_create(
                CaseLine(case=case, order_line=order_lines[result.id], rule=result.rule or "",
                         excluded_reason=result.excluded or "", assessed_minor=result.refund)
                for result in assessment.lines)
            _store(case, checked, actor=actor, now=now)
            _record(case, "submitted", actor=actor, before="", now=now,
                    data={"lines": list(line_ids), "total": assessment.to_dict()["total"],
                          "handling": assessment.handling})
            notify(case, "submitted")
            if assessment.handling == "approve":
                _auto_approve(case, total=assessment.total, now=now)
            else:
                _route_to_review(case, now=now)
    except IntegrityError:
        if CaseLine.objects.filter(order_line__order=order, holds_line=True,
                                   order_line__line_id__in=line_ids).exists():
            raise LinesAlreadyInCase(_("A refund case is already open for this order line; "
                                       "follow that case instead.")) from None
        raise
    return case


def withdraw(case: RefundCase, *, actor: Actor, now: datetime | None = None) -> RefundCase:
    now = now or timezone.now()
    with transaction.atomic():
        case = _locked(case)
        before = _move(case, "withdraw")
        case.save()
        _record(case, "withdrawn", actor=actor, before=before, now=now)
    return case


def supplement(case: RefundCase, *, actor: Actor, message: str,
               uploads: Sequence[UploadedFile] = (), now: datetime | None = None) -> RefundCase:
    """The customer answers a request for information; the case goes back to review."""
    now = now or timezone.now()
    if not message.strip() and not uploads:
        raise CaseError(_("Answer the question or attach a file."))
    checked = check_uploads(uploads)
    with transaction.atomic():
        case = _locked(case)
        before = _move(case, "supplement")
        case.info_due = None
        case.save()
        documents = _store(case, checked, actor=actor, now=now)
        if message.strip():
            Message.objects.create(case=case, author=actor, author_kind=actor_kind(actor),
                                   body=message.strip(), created_at=now)
        _record(case, "supplemented", actor=actor, before=before, now=now,
                data={"documents": [d.name for d in documents]})
    return case


def add_documents(case: RefundCase, *, actor: Actor, uploads: Sequence[UploadedFile],
                  now: datetime | None = None) -> list[Document]:
    """More material at any time while the case is open; the state does not change."""
    now = now or timezone.now()
    if not uploads:
        raise CaseError(_("Choose at least one file."))
    checked = check_uploads(uploads)
    with transaction.atomic():
        case = _locked(case)
        if not holds_lines(case.state) or case.state == State.REFUNDED:
            raise CaseError(_("This case is finished; it takes no more documents."))
        documents = _store(case, checked, actor=actor, now=now)
        _record(case, "documents_added", actor=actor, before=case.state, now=now,
                data={"documents": [d.name for d in documents]})
    return documents


def post_message(case: RefundCase, *, actor: Actor, body: str, is_internal: bool = False,
                 now: datetime | None = None) -> Message:
    now = now or timezone.now()
    if not body.strip():
        raise CaseError(_("Write a message first."))
    if is_internal and actor_kind(actor) != "staff":
        raise CaseError(_("Only staff write internal notes."))
    with transaction.atomic():
        case = _locked(case)
        message = Message.objects.create(case=case, author=actor, author_kind=actor_kind(actor),
                                         body=body.strip(), is_internal=is_internal,
                                         created_at=now)
        _record(case, "note_added" if is_internal else "message_posted", actor=actor,
                before=case.state, now=now, visible=not is_internal)
    return message


def appeal(case: RefundCase, *, actor: Actor, text: str, uploads: Sequence[UploadedFile],
           now: datetime | None = None) -> RefundCase:
    """A rejected customer asks a different reviewer to decide again, with new evidence,
    within the policy's appeal window."""
    now = now or timezone.now()
    if not text.strip():
        raise AppealNotAllowed(_("Say why the decision should change."))
    if not uploads:
        raise AppealNotAllowed(_("An appeal needs new evidence: attach at least one document."))
    checked = check_uploads(uploads)
    with transaction.atomic():
        case = _locked(case)
        closes = sla.appeal_closes(case)
        if closes is not None and now > closes:
            raise AppealNotAllowed(_("The time to appeal this decision has passed."))
        before = _move(case, "appeal")
        case.appealed_at, case.appeal_text = now, text.strip()
        case.save()
        documents = _store(case, checked, actor=actor, now=now)
        _record(case, "appealed", actor=actor, before=before, now=now,
                data={"documents": [d.name for d in documents]})
        notify(case, "appeal_received")
    return case


# -- moves made by the system and by staff (the console builds on these) ------------------

def _auto_approve(case: RefundCase, *, total: int, now: datetime) -> None:
    before = _move(case, "auto_approve")
    case.approved_total_minor, case.decided_at = total, now
    case.save()
    case.lines.update(approved_minor=F("assessed_minor"))
    _record(case, "approved", actor=None, before=before, now=now,
            data={"approved": case.assessment["total"], "automatic": True})
    notify(case, "decided")


def _route_to_review(case: RefundCase, *, now: datetime) -> None:
    before = _move(case, "route_to_review")
    case.save()
    _record(case, "routed_to_review", actor=None, before=before, now=now)


def request_info(case: RefundCase, *, actor: Actor, questions: str, due: datetime,
                 now: datetime | None = None) -> RefundCase:
    now = now or timezone.now()
    with transaction.atomic():
        case = _locked(case)
        before = _move(case, "request_info")
        case.info_due = due
        case.save()
        Message.objects.create(case=case, author=actor, author_kind=actor_kind(actor),
                               body=questions, created_at=now)
        _record(case, "information_requested", actor=actor, before=before, now=now,
                data={"due": due.isoformat()})
        notify(case, "info_requested")
    return case


def approve(case: RefundCase, *, actor: Actor, note: str = "",
            now: datetime | None = None) -> RefundCase:
    """Approve the assessed amount (partial approvals per line come with the console)."""
    now = now or timezone.now()
    with transaction.atomic():
        case = _locked(case)
        before = _move(case, "approve")
        case.approved_total_minor = case.assessed_total_minor
        case.decided_at, case.decided_by, case.decision_note = now, actor, note
        case.save()
        case.lines.update(approved_minor=F("assessed_minor"))
        _record(case, "approved", actor=actor, before=before, now=now,
                data={"approved": case.assessment["total"]})
        notify(case, "appeal_decided" if before == State.APPEALED else "decided")
    return case


def reject(case: RefundCase, *, actor: Actor, reason: str, now: datetime | None = None
           ) -> RefundCase:
    now = now or timezone.now()
    with transaction.atomic():
        case = _locked(case)
        before = _move(case, "reject")
        case.approved_total_minor = 0
        case.decided_at, case.decided_by, case.decision_note = now, actor, reason
        case.save()
        _record(case, "rejected", actor=actor, before=before, now=now,
                data={"reason": reason})
        notify(case, "appeal_decided" if before == State.APPEALED else "decided")
    return case
