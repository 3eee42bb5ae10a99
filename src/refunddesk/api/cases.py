"""/api/v1/cases and /api/v1/quotes: what a merchant's console needs to offer "apply for a
refund" in its own pages and follow the case."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field as SchemaField
from ninja import Query, Router, Schema, Status

from refunddesk.api.auth import require
from refunddesk.api.errors import ERRORS, ApiError
from refunddesk.api.idempotent import IDEMPOTENT
from refunddesk.api.paging import cursor_for, cursor_id
from refunddesk.api.schemas import (
    CASE_COLUMNS,
    LINE_COLUMNS,
    PAYOUT_COLUMNS,
    CaseIn,
    CaseOut,
    CasePage,
    QuoteIn,
    Text,
    case_out,
    shown_case,
)
from refunddesk.billing.facts import orders_with_facts
from refunddesk.billing.models import Account, Order
from refunddesk.cases import actions
from refunddesk.cases.actors import customer_of
from refunddesk.cases.assessing import NoPolicy, assess_order, policy_id_for
from refunddesk.cases.models import CaseLine, RefundCase
from refunddesk.cases.states import State
from refunddesk.cases.tracking import NotATrackingNumber, normalise
from refunddesk.payouts.models import Payout
from refunddesk.policy.engine import AssessmentError

router = Router(tags=["cases"])

MAX_PAGE = 100


def cases() -> QuerySet[RefundCase]:
    """Cases with what the API shows of them (schemas.case_out) and nothing more, for lists
    and answers: the case row is wide (the assessment alone is a few KB of JSON)."""
    lines = (CaseLine.objects.select_related("order_line")
             .only("case", "assessed_minor", "approved_minor", "rule", "order_line__line_id"))
    payouts = Payout.objects.only("case", "replaces", "destination", "amount_minor", "currency",
                                  "state", "expected_at", "settled_at")
    return (RefundCase.objects.select_related("account", "order")
            .only("tracking_number", "state", "channel", "currency", "assessed_total_minor",
                  "approved_total_minor", "submitted_at", "decided_at",
                  "account__external_id", "order__external_id")
            .prefetch_related(Prefetch("lines", lines), Prefetch("payouts", payouts)))


def _symbols(number: str) -> str:
    try:
        return normalise(number)
    except NotATrackingNumber:
        raise Http404(_("There is no case with this tracking number.")) from None


def case_by_number(number: str) -> RefundCase:
    """The case with this tracking number, for an action to act on."""
    symbols = _symbols(number)
    case = (RefundCase.objects.select_related("account", "order")
            .filter(tracking_number=symbols).first())
    if case is None:
        raise Http404(_("There is no case with this tracking number."))
    return case


@router.get("/cases/{number}", response={200: CaseOut, **ERRORS},
            summary="Read a case by its tracking number")
def read_case(request: HttpRequest, number: str) -> Any:
    require(request, "cases:read")
    return case_status(number)


def case_status(number: str) -> dict[str, Any]:
    """The API's busiest call (integrations poll it), in two queries that build no model
    instances: the case's lines with the case's columns beside each, then its payouts."""
    symbols = _symbols(number)
    shown = [f"case__{name}" for name in CASE_COLUMNS]
    columns = (*CASE_COLUMNS, "account", "order", "case_id", "line_id", *LINE_COLUMNS)
    rows = [dict(zip(columns, row, strict=True)) for row in
            CaseLine.objects.filter(case__tracking_number=symbols).order_by("pk")
            .values_list(*shown, "case__account__external_id", "case__order__external_id",
                         "case_id", "order_line__line_id", *LINE_COLUMNS)]
    if not rows:  # every case has at least one line
        raise Http404(_("There is no case with this tracking number."))
    payouts = Payout.objects.filter(case_id=rows[0]["case_id"]).values(*PAYOUT_COLUMNS)
    return shown_case(rows[0], rows, list(payouts))


class CaseFilters(Schema):
    state: State | None = SchemaField(None, description="Only cases in this state.")
    account: Text | None = SchemaField(None, max_length=64,
                                       description="Only this account's cases.")
    limit: int = SchemaField(50, ge=1, le=MAX_PAGE, description="Cases per page.")
    cursor: Text | None = SchemaField(None, max_length=64,
                                     description="`next_cursor` of the previous page.")


@router.get("/cases", response={200: CasePage, **ERRORS},
            summary="List cases, newest first, a page at a time")
def list_cases(request: HttpRequest, filters: Query[CaseFilters]) -> Any:
    """Pages follow the cases' order of creation, so a case opened while you page through
    never makes a page repeat or skip one."""
    require(request, "cases:read")
    found = cases().order_by("-id")
    if filters.state:
        found = found.filter(state=filters.state)
    if filters.account:
        found = found.filter(account__external_id=filters.account)
    if filters.cursor:
        found = found.filter(id__lt=cursor_id(filters.cursor))
    page = list(found[:filters.limit + 1])
    more = len(page) > filters.limit
    page = page[:filters.limit]
    return {"items": [case_out(case) for case in page],
            "next_cursor": cursor_for(page[-1].pk) if more else None}


def _order(order_id: str) -> Order:
    """The order, read with everything its assessment needs (once for the quote)."""
    order = orders_with_facts().filter(external_id=order_id).first()
    if order is None:
        raise ApiError(404, "not_found", _("There is no order %(order)s.")
                       % {"order": order_id}, "order")
    return order


class QuoteOut(Schema):
    assessment: dict[str, Any] = SchemaField(
        description="The assessment as the policy engine gives it: outcome, rule, total, "
                    "lines, allocation to the payments, documents required, explanation.")


@router.post("/quotes", response={200: QuoteOut, **ERRORS}, openapi_extra=IDEMPOTENT,
             summary="What a refund of these lines would give now, without opening a case")
def quote(request: HttpRequest, payload: QuoteIn) -> Any:
    require(request, "cases:read")
    order = _order(payload.order)
    try:
        _policy, assessment = assess_order(order, payload.lines, as_of=timezone.now())
    except NoPolicy:
        raise ApiError(409, "no_policy", _("These lines are not under one refund policy; "
                                           "ask for them separately.")) from None
    except AssessmentError as error:
        raise ApiError(422, "invalid", str(error), "lines") from None
    return {"assessment": assessment.to_dict(explanation_locale(request))}


def explanation_locale(request: HttpRequest) -> str:
    """The policy engine's locale for the request's language (it knows en and zh-Hans)."""
    language = getattr(request, "LANGUAGE_CODE", "") or ""
    return "en" if language.startswith("en") else "zh-Hans"


def _check_lines(order: Order, line_ids: list[str]) -> None:
    """What a quote would refuse, refused the same way before a case is opened (the action
    would refuse it too, but in its own words)."""
    lines = {line.line_id: line for line in order.lines.all()}
    unknown = [line_id for line_id in line_ids if line_id not in lines]
    if unknown:
        raise ApiError(422, "invalid", _("The order %(order)s has no line %(lines)s.")
                       % {"order": order.external_id, "lines": ", ".join(unknown)}, "lines")
    try:
        policy_id_for([lines[line_id] for line_id in line_ids])
    except NoPolicy:
        raise ApiError(409, "no_policy", _("These lines are not under one refund policy; "
                                           "ask for them separately.")) from None


def _account_order(account_id: str, order_id: str) -> Order:
    """The account's order, read with everything its assessment needs (one read for the
    checks, the assessment and the case)."""
    order = (orders_with_facts()
             .filter(account__external_id=account_id, external_id=order_id).first())
    if order is None:
        if not Account.objects.filter(external_id=account_id).exists():
            raise ApiError(404, "not_found", _("There is no account %(account)s.")
                           % {"account": account_id}, "account")
        raise ApiError(404, "not_found", _("This account has no order %(order)s.")
                       % {"order": order_id}, "order")
    return order


@router.post("/cases", response={201: CaseOut, **ERRORS}, openapi_extra=IDEMPOTENT,
             summary="Open a case for some lines of an account's order")
def open_case(request: HttpRequest, payload: CaseIn) -> Any:
    require(request, "cases:write")
    order = _account_order(payload.account, payload.order)
    _check_lines(order, payload.lines)
    case = actions.submit(account=order.account, order=order, line_ids=payload.lines,
                          actor=customer_of(order.account), channel="api",
                          reason_text=payload.reason, language=payload.language)
    # The case as written, with its lines and payouts (kept by submit): nothing re-read.
    return Status(201, case_out(case))
