"""What an approval does to the services it refunds (policy/service_end.py says when each
ends): the line records it, the subscription stops renewing, and a `subscription.ended`
webhook tells the merchant's billing system to stop the server or account.

Called by the approving actions inside their transaction, so an approval that rolls back
ends nothing and one that commits never forgets to."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from refunddesk.billing import actions as billing_actions
from refunddesk.billing.models import Subscription
from refunddesk.cases import sla
from refunddesk.cases.models import CaseLine, RefundCase
from refunddesk.notifications.models import WebhookEvent
from refunddesk.notifications.webhook_events import Data
from refunddesk.policy.service_end import service_ends_at


def mark_service_ends(case: RefundCase, lines: Iterable[CaseLine], *, now: datetime) -> None:
    """Set each line's `service_ends_at` from its approved amount (not saved here: the
    caller writes the lines, once)."""
    rules = {rule.id: rule for rule in sla.policy_of(case).rules}
    for line in lines:
        order_line = line.order_line
        line.service_ends_at = service_ends_at(
            billing=order_line.billing, refund=line.approved_minor or 0,
            paid=order_line.amount_paid_minor, starts=order_line.service_start,
            ends=order_line.service_end, rule=rules.get(line.rule), now=now)


def end_services(case: RefundCase, lines: Iterable[CaseLine], *, actor: Any, now: datetime,
                 case_data: Callable[[], dict[str, Any]]) -> list[tuple[str, Data]]:
    """Stop the renewal of each ended line's subscription; the webhooks to emit with the
    approval's (`case_data` gives the case as the API shows it)."""
    hooks: list[tuple[str, Data]] = []
    for line in lines:
        if line.service_ends_at is None:
            continue
        subscription = None
        if line.order_line.subscription_id is not None:
            subscription = billing_actions.end_subscription(
                Subscription(pk=line.order_line.subscription_id), actor=actor,
                ends_at=line.service_ends_at, now=now)
        hooks.append((WebhookEvent.SUBSCRIPTION_ENDED,
                      _ended(case, line, subscription, line.service_ends_at, case_data)))
    return hooks


def _ended(case: RefundCase, line: CaseLine, subscription: Subscription | None,
           ends_at: datetime, case_data: Callable[[], dict[str, Any]]
           ) -> Callable[[], dict[str, Any]]:
    order_line = line.order_line

    def data() -> dict[str, Any]:
        return {"case": case_data(), "order": case.order.external_id,
                "line": {"id": order_line.line_id, "sku": order_line.sku,
                         "product": order_line.product.code},
                "subscription": subscription.external_id if subscription else None,
                "ends_at": ends_at.astimezone(UTC), "auto_renew": False}

    return data
