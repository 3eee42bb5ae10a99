"""Staff decisions on a case: ask the customer for material, approve (in full or per line,
with four eyes above the policy's threshold), reject. Plus the system's own first move on
a new case: approve at once or send to review."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refunddesk.cases import permissions, sla
from refunddesk.cases.actions.base import actor_kind, event, locked, move, record
from refunddesk.cases.actors import AUTO_DECISION, Actor, SystemActor, person
from refunddesk.cases.document_kinds import DocumentKind
from refunddesk.cases.errors import ApprovalChanged, CaseError
from refunddesk.cases.events import CaseEventType
from refunddesk.cases.models import CaseEvent, CaseLine, Message, RefundCase, RejectionReason
from refunddesk.cases.service_end import end_services, mark_service_ends
from refunddesk.cases.states import State, next_state
from refunddesk.core.money import format_money
from refunddesk.inbox.models import NoticeKind
from refunddesk.inbox.recipients import may_confirm
from refunddesk.inbox.telling import tell
from refunddesk.notifications.outbox import notify
from refunddesk.notifications.webhook_events import Cases, emit_case, emit_many
from refunddesk.payouts.planned import plan_payouts
from refunddesk.policy.money import format_amount

DECIDING_STATES = (State.IN_REVIEW, State.APPEALED)


# -- the system's first move --------------------------------------------------------------

def first_move(case: RefundCase, *, handling: str, now: datetime) -> CaseEvent:
    """The system's first move on a new case, made before the case is written (so it is
    written once): approve at once where the policy says so, else send to review. The
    caller writes the lines approved and plans the payouts. Returns the move's event, not
    yet written."""
    before = case.state
    if handling == "approve":
        case.state = next_state(before, "auto_approve")
        case.approved_total_minor, case.decided_at = case.assessed_total_minor, now
        sla.refresh(case)
        return event(case, CaseEventType.APPROVED, actor=AUTO_DECISION, before=before, now=now,
                     data={"approved": case.assessment["total"], "automatic": True})
    case.state = next_state(before, "route_to_review")
    sla.refresh(case)
    return event(case, CaseEventType.ROUTED_TO_REVIEW, actor=AUTO_DECISION, before=before, now=now)


def automatic_decision() -> dict[str, Any]:
    """What the case.decided webhook of an automatic approval says of the decision."""
    return _decision("approved", automatic=True, appeal=False)


# -- asking -------------------------------------------------------------------------------

def request_info(case: RefundCase, *, actor: Actor, questions: str, due: datetime,
                 documents: Iterable[str] = (), now: datetime | None = None, via: str = ""
                 ) -> RefundCase:
    """Ask the customer for material by a deadline; the SLA clocks pause until they answer.
    A customer who misses the deadline has their case closed (deadlines.py)."""
    now = now or timezone.now()
    documents = list(dict.fromkeys(documents))
    unknown = [code for code in documents if code not in DocumentKind.values]
    if unknown:
        raise CaseError(_("Unknown kind of document: %(kinds)s.") % {"kinds": ", ".join(unknown)})
    if not questions.strip() and not documents:
        raise CaseError(_("Ask a question or pick the documents you need."))
    if due <= now:
        raise CaseError(_("The deadline for the customer must be in the future."))
    permissions.require_work(actor)
    with transaction.atomic():
        case = locked(case)
        if case.proposal is not None:
            raise CaseError(_("An approval of this case is waiting for a second person; "
                              "confirm or decline it first."))
        before = move(case, "request_info")
        case.info_due, case.requested_documents = due, documents
        sla.responded(case, now)
        sla.pause(case, now)
        case.save()
        if questions.strip():  # only documents picked: the list says it all
            Message.objects.create(case=case, author=person(actor),
                                   author_kind=actor_kind(actor), body=questions.strip(),
                                   created_at=now)
        record(case, CaseEventType.INFORMATION_REQUESTED, actor=actor, before=before, now=now,
               data={"due": due.isoformat(), "documents": documents}, via=via)
        notify(case, "info_requested")
    return case


# -- approving ----------------------------------------------------------------------------

def _line_amounts(case: RefundCase, amounts: Mapping[str, int] | None) -> dict[str, int]:
    """What each line of the case gets: the assessment's figure unless `amounts` (by order
    line id) says otherwise. Never negative, never more than the line cost."""
    lines = {line.order_line.line_id: line
             for line in case.lines.select_related("order_line")}
    chosen = {line_id: line.assessed_minor for line_id, line in lines.items()}
    for line_id, amount in (amounts or {}).items():
        if line_id not in lines:
            raise CaseError(_("Line %(line)s is not part of this case.") % {"line": line_id})
        if not isinstance(amount, int) or amount < 0:
            raise CaseError(_("Line %(line)s: the amount must be zero or more.")
                            % {"line": line_id})
        paid = lines[line_id].order_line.amount_paid_minor
        if amount > paid:
            raise CaseError(_("Line %(line)s: at most %(paid)s, what the line cost.")
                            % {"line": line_id, "paid": format_money(paid, case.currency)})
        chosen[line_id] = amount
    return chosen


def approve(case: RefundCase, *, actor: Actor, amounts: Mapping[str, int] | None = None,
            note: str = "", justification: str = "", now: datetime | None = None,
            via: str = "") -> RefundCase:
    """Approve the refund, in full (the assessed amounts) or in part (`amounts` per order
    line, in minor units). More than the assessment only by a reviewer, with a written
    justification. Above the policy's four-eyes threshold the approval waits for a second
    person (`confirm_approval`); the case stays where it is until then."""
    now = now or timezone.now()
    with transaction.atomic():
        case = locked(case)
        next_state(case.state, "approve")  # a clear refusal before anything else
        permissions.require_decide(actor, case)
        decider = person(actor)
        assert decider is not None  # require_decide lets only a staff member through
        if case.proposal is not None:
            raise CaseError(_("An approval of this case is waiting for a second person; "
                              "confirm or decline it first."))
        chosen = _line_amounts(case, amounts)
        total = sum(chosen.values())
        if total == 0:
            raise CaseError(_("Approving nothing is a rejection: reject the case instead."))
        assessed = {line.order_line.line_id: line.assessed_minor
                    for line in case.lines.select_related("order_line")}
        is_override = any(chosen[line_id] > assessed[line_id] for line_id in chosen)
        if is_override:
            permissions.require_override(actor)
            if not justification.strip():
                raise CaseError(_("Approving more than the assessed refund needs a written "
                                  "justification."))
        permissions.require_within_limit(actor, case, total)
        proposal = {"amounts": chosen, "total": total, "note": note.strip(),
                    "justification": justification.strip(), "is_override": is_override,
                    "at": now.isoformat()}
        threshold = sla.four_eyes_threshold(case)
        if threshold is not None and total > threshold:
            case.proposal, case.proposed_by = proposal, decider
            case.save()
            record(case, CaseEventType.APPROVAL_PROPOSED, actor=actor, before=case.state, now=now,
                   visible=False, data=_figures(case, proposal), via=via)
            tell(may_confirm(case), NoticeKind.CONFIRMATION_WANTED, actor=actor, case=case,
                 now=now, data={"by": decider.get_username(), "amount_minor": total,
                                "currency": case.currency})
            return case
        _decide_approved(case, proposal, decided_by=decider, actor=actor, now=now, via=via)
    return case


def _check_seen(proposal: Mapping[str, Any], seen: str | None) -> None:
    # `seen` is the proposal the person was shown (its "at"); checked under the lock, so
    # nobody confirms or declines an approval that changed after they read it.
    if seen is not None and proposal["at"] != seen:
        raise ApprovalChanged(_("The approval waiting for confirmation has changed since you "
                                "opened the page. Nothing was changed: read it again."))


def confirm_approval(case: RefundCase, *, actor: Actor, seen: str | None = None,
                     now: datetime | None = None) -> RefundCase:
    """The second pair of eyes: someone other than the proposer confirms the approval."""
    now = now or timezone.now()
    with transaction.atomic():
        case = locked(case)
        if case.proposal is None:
            raise CaseError(_("No approval of this case is waiting for confirmation."))
        _check_seen(case.proposal, seen)
        next_state(case.state, "approve")
        permissions.require_confirm(actor, case)
        permissions.require_within_limit(actor, case, case.proposal["total"])
        _decide_approved(case, case.proposal, decided_by=case.proposed_by, actor=actor,
                         now=now)
    return case


def decline_approval(case: RefundCase, *, actor: Actor, note: str, seen: str | None = None,
                     now: datetime | None = None) -> RefundCase:
    """The second person disagrees (or the proposer takes it back): the approval is
    dropped and the case stays to be decided again."""
    now = now or timezone.now()
    with transaction.atomic():
        case = locked(case)
        if case.proposal is None:
            raise CaseError(_("No approval of this case is waiting for confirmation."))
        _check_seen(case.proposal, seen)
        if person(actor) is not None and case.proposed_by_id == actor.pk:
            permissions.require_work(actor)  # taking back one's own proposal
        else:
            permissions.require_confirm(actor, case)
            if not note.strip():
                raise CaseError(_("Say why you decline the approval."))
        dropped = case.proposal
        case.proposal, case.proposed_by = None, None
        case.save()
        record(case, CaseEventType.APPROVAL_DECLINED, actor=actor, before=case.state, now=now,
               visible=False, data={**_figures(case, dropped), "reason": note.strip()})
    return case


def _figures(case: RefundCase, proposal: Mapping[str, Any]) -> dict[str, Any]:
    return {"approved": format_amount(proposal["total"], case.currency),
            "lines": {line_id: format_amount(amount, case.currency)
                      for line_id, amount in proposal["amounts"].items()},
            "is_partial": proposal["total"] < case.assessed_total_minor,
            "is_override": proposal["is_override"],
            "justification": proposal["justification"]}


def _decide_approved(case: RefundCase, proposal: Mapping[str, Any], *,
                     decided_by: User | None, actor: Actor, now: datetime, via: str = ""
                     ) -> None:
    before = move(case, "approve")
    data = _figures(case, proposal)
    is_confirmed = case.proposed_by_id is not None  # four eyes: cleared below
    if case.proposed_by is not None:
        data["proposed_by"] = case.proposed_by.get_username()
    case.approved_total_minor = proposal["total"]
    case.decided_at, case.decided_by, case.decision_note = now, decided_by, proposal["note"]
    case.proposal, case.proposed_by = None, None
    sla.responded(case, now)
    case.save()
    lines = list(case.lines.select_related("order_line__product"))
    for line in lines:
        line.approved_minor = proposal["amounts"][line.order_line.line_id]
    mark_service_ends(case, lines, now=now)
    CaseLine.objects.bulk_update(lines, ["approved_minor", "service_ends_at"])
    plan_payouts(case, now=now)
    record(case, CaseEventType.APPROVED, actor=actor, before=before, now=now, data=data, via=via)
    notify(case, "appeal_decided" if before == State.APPEALED else "decided")
    cases = Cases([case.pk])
    decision = _decision(
        "approved", automatic=isinstance(actor, SystemActor), appeal=before == State.APPEALED,
        four_eyes=is_confirmed, note=case.decision_note)
    emit_many([("case.decided", lambda: {"case": cases(case.pk), "decision": decision}),
               *end_services(case, lines, actor=actor, now=now,
                             case_data=lambda: cases(case.pk))], now=now)


# -- rejecting ----------------------------------------------------------------------------

def reject(case: RefundCase, *, actor: Actor, reason: RejectionReason | None, message: str,
           now: datetime | None = None, via: str = "") -> RefundCase:
    """Refuse the refund with a reason from the managed list and a message the customer
    reads. Rejecting an appeal closes the case."""
    now = now or timezone.now()
    if reason is None:
        raise CaseError(_("Choose the reason for the rejection."))
    if not message.strip():
        raise CaseError(_("Write the customer a message explaining the rejection."))
    with transaction.atomic():
        case = locked(case)
        next_state(case.state, "reject")
        permissions.require_decide(actor, case)
        if case.proposal is not None:
            raise CaseError(_("An approval of this case is waiting for a second person; "
                              "decline it before rejecting."))
        before = move(case, "reject")
        case.approved_total_minor = 0
        case.decided_at, case.decided_by, case.decision_note = now, person(actor), message.strip()
        case.rejection_reason = reason
        case.appeal_closes_at = sla.appeal_closes(case)
        sla.responded(case, now)
        case.save()
        Message.objects.create(case=case, author=person(actor), author_kind=actor_kind(actor),
                               body=message.strip(), created_at=now)
        record(case, CaseEventType.REJECTED, actor=actor, before=before, now=now,
               data={"reason": reason.code if reason else "", "message": message.strip()},
               via=via)
        notify(case, "appeal_decided" if before == State.APPEALED else "decided")
        emit_case("case.decided", case, now=now, decision=_decision(
            "rejected", automatic=isinstance(actor, SystemActor),
            appeal=before == State.APPEALED, reason=reason.code if reason else "",
            note=case.decision_note))
    return case


def _decision(outcome: str, *, automatic: bool, appeal: bool, four_eyes: bool = False,
              reason: str = "", note: str = "") -> dict[str, Any]:
    """What a case.decided webhook says about the decision, beside the case itself."""
    return {"outcome": outcome, "automatic": automatic, "appeal": appeal,
            "four_eyes": four_eyes, "reason": reason, "note": note}
