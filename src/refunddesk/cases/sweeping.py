"""The periodic pass over the clocks: escalate overdue reviews, close cases whose customer
missed the information deadline, and make unappealed rejections final.

It only finds candidates; each case is then changed by its action in cases/actions/
deadlines.py, which locks the row and checks again. So the sweep is safe to run in every
worker at once, and after a crash, again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from refunddesk.cases.actions import (
    close_after_appeal_window,
    close_after_info_deadline,
    escalate_overdue,
)
from refunddesk.cases.models import RefundCase
from refunddesk.cases.states import State

BATCH = 500


@dataclass
class SweepResult:
    escalated: int = 0
    closed_after_info_deadline: int = 0
    closed_after_appeal_window: int = 0

    def __str__(self) -> str:
        return (f"escalated {self.escalated}, closed for missed information "
                f"{self.closed_after_info_deadline}, rejections made final "
                f"{self.closed_after_appeal_window}")


def sweep_deadlines(now: datetime, *, batch: int = BATCH) -> SweepResult:
    result = SweepResult()
    overdue = (RefundCase.objects.filter(state=State.IN_REVIEW, escalated_at__isnull=True,
                                         sla_due_at__lt=now)
               .order_by("sla_due_at", "id")[:batch])
    for case in overdue:
        result.escalated += escalate_overdue(case, now=now)
    missed = (RefundCase.objects.filter(state=State.AWAITING_CUSTOMER, info_due__lt=now)
              .order_by("info_due", "id")[:batch])
    for case in missed:
        result.closed_after_info_deadline += close_after_info_deadline(case, now=now)
    # The appeal window is the policy's, so the action decides; oldest decisions first.
    rejected = (RefundCase.objects.filter(state=State.REJECTED, decided_at__lt=now)
                .order_by("decided_at", "id")[:batch])
    for case in rejected:
        result.closed_after_appeal_window += close_after_appeal_window(case, now=now)
    return result
