"""Acting on many cases of the queue at once: claim, assign, reject.

Each case goes through its own action of cases/actions (its own transaction, its own audit
event, its own permission and state checks), one after the other. A case the action
refuses — the role does not allow it, the case moved on, a colleague was changing it at
that moment — is reported with the action's reason and left as it was; the others go on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import OperationalError
from django.utils.translation import gettext as _

from refunddesk.cases import actions
from refunddesk.cases.errors import CaseError
from refunddesk.cases.models import RefundCase, RejectionReason
from refunddesk.cases.states import InvalidTransition

logger = logging.getLogger(__name__)

# More than a page of the queue, few enough that one request finishes quickly.
MAX_CASES = 100

CLAIM, ASSIGN, REJECT = "claim", "assign", "reject"


@dataclass(frozen=True)
class Outcome:
    tracking_number: str
    is_done: bool
    message: str = ""


@dataclass
class BulkResult:
    action: str
    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def done(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if outcome.is_done]

    @property
    def refused(self) -> list[Outcome]:
        return [outcome for outcome in self.outcomes if not outcome.is_done]


Act = Callable[[RefundCase], Any]


def _each(action: str, tracking_numbers: Sequence[str], act: Act) -> BulkResult:
    result = BulkResult(action)
    found = (RefundCase.objects.select_related("account")  # for the messages' names
             .in_bulk(list(tracking_numbers), field_name="tracking_number"))
    for number in dict.fromkeys(tracking_numbers):
        case = found.get(number)
        if case is None:
            result.outcomes.append(Outcome(number, False, _("There is no such case.")))
            continue
        try:
            act(case)
        except (CaseError, InvalidTransition) as refusal:
            result.outcomes.append(Outcome(number, False, str(refusal.message)))
        except OperationalError:
            # A lock wait that timed out: a colleague was changing this case. Its own
            # transaction is rolled back; the next case is unaffected.
            logger.warning("bulk %s of %s refused by the database", action, number,
                           exc_info=True)
            result.outcomes.append(Outcome(number, False, _(
                "Someone else was changing this case at the same moment; nothing was "
                "changed. Retry it.")))
        else:
            result.outcomes.append(Outcome(number, True))
    return result


def claim(tracking_numbers: Sequence[str], *, actor: Any) -> BulkResult:
    return _each(CLAIM, tracking_numbers, lambda case: actions.claim(case, actor=actor))


def assign(tracking_numbers: Sequence[str], *, actor: Any, assignee: Any) -> BulkResult:
    return _each(ASSIGN, tracking_numbers,
                 lambda case: actions.assign(case, actor=actor, assignee=assignee))


def reject(tracking_numbers: Sequence[str], *, actor: Any, reason: RejectionReason,
           message: Callable[[RefundCase], str]) -> BulkResult:
    """`message(case)` is what that case's customer reads (a canned reply filled in for the
    case, in its language, or the same typed text with its placeholders filled in)."""
    return _each(REJECT, tracking_numbers,
                 lambda case: actions.reject(case, actor=actor, reason=reason,
                                             message=message(case)))
