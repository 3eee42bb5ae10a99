"""The backlog's state changes, counted per past day by the worker.

The backlog report walks back from today's open counts through each day's state changes;
over a year at a million cases that is millions of events read on every request. A day's
changes are final once the day is over (and OVERLAP has passed, for transactions that
commit late), so the worker counts each past day once, in the desk's time zone, per
channel, currency, policy version and move, into DailyMoves. The report reads those counts
for the days before the mark and the events only after it. A viewer in another time zone,
or a filter the counts do not hold (a product, a staff member), reads the events."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate

from refunddesk.cases.models import CaseEvent
from refunddesk.reports.filters import ReportFilters, case_condition
from refunddesk.reports.models import DailyMoves, MovesMark
from refunddesk.reports.timings import OVERLAP, state_changes

# Days counted per call while the past is filled in, so one pass of the worker stays short.
DAYS_PER_CALL = 62


def desk_time_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _start_of(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tz)


def roll_moves(now: datetime) -> int:
    """Count the days that ended since the last call (up to DAYS_PER_CALL of them);
    returns how many days were counted."""
    tz = desk_time_zone()
    last_over = (now - OVERLAP).astimezone(tz).date() - timedelta(days=1)
    with transaction.atomic():
        # Locked, so two workers never count the same days twice.
        mark, _ = MovesMark.objects.select_for_update().get_or_create(time_zone=str(tz))
        first = mark.until
        if first is None:
            earliest = CaseEvent.objects.order_by("at").values_list("at", flat=True).first()
            if earliest is None:
                return 0
            first = earliest.astimezone(tz).date()
        if first > last_over:
            return 0
        last = min(last_over, first + timedelta(days=DAYS_PER_CALL - 1))
        counted = (state_changes()
                   .filter(at__gte=_start_of(first, tz),
                           at__lt=_start_of(last + timedelta(days=1), tz))
                   .annotate(day=TruncDate("at", tzinfo=tz))
                   .values_list("day", "case__channel", "case__currency", "case__policy_ref",
                                "from_state", "to_state")
                   .annotate(n=Count("*")).order_by())
        DailyMoves.objects.bulk_create(
            (DailyMoves(time_zone=str(tz), day=day, channel=channel, currency=currency,
                        policy_ref=policy_ref, from_state=from_state, to_state=to_state,
                        count=n)
             for day, channel, currency, policy_ref, from_state, to_state, n in counted),
            batch_size=1000)
        mark.until = last + timedelta(days=1)
        mark.save(update_fields=["until"])
    return (last - first).days + 1


def counted_until(filters: ReportFilters) -> date | None:
    """The day before which DailyMoves holds these filters' state changes; None when the
    events must be read (another time zone, or a filter the counts do not hold)."""
    if filters.product or filters.agent_id is not None:
        return None
    if str(filters.tz) != settings.TIME_ZONE:
        return None
    return (MovesMark.objects.filter(time_zone=settings.TIME_ZONE)
            .values_list("until", flat=True).first())


def counted_moves(filters: ReportFilters, until: date
                  ) -> list[tuple[date, str, str, int]]:
    """(day, from, to, cases) for the range's days before `until`, from DailyMoves."""
    # DailyMoves names its columns as the case does: the cases' own filter narrows it
    # (counted_until has made sure no product or staff member is asked for).
    return list(DailyMoves.objects
                .filter(case_condition(filters), time_zone=settings.TIME_ZONE,
                        day__gte=filters.start, day__lt=until)
                .values_list("day", "from_state", "to_state").annotate(n=Sum("count"))
                .order_by())
