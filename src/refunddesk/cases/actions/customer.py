"""What customers do to their cases (and what staff do on the same thread: messages)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refunddesk.billing.models import Account, Order
from refunddesk.billing.order_records import OrderRecord, record_of
from refunddesk.cases import sla
from refunddesk.cases.actions.base import (
    actor_kind,
    check_uploads,
    event,
    locked,
    move,
    record,
    store,
)
from refunddesk.cases.actions.decisions import automatic_decision, first_move
from refunddesk.cases.actions.opened import Opened, case_only
from refunddesk.cases.actors import AUTO_DECISION, Actor, person
from refunddesk.cases.assessing import NoPolicy, assess_order
from refunddesk.cases.document_kinds import label as document_label
from refunddesk.cases.errors import AppealNotAllowed, CaseError, LinesAlreadyInCase, NotRefundable
from refunddesk.cases.events import CaseEventType
from refunddesk.cases.models import CaseLine, Document, Message, RefundCase
from refunddesk.cases.service_end import end_services, mark_service_ends
from refunddesk.cases.states import State, holds_lines
from refunddesk.cases.tracking import new_tracking_number
from refunddesk.cases.uploads import check_named
from refunddesk.core.statements import insert
from refunddesk.inbox.models import NoticeKind
from refunddesk.inbox.recipients import appeal_reviewers, working_on
from refunddesk.inbox.telling import tell
from refunddesk.notifications.outbox import notify, notify_all
from refunddesk.notifications.webhook_events import (
    active_endpoints,
    case_json,
    emit_case,
    emit_many,
)
from refunddesk.payouts.planned import plan_payouts
from refunddesk.policy.assessment import AssessmentError


def submit_written(*, account: Account, order: Order | OrderRecord, line_ids: Sequence[str],
                   actor: Actor, channel: str, reason_category: Any = None,
                   reason_text: str = "", uploads: Sequence[UploadedFile[bytes]] = (),
                   language: str = "zh-hans", identity_check: dict[str, Any] | None = None,
                   submission: UUID | None = None, now: datetime | None = None) -> Opened:
    """Open a case for some lines of an order: assess it, and approve it at once where the
    policy says so, or send it to review.

    `submission` is given when this case is one of several one submission opens (lines
    under different policies, cases/actions/submission.py): the caller then sends the one
    "received" e-mail that names them all, so this case sends none of its own.

    `order` may come as its record (billing/order_records.py), read once by the caller.
    The busiest write of the desk (every channel, the API's integrations), so it is
    written in few statements: the first move is made before the case row is written,
    rows of a kind go in together, and its webhooks (and the API's answer: `Opened`) show
    the lines and payouts as written, not read back. `submit` answers with the case
    alone."""
    now = now or timezone.now()
    record = record_of(order)
    order = record.order
    if order.account_id != account.pk:
        raise CaseError(_("This order does not belong to this account."))
    checked = check_uploads(uploads)
    try:
        policy, assessment = assess_order(record, list(line_ids), as_of=now)
    except NoPolicy:
        raise NotRefundable(_("These lines fall under different refund policies (or none); "
                              "apply for them separately.")) from None
    except AssessmentError as error:
        raise CaseError(str(error)) from None
    opened_by = person(actor) if actor_kind(actor) == "staff" else None
    case = RefundCase(
        tracking_number=new_tracking_number(), account=account, order=order,
        channel=channel, reason_category=reason_category, reason_text=reason_text,
        language=language, policy_ref=policy.ref, assessment=assessment.to_dict("en"),
        currency=assessment.currency, assessed_total_minor=assessment.total,
        submitted_at=now, opened_by=opened_by, identity_check=identity_check or {},
        submission=submission, **sla.due_times(policy, now, channel=channel))
    data: dict[str, Any] = {"lines": list(line_ids), "total": case.assessment["total"],
                            "handling": assessment.handling, "channel": channel}
    if identity_check:
        data["identity_check"] = identity_check
    events = [event(case, CaseEventType.SUBMITTED, actor=actor, before="", now=now, data=data)]
    order_lines = {line.line_id: line for line in record.lines}
    lines = [CaseLine(case=case, order_line=order_lines[result.id], rule=result.rule or "",
                      excluded_reason=result.excluded or "", assessed_minor=result.refund)
             for result in assessment.lines]
    try:
        with transaction.atomic():
            endpoints = active_endpoints()
            # The webhook shows the case as submitted, before the first move.
            submitted = case_json(case, lines=lines, payouts=[]) if endpoints else {}
            events.append(first_move(case, handling=assessment.handling, now=now))
            approved = case.state == State.APPROVED
            for line in lines:
                line.approved_minor = line.assessed_minor if approved else None
            if approved:
                mark_service_ends(case, lines, now=now)
            # Fixed statements (core/statements.py): the busiest write of the desk.
            insert([case])
            insert(lines)
            store(case, checked, actor=actor, now=now)
            insert(events)
            payouts = plan_payouts(case, now=now) if approved else []
            kinds = ([] if submission else ["submitted"]) + (["decided"] if approved else [])
            if kinds:
                notify_all(case, kinds)
            hooks: list[tuple[str, Any]] = [("case.submitted", {"case": submitted})]
            if approved:
                def decided() -> dict[str, Any]:
                    return case_json(case, lines=lines, payouts=payouts)

                hooks.append(("case.decided", lambda: {"case": decided(),
                                                       "decision": automatic_decision()}))
                hooks += end_services(case, lines, actor=AUTO_DECISION, now=now,
                                      case_data=decided)
            emit_many(hooks, now=now, endpoints=endpoints)
    except IntegrityError:
        if CaseLine.objects.filter(order_line__order=order, holds_line=True,
                                   order_line__line_id__in=line_ids).exists():
            raise LinesAlreadyInCase(_("A refund case is already open for this order line; "
                                       "follow that case instead.")) from None
        raise
    return Opened(case, lines, payouts)


submit = case_only(submit_written)


def withdraw(case: RefundCase, *, actor: Actor, now: datetime | None = None, via: str = ""
             ) -> RefundCase:
    now = now or timezone.now()
    with transaction.atomic():
        case = locked(case)
        before = move(case, "withdraw")
        case.proposal, case.proposed_by = None, None
        sla.refresh(case)
        case.save()
        record(case, CaseEventType.WITHDRAWN, actor=actor, before=before, now=now, via=via)
        emit_case("case.withdrawn", case, now=now)
    return case


def supplement(case: RefundCase, *, actor: Actor, message: str,
               uploads: Sequence[UploadedFile[bytes]] = (),
               documents: Mapping[str, Sequence[UploadedFile[bytes]]] | None = None,
               now: datetime | None = None, via: str = "") -> RefundCase:
    """The customer answers a request for information: their answer, the documents asked
    for (`documents`: files by the document kind they were asked for, each stored as a
    document of that kind) and any other files (`uploads`). The case goes back to review
    and its clocks run again with the time they had left. A refused file (FileRefused,
    naming it) or a kind nobody asked for changes nothing."""
    now = now or timezone.now()
    by_kind = {kind: list(files) for kind, files in (documents or {}).items() if files}
    if not message.strip() and not uploads and not by_kind:
        raise CaseError(_("Answer the question or attach a file."))
    # Every file checked before anything is written, so a refused one changes nothing.
    checked = [(kind, [(uploaded, check_named(uploaded, kind)) for uploaded in files])
               for kind, files in by_kind.items()]
    checked.append(("", [(uploaded, check_named(uploaded)) for uploaded in uploads]))
    with transaction.atomic():
        case = locked(case)
        before = move(case, "supplement")
        not_asked = [kind for kind in by_kind if kind not in case.requested_documents]
        if not_asked:
            raise CaseError(_("These documents were not asked for: %(kinds)s.")
                            % {"kinds": ", ".join(document_label(kind) for kind in not_asked)})
        case.info_due = None
        sla.resume(case, now)
        case.save()
        stored = [document for kind, files in checked
                  for document in store(case, files, actor=actor, now=now, kind=kind)]
        if message.strip():
            Message.objects.create(case=case, author=person(actor),
                                   author_kind=actor_kind(actor), body=message.strip(),
                                   created_at=now)
        record(case, CaseEventType.SUPPLEMENTED, actor=actor, before=before, now=now,
               data={"documents": [d.name for d in stored]}, via=via)
        tell(working_on(case), NoticeKind.CUSTOMER_ANSWERED, actor=actor, case=case, now=now,
             data={"how": "information"})
    return case


def add_documents(case: RefundCase, *, actor: Actor, uploads: Sequence[UploadedFile[bytes]],
                  now: datetime | None = None, via: str = "") -> list[Document]:
    """More material at any time while the case is open; the state does not change."""
    now = now or timezone.now()
    if not uploads:
        raise CaseError(_("Choose at least one file."))
    checked = check_uploads(uploads)
    with transaction.atomic():
        case = locked(case)
        if not holds_lines(case.state) or case.state == State.REFUNDED:
            raise CaseError(_("This case is finished; it takes no more documents."))
        documents = store(case, checked, actor=actor, now=now)
        record(case, CaseEventType.DOCUMENTS_ADDED, actor=actor, before=case.state, now=now,
               data={"documents": [d.name for d in documents]}, via=via)
        if actor_kind(actor) == "customer":
            tell([case.assignee], NoticeKind.CUSTOMER_ANSWERED, actor=actor, case=case,
                 now=now, data={"how": "documents"})
    return documents


def post_message(case: RefundCase, *, actor: Actor, body: str, is_internal: bool = False,
                 now: datetime | None = None, via: str = "") -> Message:
    """A message on the case's thread; staff may instead write an internal note, which the
    customer never sees. A staff message the customer sees is a first response."""
    from refunddesk.cases import permissions

    now = now or timezone.now()
    if not body.strip():
        raise CaseError(_("Write a message first."))
    kind = actor_kind(actor)
    is_staff = kind == "staff"
    if is_internal and not is_staff:
        raise CaseError(_("Only staff write internal notes."))
    if is_staff:
        permissions.require_work(actor)
    with transaction.atomic():
        case = locked(case)
        message = Message.objects.create(case=case, author=person(actor), author_kind=kind,
                                         body=body.strip(), is_internal=is_internal,
                                         created_at=now)
        if is_staff and not is_internal:
            sla.responded(case, now)
            case.save(update_fields=["first_responded_at", "sla_due_at", "updated_at"])
            notify(case, "message")
        kind_of_post = (CaseEventType.NOTE_ADDED if is_internal
                        else CaseEventType.MESSAGE_POSTED)
        record(case, kind_of_post, actor=actor, before=case.state, now=now,
               visible=not is_internal, via=via)
        if kind == "customer":
            tell([case.assignee], NoticeKind.CUSTOMER_ANSWERED, actor=actor, case=case,
                 now=now, data={"how": "message"})
    return message


def appeal(case: RefundCase, *, actor: Actor, text: str, uploads: Sequence[UploadedFile[bytes]],
           now: datetime | None = None, via: str = "") -> RefundCase:
    """A rejected customer asks a different reviewer to decide again, with new evidence,
    within the policy's appeal window."""
    now = now or timezone.now()
    if not text.strip():
        raise AppealNotAllowed(_("Say why the decision should change."))
    if not uploads:
        raise AppealNotAllowed(_("An appeal needs new evidence: attach at least one document."))
    checked = check_uploads(uploads)
    with transaction.atomic():
        case = locked(case)
        closes = sla.appeal_closes(case)
        if closes is not None and now > closes:
            raise AppealNotAllowed(_("The time to appeal this decision has passed."))
        before = move(case, "appeal")
        case.appealed_at, case.appeal_text = now, text.strip()
        case.appeal_of_decision_by = case.decided_by
        case.assignee, case.escalated_at, case.appeal_closes_at = None, None, None
        sla.restart_for_appeal(case, now)
        case.save()
        documents = store(case, checked, actor=actor, now=now)
        record(case, CaseEventType.APPEALED, actor=actor, before=before, now=now,
               data={"documents": [d.name for d in documents]}, via=via)
        notify(case, "appeal_received")
        tell(appeal_reviewers(case), NoticeKind.APPEAL_WAITING, actor=actor, case=case,
             now=now)
        emit_case("case.appealed", case, now=now)
    return case
