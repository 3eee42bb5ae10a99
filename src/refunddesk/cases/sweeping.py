"""The periodic pass over the clocks: tell assignees of clocks due soon or overdue (once
per case and deadline, inbox/clocks.py), escalate overdue reviews, close cases whose
customer missed the information deadline, and make unappealed rejections final.

It only finds candidates; each case is then changed by its action in cases/actions/
deadlines.py, which locks the row and checks again. So the sweep is safe to run in every
worker at once, and after a crash, again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from refunddesk.cases.actions import (
    close_after_appeal_window,
    close_after_info_deadline,
    escalate_overdue,
)
from refunddesk.cases.actors import DEADLINES
from refunddesk.cases.models import RefundCase
from refunddesk.cases.states import State
from refunddesk.inbox.clocks import tell_clocks

BATCH = 500

log = logging.getLogger(__name__)


@dataclass
class SweepResult:
    staff_told: int = 0
    escalated: int = 0
    closed_after_info_deadline: int = 0
    closed_after_appeal_window: int = 0

    def __str__(self) -> str:
        return (f"staff told of clocks {self.staff_told}, escalated {self.escalated}, "
                f"closed for missed information {self.closed_after_info_deadline}, "
                f"rejections made final "
                f"{self.closed_after_appeal_window}")


def sweep_deadlines(now: datetime, *, batch: int = BATCH) -> SweepResult:
    # First, while an overdue review still has its assignee (escalating it clears them).
    result = SweepResult(staff_told=tell_clocks(now, batch=batch))
    overdue = (RefundCase.objects.filter(state=State.IN_REVIEW, escalated_at__isnull=True,
                                         sla_due_at__lt=now)
               .order_by("sla_due_at", "id")[:batch])
    missed = (RefundCase.objects.filter(state=State.AWAITING_CUSTOMER, info_due__lt=now)
              .order_by("info_due", "id")[:batch])
    final = (RefundCase.objects.filter(state=State.REJECTED, appeal_closes_at__lt=now)
             .order_by("appeal_closes_at", "id")[:batch])
    for cases, action, counter in ((overdue, escalate_overdue, "escalated"),
                                   (missed, close_after_info_deadline,
                                    "closed_after_info_deadline"),
                                   (final, close_after_appeal_window,
                                    "closed_after_appeal_window")):
        for case in cases:
            try:
                changed = action(case, actor=DEADLINES, now=now)
            except Exception:
                # One broken case (say, a policy version that no longer loads) must not
                # stop the sweep for every other case, every minute.
                log.exception("deadline sweep: %s failed on case %s", action.__name__,
                              case.tracking_number)
                continue
            setattr(result, counter, getattr(result, counter) + changed)
    return result
