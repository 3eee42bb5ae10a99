"""What a report is narrowed to, and the cases that leaves.

A range is of whole days in the viewer's time zone (a day in Shanghai is not a day in
Berlin): `start` and `end` are both included, and `bounds` turns them into the two UTC
moments the database compares with. Empty filters narrow nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from refunddesk.cases.models import CaseLine, RefundCase

PRESETS = ("today", "7d", "this_month", "last_month", "custom")
# A longer range makes a table of days nobody reads and a query nobody waits for.
MAX_DAYS = 731


@dataclass(frozen=True)
class ReportFilters:
    start: date
    end: date  # included
    tz: tzinfo
    product: str = ""  # billing.Product code
    policy: str = ""  # a policy id: every version of it
    version: str = ""  # a policy reference ("tencent-cloud@2"): that version only
    channel: str = ""
    currency: str = ""
    agent_id: int | None = None  # cases this staff member decided or holds

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]

    def bounds(self) -> tuple[datetime, datetime]:
        """The range as [from, until) in the viewer's time zone."""
        return (datetime.combine(self.start, time.min, self.tz),
                datetime.combine(self.end + timedelta(days=1), time.min, self.tz))

    def as_params(self) -> dict[str, Any]:
        """The filters as written into an export's audit row and read back by its task."""
        return {"from": self.start.isoformat(), "to": self.end.isoformat(),
                "tz": str(self.tz), "product": self.product, "policy": self.policy,
                "version": self.version, "channel": self.channel,
                "currency": self.currency, "agent": self.agent_id}


def preset_range(preset: str, today: date) -> tuple[date, date]:
    """The days a preset names, seen from `today` (in the viewer's time zone)."""
    if preset == "today":
        return today, today
    if preset == "7d":
        return today - timedelta(days=6), today
    if preset == "last_month":
        last = today.replace(day=1) - timedelta(days=1)
        return last.replace(day=1), last
    # this_month, and the default: from the first to today (the rest has not happened)
    return today.replace(day=1), today


def cases_of(filters: ReportFilters, *, dated_by: str | None = "submitted_at"
             ) -> QuerySet[RefundCase]:
    """The cases the filters leave, `dated_by` (a case's datetime field) in the range;
    every case the other filters leave when `dated_by` is None."""
    cases = RefundCase.objects.all()
    if dated_by is not None:
        since, until = filters.bounds()
        cases = cases.filter(**{f"{dated_by}__gte": since, f"{dated_by}__lt": until})
    return cases.filter(case_condition(filters))


def case_condition(filters: ReportFilters, prefix: str = "") -> Q:
    """The filters other than the range, for cases reached through `prefix` ("case__")."""
    condition = Q()
    if filters.channel:
        condition &= Q(**{f"{prefix}channel": filters.channel})
    if filters.currency:
        condition &= Q(**{f"{prefix}currency": filters.currency})
    if filters.version:
        condition &= Q(**{f"{prefix}policy_ref": filters.version})
    elif filters.policy:
        condition &= Q(**{f"{prefix}policy_ref__startswith": f"{filters.policy}@"})
    if filters.agent_id is not None:
        condition &= (Q(**{f"{prefix}decided_by": filters.agent_id})
                      | Q(**{f"{prefix}assignee": filters.agent_id}))
    if filters.product:
        condition &= Q(Exists(CaseLine.objects.filter(
            case=OuterRef(f"{prefix}pk" if prefix else "pk"),
            order_line__product__code=filters.product)))
    return condition
