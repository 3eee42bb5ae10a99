"""Every change of a refund case: one function each, keyword-only `actor`, one transaction,
the case row locked, one CaseEvent, notifications enqueued in the same transaction.

Views, the API, the CLI and tasks call these; they never save a case themselves.
- customer.py: what customers do (apply, answer, add documents, appeal, withdraw);
- submission.py: one application opening one case per refund policy of its lines;
- assisted.py: an agent applying on a caller's behalf after checking who they are;
- decisions.py: staff decisions (ask, approve in full or part, four eyes, reject);
- routing.py: who works a case (claim, assign, escalate);
- deadlines.py: what the system does when a clock runs out;
- compensating.py: the approved case a mass compensation run opens for a customer;
- settlement.py: what the payouts' states mean for their cases (the payout runner's).
"""

from refunddesk.cases.actions.assisted import IdentityCheck, IdentityNotConfirmed, open_for_customer
from refunddesk.cases.actions.base import actor_kind, check_uploads
from refunddesk.cases.actions.compensating import CompensatedLine, open_compensation_case
from refunddesk.cases.actions.customer import (
    add_documents,
    appeal,
    post_message,
    submit,
    supplement,
    withdraw,
)
from refunddesk.cases.actions.deadlines import (
    close_after_appeal_window,
    close_after_info_deadline,
    escalate_overdue,
)
from refunddesk.cases.actions.decisions import (
    approve,
    confirm_approval,
    decline_approval,
    reject,
    request_info,
)
from refunddesk.cases.actions.opened import Opened
from refunddesk.cases.actions.routing import assign, claim, escalate
from refunddesk.cases.actions.settlement import settle_case, settle_cases
from refunddesk.cases.actions.submission import open_cases, open_cases_written
from refunddesk.cases.errors import (
    AppealNotAllowed,
    CaseError,
    LinesAlreadyInCase,
    NoRefundPolicy,
    NotPermitted,
    NotRefundable,
)

__all__ = [
    "AppealNotAllowed",
    "CaseError",
    "CompensatedLine",
    "IdentityCheck",
    "IdentityNotConfirmed",
    "LinesAlreadyInCase",
    "NoRefundPolicy",
    "NotPermitted",
    "NotRefundable",
    "Opened",
    "actor_kind",
    "add_documents",
    "appeal",
    "approve",
    "assign",
    "check_uploads",
    "claim",
    "close_after_appeal_window",
    "close_after_info_deadline",
    "confirm_approval",
    "decline_approval",
    "escalate",
    "escalate_overdue",
    "open_cases",
    "open_cases_written",
    "open_compensation_case",
    "open_for_customer",
    "post_message",
    "reject",
    "request_info",
    "settle_case",
    "settle_cases",
    "submit",
    "supplement",
    "withdraw",
]
