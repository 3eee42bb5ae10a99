"""The transition table of DESIGN.md, as data."""

import pytest

from refunddesk.cases.states import (
    TRANSITIONS,
    InvalidTransition,
    State,
    allowed_actions,
    holds_lines,
    next_state,
)

DESIGN_TABLE = {
    "submitted": {"auto_approve": "approved", "route_to_review": "in_review",
                  "withdraw": "withdrawn"},
    "in_review": {"request_info": "awaiting_customer", "approve": "approved",
                  "reject": "rejected", "escalate": "in_review", "withdraw": "withdrawn"},
    "awaiting_customer": {"supplement": "in_review", "info_deadline_passed": "closed",
                          "withdraw": "withdrawn"},
    "approved": {"payouts_submitted": "paying"},
    "paying": {"all_settled": "refunded", "payout_failed": "payout_failed"},
    # DESIGN.md's table plus finance's third way out (issue 6): paid outside RefundDesk.
    "payout_failed": {"retry": "paying", "redirect_to_balance": "paying",
                      "record_paid_outside": "paying"},
    "refunded": {},
    "rejected": {"appeal": "appealed", "appeal_window_passed": "closed"},
    "appealed": {"approve": "approved", "reject": "closed"},
    "withdrawn": {},
    "closed": {},
}


def test_the_table_is_exactly_the_design():
    table = {state.value: {} for state in State}
    for (state, action), target in TRANSITIONS.items():
        table[state][action] = target

    assert table == DESIGN_TABLE


@pytest.mark.parametrize("state", [s.value for s in State])
def test_every_action_not_in_the_table_is_refused(state):
    every_action = {action for (_, action) in TRANSITIONS}

    for action in every_action - set(allowed_actions(state)):
        with pytest.raises(InvalidTransition):
            next_state(state, action)


def test_only_withdrawn_and_closed_cases_let_go_of_their_lines():
    assert {s.value for s in State if not holds_lines(s)} == {"withdrawn", "closed"}


def test_the_refusal_says_what_was_attempted_from_where():
    with pytest.raises(InvalidTransition, match="a case that is refunded cannot withdraw"):
        next_state("refunded", "withdraw")
