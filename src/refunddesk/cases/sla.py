"""Service-level times of a case, counted on the policy's business-day calendar."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from refunddesk.cases.models import RefundCase
from refunddesk.policy.calendar import add_months, business_calendar
from refunddesk.policy.durations import Duration
from refunddesk.policy.presets import load_preset
from refunddesk.policy.schema import Policy


def policy_of(case: RefundCase) -> Policy:
    """The policy version the case was assessed with (presets for now; stored versions come
    with the console)."""
    return load_preset(case.policy_ref.split("@", 1)[0])


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
    return {
        "first_response_due": after(policy, submitted_at, policy.sla.first_response),
        "review_due": after(policy, submitted_at, policy.sla.review),
    }


def appeal_closes(case: RefundCase) -> datetime | None:
    """When the window to appeal a rejection ends; None when the policy sets none."""
    if case.decided_at is None:
        return None
    return after(policy_of(case), case.decided_at, policy_of(case).appeal_window)


def payout_expected(case: RefundCase, method: str, start: datetime) -> datetime | None:
    """When money sent back by `method` should arrive, by the policy's payout times."""
    policy = policy_of(case)
    payout = policy.sla.payout
    return after(policy, start, payout.get(method) or payout.get("default"))
