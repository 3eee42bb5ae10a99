"""/api/v1/cases and /api/v1/quotes: what a merchant's console needs to offer "apply for a
refund" in its own pages and follow the case."""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import Http404, HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field as SchemaField
from ninja import Query, Router, Schema

from refunddesk.api.auth import require
from refunddesk.api.errors import ERRORS, ApiError
from refunddesk.api.idempotent import IDEMPOTENT
from refunddesk.api.paging import cursor_for, cursor_id
from refunddesk.api.rendering import json_answer
from refunddesk.api.schemas import (
    CaseIn,
    CaseOut,
    CasePage,
    OpenedCasesOut,
    QuoteIn,
    Text,
    case_out,
    shown_case,
)
from refunddesk.api.status import status_rows
from refunddesk.billing.models import Account
from refunddesk.billing.order_records import BY_ACCOUNT_AND_ID, BY_ID, OrderRecord, read_record
from refunddesk.cases import actions
from refunddesk.cases.actions.submission import lines_without_policy_message
from refunddesk.cases.actors import customer_of
from refunddesk.cases.assessing import LinesWithoutPolicy, assess_groups
from refunddesk.cases.models import CaseLine, RefundCase
from refunddesk.cases.states import State
from refunddesk.cases.tracking import NotATrackingNumber, normalise
from refunddesk.payouts.models import Payout
from refunddesk.policy.assessment import AssessmentError

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
    # Built in the shape of CaseOut already (shown_case): rendered as Ninja would render
    # it, without checking every field against CaseOut a second time (api/rendering.py).
    return json_answer(case_status(number))


def case_status(number: str) -> dict[str, Any]:
    """The API's busiest call (integrations poll it): one prepared statement, no model
    instances (api/status.py)."""
    lines, payouts = status_rows(_symbols(number))
    if not lines:  # every case has at least one line
        raise Http404(_("There is no case with this tracking number."))
    return shown_case(lines[0], lines, payouts)


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


def _order(order_id: str) -> OrderRecord:
    """The order, read with everything its assessment needs (once for the quote)."""
    record = read_record(BY_ID, order_id)
    if record is None:
        raise ApiError(404, "not_found", _("There is no order %(order)s.")
                       % {"order": order_id}, "order")
    return record


class QuoteGroupOut(Schema):
    policy: str = SchemaField(description="The refund policy and version the lines are "
                                          "assessed under, e.g. `tencent-cloud@1`.")
    lines: list[str] = SchemaField(description="The ids of the lines under this policy, in "
                                               "the order's order.")
    assessment: dict[str, Any] = SchemaField(
        description="The assessment of these lines, as `assessment` describes it.")


class QuoteOut(Schema):
    assessment: dict[str, Any] | None = SchemaField(
        description="The assessment as the policy engine gives it: outcome, rule, total, "
                    "lines, allocation to the payments, documents required, explanation. "
                    "Null when the lines fall under more than one refund policy: then "
                    "read `groups`.")
    groups: list[QuoteGroupOut] = SchemaField(
        description="One entry per refund policy the lines fall under, in the order of the "
                    "lines: each is the case `POST /cases` would open for them. One entry "
                    "(the same assessment as `assessment`) when they fall under one policy.")


@router.post("/quotes", response={200: QuoteOut, **ERRORS}, openapi_extra=IDEMPOTENT,
             summary="What a refund of these lines would give now, without opening a case")
def quote(request: HttpRequest, payload: QuoteIn) -> Any:
    require(request, "cases:read")
    record = _order(payload.order)
    try:
        quotes = assess_groups(record, payload.lines, as_of=timezone.now())
    except LinesWithoutPolicy as error:
        raise ApiError(409, "no_policy", lines_without_policy_message(error.line_ids),
                       "lines") from None
    except AssessmentError as error:
        raise ApiError(422, "invalid", str(error), "lines") from None
    locale = explanation_locale(request)
    groups = [{"policy": quote.policy.ref, "lines": list(quote.group.line_ids),
               "assessment": quote.assessment.to_dict(locale)} for quote in quotes]
    return {"assessment": groups[0]["assessment"] if len(groups) == 1 else None,
            "groups": groups}


def explanation_locale(request: HttpRequest) -> str:
    """The policy engine's locale for the request's language (it knows en and zh-Hans)."""
    language = getattr(request, "LANGUAGE_CODE", "") or ""
    return "en" if language.startswith("en") else "zh-Hans"


def _check_lines(record: OrderRecord, line_ids: list[str]) -> None:
    """What a quote would refuse, refused the same way before a case is opened (the action
    would refuse it too, but in its own words)."""
    lines = {line.line_id: line for line in record.lines}
    unknown = [line_id for line_id in line_ids if line_id not in lines]
    if unknown:
        raise ApiError(422, "invalid", _("The order %(order)s has no line %(lines)s.")
                       % {"order": record.order.external_id, "lines": ", ".join(unknown)},
                       "lines")
    without = [line_id for line_id in dict.fromkeys(line_ids)
               if not lines[line_id].product.policy_id]
    if without:
        raise ApiError(409, "no_policy", lines_without_policy_message(without), "lines")


def _account_order(account_id: str, order_id: str) -> OrderRecord:
    """The account's order, read with everything its assessment needs (one read for the
    checks, the assessment and the case)."""
    record = read_record(BY_ACCOUNT_AND_ID, account_id, order_id)
    if record is None:
        if not Account.objects.filter(external_id=account_id).exists():
            raise ApiError(404, "not_found", _("There is no account %(account)s.")
                           % {"account": account_id}, "account")
        raise ApiError(404, "not_found", _("This account has no order %(order)s.")
                       % {"order": order_id}, "order")
    return record


@router.post("/cases", response={201: OpenedCasesOut, **ERRORS}, openapi_extra=IDEMPOTENT,
             summary="Open a case for some lines of an account's order (one per refund "
                     "policy they fall under)")
def open_case(request: HttpRequest, payload: CaseIn) -> Any:
    """Lines under different refund policies get one case each, all opened or none; the
    answer is the first case with every case opened in `cases`."""
    require(request, "cases:write")
    record = _account_order(payload.account, payload.order)
    _check_lines(record, payload.lines)
    opened = actions.open_cases_written(
        account=record.account, order=record, line_ids=payload.lines,
        actor=customer_of(record.account), channel="api", reason_text=payload.reason,
        language=payload.language)
    # Shown as written, not read back (the busiest write: one statement less per case);
    # the same shape GET /cases/{number} gives, by the same function (case_shape.py), in
    # the shape of OpenedCasesOut already, so rendered without Ninja's second check
    # (api/rendering.py).
    shown = [case_out(each.case, lines=each.lines, payouts=each.payouts) for each in opened]
    return json_answer({**shown[0], "cases": shown}, status=201)
