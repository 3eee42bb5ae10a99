"""The SLA notices of the deadline sweep (cases/sweeping.py): the assignee of a case hears
once that its clock is about to run out, and once that it has, per case and deadline —
never again each minute. A deadline moved (a clock paused and resumed, an appeal) is a new
deadline, so it is told again.

Only candidates not told yet are read (an anti-join on the notices), so a sweep every
minute costs one indexed query when nothing is new.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef

from refunddesk.cases.models import RefundCase
from refunddesk.inbox.models import Notice, NoticeKind
from refunddesk.inbox.telling import tell

log = logging.getLogger(__name__)

BATCH = 500


def warning_before() -> timedelta:
    return timedelta(minutes=settings.REFUNDDESK_SLA_WARNING_MINUTES)


def _not_told(kind: NoticeKind) -> Exists:
    return Exists(Notice.objects.filter(case=OuterRef("pk"), recipient=OuterRef("assignee"),
                                        kind=kind, due_at=OuterRef("sla_due_at")))


def clock_of(case: RefundCase) -> str:
    """Which clock `sla_due_at` is: the first response until there is one, else the
    decision (cases/sla.py next_due)."""
    if case.first_responded_at is None and case.first_response_due == case.sla_due_at:
        return "first_response"
    return "decision"


def tell_clocks(now: datetime, *, batch: int = BATCH) -> int:
    """Tell assignees of clocks due soon or overdue; the number of notices written."""
    assigned = RefundCase.objects.filter(assignee__isnull=False, sla_due_at__isnull=False)
    overdue = (assigned.filter(sla_due_at__lt=now).exclude(_not_told(NoticeKind.SLA_OVERDUE))
               .select_related("assignee").order_by("sla_due_at", "id")[:batch])
    soon = (assigned.filter(sla_due_at__gte=now, sla_due_at__lt=now + warning_before())
            .exclude(_not_told(NoticeKind.SLA_DUE_SOON))
            .select_related("assignee").order_by("sla_due_at", "id")[:batch])
    told = 0
    for cases, kind in ((overdue, NoticeKind.SLA_OVERDUE), (soon, NoticeKind.SLA_DUE_SOON)):
        for case in cases:
            try:
                with transaction.atomic():
                    told += len(tell([case.assignee], kind, case=case, now=now,
                                     due_at=case.sla_due_at, data={"clock": clock_of(case)}))
            except Exception:
                # One broken case must not stop the notices of every other.
                log.exception("SLA notice on case %s failed", case.tracking_number)
    return told
