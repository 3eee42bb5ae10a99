"""The case state machine as data: (state, action) → next state (DESIGN.md, "Refund case
states"). One function applies it; everything that changes a case's state goes through it."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_stubs_ext import StrPromise


class State(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    IN_REVIEW = "in_review", _("In review")
    AWAITING_CUSTOMER = "awaiting_customer", _("Waiting for you")
    APPROVED = "approved", _("Approved")
    PAYING = "paying", _("Paying out")
    PAYOUT_FAILED = "payout_failed", _("Payout failed")
    REFUNDED = "refunded", _("Refunded")
    REJECTED = "rejected", _("Rejected")
    APPEALED = "appealed", _("Appealed")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    CLOSED = "closed", _("Closed")


# The state names customers read, except where staff need the other side of it; by the
# state's value, as a case's `state` column reads.
STAFF_STATE_LABELS: dict[str, StrPromise] = {State.AWAITING_CUSTOMER: _("Waiting for the customer")}


def staff_state_label(state: str) -> object:
    """A state's name as the console and the reports show it to staff."""
    return STAFF_STATE_LABELS.get(state) or State(state).label


S = State
TRANSITIONS: dict[tuple[str, str], str] = {
    (S.SUBMITTED, "auto_approve"): S.APPROVED,
    (S.SUBMITTED, "route_to_review"): S.IN_REVIEW,
    (S.SUBMITTED, "withdraw"): S.WITHDRAWN,
    (S.IN_REVIEW, "request_info"): S.AWAITING_CUSTOMER,
    (S.IN_REVIEW, "approve"): S.APPROVED,
    (S.IN_REVIEW, "reject"): S.REJECTED,
    (S.IN_REVIEW, "escalate"): S.IN_REVIEW,
    (S.IN_REVIEW, "withdraw"): S.WITHDRAWN,
    (S.AWAITING_CUSTOMER, "supplement"): S.IN_REVIEW,
    (S.AWAITING_CUSTOMER, "info_deadline_passed"): S.CLOSED,
    (S.AWAITING_CUSTOMER, "withdraw"): S.WITHDRAWN,
    (S.APPROVED, "payouts_submitted"): S.PAYING,
    (S.PAYING, "all_settled"): S.REFUNDED,
    (S.PAYING, "payout_failed"): S.PAYOUT_FAILED,
    (S.PAYOUT_FAILED, "retry"): S.PAYING,
    (S.PAYOUT_FAILED, "redirect_to_balance"): S.PAYING,
    (S.PAYOUT_FAILED, "record_paid_outside"): S.PAYING,
    (S.REJECTED, "appeal"): S.APPEALED,
    (S.REJECTED, "appeal_window_passed"): S.CLOSED,
    (S.APPEALED, "approve"): S.APPROVED,
    (S.APPEALED, "reject"): S.CLOSED,
}

TERMINAL_STATES = frozenset({S.REFUNDED, S.WITHDRAWN, S.CLOSED})

# Only a withdrawn or closed case lets go of its order lines. Every other case holds them,
# so no second case can be opened for a line under review, decided, being paid, or
# already refunded (a rejected case is appealed on the same case, not a new one).
RELEASING_STATES = frozenset({S.WITHDRAWN, S.CLOSED})


def holds_lines(state: str) -> bool:
    return state not in RELEASING_STATES


# How an action reads in a refusal ("… cannot be approved"); others read "… cannot change
# that way".
ACTION_PHRASES = {
    "approve": pgettext_lazy("can no longer be", "approved"),
    "reject": pgettext_lazy("can no longer be", "rejected"),
    "withdraw": pgettext_lazy("can no longer be", "withdrawn"),
    "request_info": pgettext_lazy("can no longer be", "sent a request for information"),
    "escalate": pgettext_lazy("can no longer be", "escalated"),
    "supplement": pgettext_lazy("can no longer be", "supplemented"),
    "appeal": pgettext_lazy("can no longer be", "appealed"),
}


class InvalidTransition(Exception):
    """The case is not in a state that allows the action, usually because someone changed
    it a moment ago; `message` tells the person so."""

    code = "invalid_transition"

    def __init__(self, state: str, action: str):
        self.state, self.action = state, action
        super().__init__(f"a case that is {state} cannot {action.replace('_', ' ')}")

    @property
    def message(self) -> str:
        phrase = ACTION_PHRASES.get(self.action)
        label = State(self.state).label if self.state in State.values else self.state
        if phrase is None:
            return str(_("This case is now “%(state)s” and cannot change that way. Reload the "
                          "page to see what changed.") % {"state": label})
        return str(_("This case is now “%(state)s” and can no longer be %(action)s. Reload "
                      "the page to see what changed.") % {"state": label, "action": phrase})


def next_state(state: str, action: str) -> str:
    try:
        return TRANSITIONS[(state, action)]
    except KeyError:
        raise InvalidTransition(state, action) from None


def allowed_actions(state: str) -> list[str]:
    return [action for (from_state, action) in TRANSITIONS if from_state == state]
