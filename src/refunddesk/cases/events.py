"""Every kind of event a case's audit trail records: one closed list, with the words staff
read and the words the customer reads beside each value, so a label cannot drift from its
value and a misspelt event type fails the change that writes it.

`EVENT_FOR_TRANSITION` ties each move of the state table (states.py) to the event it
writes."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseEventType(models.TextChoices):
    SUBMITTED = "submitted", _("Request received")
    COMPENSATION_OPENED = "compensation_opened", _("Opened by a mass compensation")
    ROUTED_TO_REVIEW = "routed_to_review", _("Sent to review")
    APPROVED = "approved", _("Approved")
    APPROVAL_PROPOSED = "approval_proposed", _("Approval proposed (waits for a second person)")
    APPROVAL_DECLINED = "approval_declined", _("Proposed approval declined")
    INFORMATION_REQUESTED = "information_requested", _("Information requested")
    SUPPLEMENTED = "supplemented", _("Customer answered")
    DOCUMENTS_ADDED = "documents_added", _("Documents added")
    MESSAGE_POSTED = "message_posted", _("Message")
    NOTE_ADDED = "note_added", _("Internal note")
    REJECTED = "rejected", _("Rejected")
    APPEALED = "appealed", _("Appealed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    ASSIGNED = "assigned", _("Assigned")
    ESCALATED = "escalated", _("Escalated to a reviewer")
    CLOSED_INFO_DEADLINE = ("closed_info_deadline",
                            _("Closed: information not received by the deadline"))
    CLOSED_APPEAL_WINDOW = "closed_appeal_window", _("Closed: not appealed in time")
    PAYOUTS_SUBMITTED = "payouts_submitted", _("Payouts sent to the payment providers")
    PAYOUT_FAILED = "payout_failed", _("A payout failed")
    ALL_SETTLED = "all_settled", _("All payouts arrived")
    RETRY = "retry", _("Failed payout sent again")
    REDIRECT_TO_BALANCE = "redirect_to_balance", _("Failed payout redirected to the account "
                                                   "balance")
    RECORD_PAID_OUTSIDE = "record_paid_outside", _("Failed payout recorded as paid outside "
                                                   "RefundDesk")
    PAYOUT_FELL_BACK = "payout_fell_back", _("Payment provider refused the original route: "
                                             "sent to the policy's fallback")


E = CaseEventType

# What the customer reads (portal, /track); None: an event only staff see.
CUSTOMER_LABELS: dict[CaseEventType, Any] = {
    E.SUBMITTED: _("Request received"),
    E.COMPENSATION_OPENED: _("Compensation for a service disruption"),
    E.ROUTED_TO_REVIEW: _("Sent to an agent for review"),
    E.APPROVED: _("Approved"),
    E.APPROVAL_PROPOSED: None,
    E.APPROVAL_DECLINED: None,
    E.INFORMATION_REQUESTED: _("More information requested"),
    E.SUPPLEMENTED: _("Information sent"),
    E.DOCUMENTS_ADDED: _("Documents added"),
    E.MESSAGE_POSTED: _("Message"),
    E.NOTE_ADDED: None,
    E.REJECTED: _("Not approved"),
    E.APPEALED: _("Appeal received"),
    E.WITHDRAWN: _("Withdrawn"),
    E.ASSIGNED: None,
    E.ESCALATED: None,
    E.CLOSED_INFO_DEADLINE: _("Closed: the information did not arrive in time"),
    E.CLOSED_APPEAL_WINDOW: _("Decision final: the time to appeal has passed"),
    E.PAYOUTS_SUBMITTED: _("Refund on its way"),
    E.PAYOUT_FAILED: _("A payment could not be made — we are handling it"),
    E.ALL_SETTLED: _("Refund paid"),
    E.RETRY: _("Payment sent again"),
    E.REDIRECT_TO_BALANCE: _("Refund sent to your account balance instead"),
    E.RECORD_PAID_OUTSIDE: _("Refund paid by other means"),
    E.PAYOUT_FELL_BACK: _("Refund sent to your account balance instead"),
}

# The event each move of the state table writes.
EVENT_FOR_TRANSITION: dict[str, CaseEventType] = {
    "auto_approve": E.APPROVED,
    "route_to_review": E.ROUTED_TO_REVIEW,
    "withdraw": E.WITHDRAWN,
    "request_info": E.INFORMATION_REQUESTED,
    "approve": E.APPROVED,
    "reject": E.REJECTED,
    "escalate": E.ESCALATED,
    "supplement": E.SUPPLEMENTED,
    "info_deadline_passed": E.CLOSED_INFO_DEADLINE,
    "payouts_submitted": E.PAYOUTS_SUBMITTED,
    "all_settled": E.ALL_SETTLED,
    "payout_failed": E.PAYOUT_FAILED,
    "retry": E.RETRY,
    "redirect_to_balance": E.REDIRECT_TO_BALANCE,
    "record_paid_outside": E.RECORD_PAID_OUTSIDE,
    "appeal": E.APPEALED,
    "appeal_window_passed": E.CLOSED_APPEAL_WINDOW,
}


def staff_label(value: str) -> str:
    """The staff's words for an event type; the raw value only for a type no longer known
    (an old row), never for one of the list."""
    try:
        return str(CaseEventType(value).label)
    except ValueError:
        return value.replace("_", " ")


def customer_label(value: str) -> str:
    try:
        label = CUSTOMER_LABELS[CaseEventType(value)]
    except ValueError:
        label = None
    return str(label) if label is not None else ""
