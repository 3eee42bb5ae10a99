"""Decisions through the API, for keys with the `decisions:write` scope: approve in full or
in part, reject, ask the customer for material.

A key decides as the staff member who made it: their roles, approval limits and the
four-eyes rule apply exactly as in the console, and the audit names them and the key. A
key made on the command line decides as the staff member it was made for (`refunddesk
make_api_key --acting-as`); a key of nobody, or of someone no longer active, decides
nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from refunddesk.api.auth import require
from refunddesk.api.case_actions import through
from refunddesk.api.cases import case_by_number, cases
from refunddesk.api.errors import ERRORS, ApiError
from refunddesk.api.idempotent import IDEMPOTENT
from refunddesk.api.schemas import CaseOut, Text, case_out
from refunddesk.cases import actions
from refunddesk.cases.document_kinds import DocumentKind
from refunddesk.cases.models import RefundCase, RejectionReason
from refunddesk.policy.money import MoneyError, minor_digits, parse_amount

router = Router(tags=["decisions"])


def deciding_staff(request: Any) -> Any:
    require(request, "decisions:write")
    person = request.auth.created_by
    if person is None or not person.is_active or not person.is_staff:
        raise ApiError(403, "no_staff_member", _(
            "This key acts for no active staff member, so it cannot decide. Make a key as "
            "the staff member who should decide."))
    return person


def _minor_amounts(case: RefundCase, amounts: dict[str, str] | None) -> dict[str, int] | None:
    if amounts is None:
        return None
    parsed = {}
    for line_id, text in amounts.items():
        try:
            parsed[line_id] = parse_amount(text, case.currency)
        except MoneyError:
            raise ApiError(422, "invalid", _(
                "Enter an amount in %(currency)s such as 120.50: digits, at most "
                "%(digits)s after the point.") % {
                "currency": case.currency, "digits": minor_digits(case.currency)},
                f"amounts.{line_id}") from None
    return parsed


class ApproveIn(Schema):
    amounts: dict[Text, Text] | None = Field(
        None, description="What each line gets, by order line id, as a decimal string "
                          "(\"120.50\"); lines left out get their assessed amount. Leave "
                          "out to approve the assessment in full.")
    note: Text = Field("", max_length=4000, description="A note for the customer.")
    justification: Text = Field("", max_length=4000, description=(
        "Required when approving more than the assessment (reviewers only)."))


@router.post("/cases/{number}/approve", response={200: CaseOut, **ERRORS},
             openapi_extra=IDEMPOTENT, summary="Approve a case, in full or in part")
def approve(request: HttpRequest, number: str, payload: ApproveIn) -> Any:
    """Above the policy's four-eyes threshold the approval waits for a second person in the
    console: the case stays in review and `decided_at` stays empty until then."""
    person = deciding_staff(request)
    case = case_by_number(number)
    actions.approve(case, actor=person, amounts=_minor_amounts(case, payload.amounts),
                    note=payload.note, justification=payload.justification,
                    via=through(request))
    return case_out(cases().get(pk=case.pk))


class RejectIn(Schema):
    reason: Text = Field(min_length=1, max_length=48, description=(
        "The code of a rejection reason from the list the admins keep."))
    message: Text = Field(min_length=1, max_length=4000, pattern=r"\S",
                          description="What the customer reads: why, and what they can do.")


@router.post("/cases/{number}/reject", response={200: CaseOut, **ERRORS},
             openapi_extra=IDEMPOTENT, summary="Reject a case, with a reason and a message")
def reject(request: HttpRequest, number: str, payload: RejectIn) -> Any:
    person = deciding_staff(request)
    case = case_by_number(number)
    reason = RejectionReason.objects.filter(code=payload.reason, is_active=True).first()
    if reason is None:
        codes = ", ".join(RejectionReason.objects.filter(is_active=True)
                          .values_list("code", flat=True))
        raise ApiError(422, "invalid", _("There is no rejection reason %(reason)s; the "
                                         "reasons are: %(codes)s.")
                       % {"reason": payload.reason, "codes": codes or "—"}, "reason")
    actions.reject(case, actor=person, reason=reason, message=payload.message,
                   via=through(request))
    return case_out(cases().get(pk=case.pk))


class RequestInfoIn(Schema):
    questions: Text = Field("", max_length=4000, description="What to ask the customer.")
    documents: list[DocumentKind] = Field(
        default_factory=list, max_length=len(DocumentKind.values),
        description="Kinds of document the customer should send.")
    due: datetime = Field(description="The customer's deadline (ISO 8601 with offset); "
                                      "the case closes if they miss it.")


@router.post("/cases/{number}/request-info", response={200: CaseOut, **ERRORS},
             openapi_extra=IDEMPOTENT,
             summary="Ask the customer for information or documents by a deadline")
def request_info(request: HttpRequest, number: str, payload: RequestInfoIn) -> Any:
    person = deciding_staff(request)
    case = case_by_number(number)
    due = payload.due
    if due.tzinfo is None:
        raise ApiError(422, "invalid", _("Give the deadline with its time zone offset."),
                       "due")
    if due <= timezone.now():
        raise ApiError(422, "invalid", _("The deadline for the customer must be in the "
                                         "future."), "due")
    actions.request_info(case, actor=person, questions=payload.questions, due=due,
                         documents=[str(kind) for kind in payload.documents],
                         via=through(request))
    return case_out(cases().get(pk=case.pk))
