"""Service-level times of a case, counted on the policy's business-day calendar.

Two clocks run from submission: the first response (any answer from staff the customer
sees) and the decision. They stop while the desk waits for the customer and resume with
what they had left. `sla_due_at` on the case is the next of them still owed, so the queue
sorts and filters on one column; the actions keep it current through `refresh`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from refunddesk.cases.models import RefundCase
from refunddesk.cases.states import State
from refunddesk.policies.store import policy_by_ref
from refunddesk.policy.business_days import business_calendar
from refunddesk.policy.calendar import add_months
from refunddesk.policy.durations import Duration
from refunddesk.policy.schema import Policy

# States in which the desk owes the customer a decision, so the clocks run.
CLOCK_STATES = frozenset({State.SUBMITTED, State.IN_REVIEW, State.APPEALED})


def policy_of(case: RefundCase) -> Policy:
    """The policy version the case was assessed with (kept on the case by the action that
    assessed it, so that action does not look it up again)."""
    known = case.__dict__.get("assessed_with")
    if known is not None and known.ref == case.policy_ref:
        return known
    return policy_by_ref(case.policy_ref)


def after(policy: Policy, start: datetime, duration: Duration | None) -> datetime | None:
    if duration is None:
        return None
    tz = ZoneInfo(policy.time_zone)
    if duration.unit == "bd":
        calendar = business_calendar(policy.calendar)
        return calendar.add_business_days(start, duration.count, tz)
    if duration.is_exact:
        return start + timedelta(seconds=duration.seconds)
    return add_months(start.astimezone(tz), duration.months)


def due_times(policy: Policy, submitted_at: datetime) -> dict[str, datetime | None]:
    first_response = after(policy, submitted_at, policy.sla.first_response)
    review = after(policy, submitted_at, policy.sla.review)
    return {"first_response_due": first_response, "review_due": review,
            "sla_due_at": first_response or review}


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
    calendar = business_calendar(policy.calendar)

    def moved(due: datetime | None) -> datetime | None:
        if due is None or due <= paused_at:
            return due
        left = calendar.business_time_between(paused_at, due, tz)
        return calendar.add_business_time(now, left, tz)

    if case.first_responded_at is None:
        case.first_response_due = moved(case.first_response_due)
    case.review_due = moved(case.review_due)
    case.sla_paused_at = None
    refresh(case)


def restart_for_appeal(case: RefundCase, now: datetime) -> None:
    """An appeal is a new decision owed: the review clock starts again from the appeal."""
    case.review_due = after(policy_of(case), now, policy_of(case).sla.review)
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
    """When money sent back by `method` should arrive, by the policy's payout times."""
    policy = policy_of(case)
    payout = policy.sla.payout
    return after(policy, start, payout.get(method) or payout.get("default"))
