"""A PayPal refund in our words: its money object and its status. The gateway's answers
(paypal.py) and PayPal's webhook events (paypal_webhooks.py) carry the same refund resource,
so both read it here."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from refunddesk.payouts.gateways.base import RefundStatus
from refunddesk.policy.money import MoneyError, parse_amount

# Logged as the gateway, which it speaks for.
log = logging.getLogger("refunddesk.payouts.gateways.paypal")

# PayPal's refund.status → our PayoutState values.
STATES = {
    "COMPLETED": "succeeded",
    "PENDING": "submitted",
    "FAILED": "failed",
    "CANCELLED": "failed",
}


def minor_of(amount: Mapping[str, Any] | None) -> tuple[int | None, str]:
    """A PayPal money object back into (minor units, currency); (None, "") if unreadable."""
    if not isinstance(amount, Mapping):
        return None, ""
    currency = str(amount.get("currency_code") or "").upper()
    try:
        return parse_amount(str(amount.get("value") or ""), currency), currency
    except MoneyError:
        return None, currency


def status_of(refund: Mapping[str, Any]) -> RefundStatus:
    paypal_status = str(refund.get("status") or "")
    state = STATES.get(paypal_status)
    if state is None:
        log.warning("PayPal refund %s has a status we do not know: %r; taken as submitted",
                    refund.get("id"), paypal_status)
        state = "submitted"
    error_code = error_message = ""
    reason = str((refund.get("status_details") or {}).get("reason") or "")
    if paypal_status == "FAILED":
        error_code = reason.lower() or "failed"
        error_message = f"PayPal could not return the money ({error_code})."
    elif paypal_status == "CANCELLED":
        error_code, error_message = "cancelled", "The refund was cancelled at PayPal."
    settled_at = None
    if state == "succeeded":
        settled_at = _time(refund.get("update_time")) or datetime.now(UTC)
    return RefundStatus(state, str(refund.get("id") or ""), error_code=error_code,
                        error_message=error_message, settled_at=settled_at)


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.utcoffset() is not None else None
