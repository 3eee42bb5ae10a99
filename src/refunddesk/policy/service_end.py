"""When a refund ends the service it pays back: the one rule, used by the quote (to tell
the customer before they submit) and by the approval (to record it and stop renewal).

A refund of a prepaid line (a server, a VPN account, a subscription period) takes back the
time it paid for, so the service stops: at once for a whole refund. A partial refund keeps
the service until the end of the paid-for period only where the rule says so
(`partial_refund_ends_service = "at_period_end"`); by default it ends at once as well.

A line whose period has not begun (a renewal refunded before it starts) ends the service
where that period would have begun: the customer keeps the time other orders paid for.
"""

from __future__ import annotations

from datetime import datetime

from refunddesk.policy.schema import Rule

# Billing modes whose line pays for a span of service. Pay-as-you-go charges are refunds of
# usage already billed, and one-time purchases have no running service to stop.
SERVICE_BILLING = frozenset({"prepaid"})


def service_ends_at(*, billing: str, refund: int, paid: int, starts: datetime | None,
                    ends: datetime | None, rule: Rule | None, now: datetime) -> datetime | None:
    """When the line's service ends if `refund` (minor units, of `paid`) is granted, or None
    when the refund leaves it running (nothing granted, or not a span of service)."""
    if billing not in SERVICE_BILLING or refund <= 0:
        return None
    begins = starts if starts is not None and starts > now else now
    keeps_period = (rule is not None and rule.partial_refund_ends_service == "at_period_end"
                    and refund < paid)
    if keeps_period and ends is not None and ends > begins:
        return ends
    return begins
