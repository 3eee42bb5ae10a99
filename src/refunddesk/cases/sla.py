"""Service-level times of a case, counted on the policy's business-day calendar.

Two clocks run from submission: the first response (any answer from staff the customer
sees) and the decision. They stop while the desk waits for the customer and resume with
what they had left. `sla_due_at` on the case is the next of them still owed, so the queue
sorts and filters on one column; the actions keep it current through `refresh`.

Business days come from the one calendar reader (calendars/reading.py: the packaged data
and the days admins keep). A clock counted over days that calendar does not know is still
computed (by the weekday rule) but never silently: `deadlines_estimated` is set on the
case, and the console shows it on the case and in the queue. (A payout's expected arrival
is judged where it is shown: calendars/templatetags.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings

from refunddesk.calendars.reading import calendar_for
from refunddesk.cases.models import RefundCase
from refunddesk.cases.states import State
from refunddesk.policies.store import policy_by_ref
from refunddesk.policy.business_days import BusinessCalendar
from refunddesk.policy.calendar import add_months
from refunddesk.policy.durations import Duration
from refunddesk.policy.schema import Policy

# States in which the desk owes the customer a decision, so the clocks run.
CLOCK_STATES = frozenset({State.SUBMITTED, State.IN_REVIEW, State.APPEALED})


def policy_of(case: RefundCase) -> Policy:
    """The policy version the case was assessed with (policies.store keeps the published
    versions in each process, so asking again costs no query)."""
    return policy_by_ref(case.policy_ref)


@dataclass(frozen=True)
class Due:
    """A deadline, and whether it was counted over days the business calendar does not
    know (then it is the weekday rule's estimate)."""

    at: datetime | None
    is_estimated: bool = False


def _is_estimated(calendar: BusinessCalendar, start: datetime, end: datetime,
                  tz: ZoneInfo) -> bool:
    return not calendar.covers_span(start.astimezone(tz).date(), end.astimezone(tz).date())


def counted(policy: Policy, start: datetime, duration: Duration | None) -> Due:
    """The deadline `duration` after `start` by the policy's clock and calendar."""
    return counted_on(policy.calendar, policy.time_zone, start, duration)


def counted_on(calendar_code: str, time_zone: str, start: datetime,
               duration: Duration | None) -> Due:
    """The deadline `duration` after `start` on a business calendar, in a time zone."""
    if duration is None:
        return Due(None)
    tz = ZoneInfo(time_zone)
    if duration.unit == "bd":
        calendar = calendar_for(calendar_code)
        at = calendar.add_business_days(start, duration.count, tz)
        return Due(at, _is_estimated(calendar, start, at, tz))
    if duration.is_exact:
        return Due(start + timedelta(seconds=duration.seconds))
    return Due(add_months(start.astimezone(tz), duration.months))


def after(policy: Policy, start: datetime, duration: Duration | None) -> datetime | None:
    return counted(policy, start, duration).at


def email_answer_within() -> Duration:
    """How soon a person answers a request that came by e-mail (the mailbox's promise,
    REFUNDDESK_EMAIL_ANSWER_WITHIN; checked at start-up by the intake's system check)."""
    return Duration.parse(settings.REFUNDDESK_EMAIL_ANSWER_WITHIN, allowed=("h", "d", "bd"))


def _earlier(first: Due, second: Due) -> Due:
    if first.at is None or (second.at is not None and second.at < first.at):
        return second
    return first


def due_times(policy: Policy, submitted_at: datetime, *, channel: str = ""
              ) -> dict[str, datetime | bool | None]:
    first_response = counted(policy, submitted_at, policy.sla.first_response)
    if channel == "email":
        # The mailbox promises an answer sooner than some policies' first response.
        first_response = _earlier(first_response,
                                  counted(policy, submitted_at, email_answer_within()))
    review = counted(policy, submitted_at, policy.sla.review)
    return {"first_response_due": first_response.at, "review_due": review.at,
            "sla_due_at": first_response.at or review.at,
            "deadlines_estimated": first_response.is_estimated or review.is_estimated}


def next_due(case: RefundCase) -> datetime | None:
    """What the desk owes next: the first response until there is one, then the decision;
    nothing while paused or once decided."""
    if case.state not in CLOCK_STATES or case.sla_paused_at is not None:
        return None
    if case.first_responded_at is None and case.first_response_due is not None:
        return case.first_response_due
    return case.review_due


def refresh(case: RefundCase) -> None:
    case.sla_due_at = next_due(case)


def responded(case: RefundCase, now: datetime) -> None:
    """Staff answered the customer: the first-response clock stops for good."""
    if case.first_responded_at is None:
        case.first_responded_at = now
    refresh(case)


def pause(case: RefundCase, now: datetime) -> None:
    case.sla_paused_at = now
    refresh(case)


def resume(case: RefundCase, now: datetime) -> None:
    """Restart the clocks with the business time each had left when paused; a clock that
    had already run out stays where it was (the case stays overdue)."""
    paused_at = case.sla_paused_at
    if paused_at is None:
        refresh(case)
        return
    policy = policy_of(case)
    tz = ZoneInfo(policy.time_zone)
    calendar = calendar_for(policy.calendar)
    estimated = False

    def moved(due: datetime | None) -> datetime | None:
        nonlocal estimated
        if due is None or due <= paused_at:
            return due
        left = calendar.business_time_between(paused_at, due, tz)
        resumed = calendar.add_business_time(now, left, tz)
        estimated = (estimated or _is_estimated(calendar, paused_at, due, tz)
                     or _is_estimated(calendar, now, resumed, tz))
        return resumed

    if case.first_responded_at is None:
        case.first_response_due = moved(case.first_response_due)
    case.review_due = moved(case.review_due)
    case.sla_paused_at = None
    # A clock left where it was keeps how it was counted, so the flag only ever grows here.
    case.deadlines_estimated = case.deadlines_estimated or estimated
    refresh(case)


def restart_for_appeal(case: RefundCase, now: datetime) -> None:
    """An appeal is a new decision owed: the review clock starts again from the appeal."""
    review = counted(policy_of(case), now, policy_of(case).sla.review)
    case.review_due = review.at
    # The clocks of the first decision are over; only the new one is owed.
    case.deadlines_estimated = review.is_estimated
    case.sla_paused_at = None
    refresh(case)


def is_overdue(case: RefundCase, now: datetime) -> bool:
    return case.sla_due_at is not None and case.sla_due_at < now


def appeal_closes(case: RefundCase) -> datetime | None:
    """When the window to appeal a rejection ends; None when the policy sets none."""
    if case.decided_at is None:
        return None
    return after(policy_of(case), case.decided_at, policy_of(case).appeal_window)


def four_eyes_threshold(case: RefundCase) -> int | None:
    """Approvals above this many minor units need a second person; None: never."""
    amounts = policy_of(case).four_eyes_above
    if amounts is None:
        return None
    return amounts.get(case.currency)


def payout_expected(case: RefundCase, method: str, start: datetime) -> datetime | None:
    """When money sent back by `method` should arrive, by the policy's payout times.
    Whether it was counted without calendar data is told from the payout itself where it is
    shown (calendars/reading.py: was_known), so planning payouts writes nothing more."""
    policy = policy_of(case)
    payout = policy.sla.payout
    return after(policy, start, payout.get(method) or payout.get("default"))
