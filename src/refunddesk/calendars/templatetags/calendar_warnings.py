"""The warning a case page shows when a deadline of the case was counted without calendar
data: its SLA clocks (RefundCase.deadlines_estimated, set when they were counted) or a
payout's expected arrival (told from the payout: its days were not known when it was
planned). It says which calendar, how far it is known, whether it has been entered since
(the dates are not counted again then), and who can fix it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import template
from django.template import Context

from refunddesk.calendars.countries import country_name
from refunddesk.calendars.permissions import can_keep
from refunddesk.calendars.reading import calendar_for, was_known
from refunddesk.cases.models import RefundCase
from refunddesk.cases.sla import policy_of
from refunddesk.policy.schema import PolicyError

register = template.Library()

Span = tuple[datetime, datetime]


def _clock_spans(case: RefundCase) -> list[Span]:
    return [(case.submitted_at, due) for due in (case.first_response_due, case.review_due)
            if due is not None]


def _estimated_payouts(case: RefundCase, code: str, tz: ZoneInfo) -> list[Span]:
    planned = case.payouts.exclude(expected_at=None).values_list("created_at", "expected_at")
    return [(start, due) for start, due in planned
            if due is not None  # excluded by the query; the type cannot know
            and not was_known(code, start.astimezone(tz).date(), due.astimezone(tz).date(),
                              start)]


@register.inclusion_tag("calendars/deadline_warning.html", takes_context=True)
def deadline_calendar_warning(context: Context, case: RefundCase) -> dict[str, Any]:
    try:
        policy = policy_of(case)
    except PolicyError:
        show = bool(getattr(case, "deadlines_estimated", False))
        return {"show": show, "code": "", "known_through": None}
    tz = ZoneInfo(policy.time_zone)
    spans = _clock_spans(case) if case.deadlines_estimated else []
    spans += _estimated_payouts(case, policy.calendar, tz)
    if not spans:
        return {"show": False}
    from refunddesk.calendars.overview import today

    calendar = calendar_for(policy.calendar)
    return {
        "show": True, "code": policy.calendar, "name": country_name(policy.calendar),
        "known_through": calendar.covered_through(today()),
        "is_known_now": all(calendar.covers_span(start.astimezone(tz).date(),
                                                 due.astimezone(tz).date())
                            for start, due in spans),
        "can_keep": can_keep(context.get("user"))}
