"""How many requests arrive, by which channel, and how many stay open, day by day."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from refunddesk.cases.models import Channel, RefundCase
from refunddesk.cases.states import State, staff_state_label
from refunddesk.reports.filters import case_condition, cases_of
from refunddesk.reports.moves import counted_moves, counted_until
from refunddesk.reports.sections import Context, Section
from refunddesk.reports.tables import Chart, Column, Kind, Table
from refunddesk.reports.timings import state_changes

# The states a case waits in for the desk or for its money: the backlog.
BACKLOG_STATES = (State.SUBMITTED, State.IN_REVIEW, State.AWAITING_CUSTOMER, State.APPEALED,
                  State.APPROVED, State.PAYING, State.PAYOUT_FAILED)


def _state_label(state: str) -> StrOrPromise:
    # Still lazy, read in the language of whoever reads the table (cases.states types the
    # label as any object).
    return format_lazy("{}", staff_state_label(state))


def channel_label(value: str) -> str:
    return str(Channel(value).label) if value in Channel.values else value


def volume(context: Context) -> list[Section]:
    filters = context.filters
    counted = (cases_of(filters).annotate(day=TruncDate("submitted_at", tzinfo=filters.tz))
               .values_list("day", "channel").annotate(n=Count("pk")).order_by())
    per_day: dict[date, dict[str, int]] = {}
    seen: set[str] = set()
    for day, channel, n in counted:
        per_day.setdefault(day, {})[channel] = n
        seen.add(channel)
    channels = [value for value in Channel.values if value in seen] + sorted(
        seen - set(Channel.values))
    columns = [Column("day", _("Day"), Kind.DATE),
               *(Column(value, channel_label(value), Kind.COUNT) for value in channels),
               Column("total", _("Total"), Kind.COUNT)]
    rows = []
    for day in filters.days:
        counts = [per_day.get(day, {}).get(value, 0) for value in channels]
        rows.append((day, *counts, sum(counts)))
    table = Table("volume", _("Requests per day and channel"), columns, rows,
                  note=_("Counted on the day the request was submitted."))
    chart = Chart("stacked_bar", [day.isoformat() for day in filters.days],
                  [{"name": channel_label(value),
                    "data": [row[1 + n] for row in rows]} for n, value in enumerate(channels)],
                  empty=_("No requests in this range."))
    return [Section(table, chart), backlog(context)]


def backlog(context: Context) -> Section:
    """Cases in each waiting state at the end of each day: today's counts, walked back
    through the state changes since the range began."""
    filters = context.filters
    since, _until = filters.bounds()
    current = dict(RefundCase.objects.filter(case_condition(filters), state__in=BACKLOG_STATES)
                   .values_list("state").annotate(n=Count("pk")).order_by())
    # change[day][state]: cases that entered the state that day minus those that left it,
    # from one count per day and move: the worker's counts for the past days it has
    # counted (moves.py), the events themselves after those.
    counted = counted_until(filters)
    moves: list[tuple[date, str, str, int]] = []
    events_from = since
    if counted is not None and counted > filters.start:
        moves += counted_moves(filters, counted)
        events_from = max(since, datetime.combine(counted, time.min, filters.tz))
    moves += (state_changes().filter(case_condition(filters, "case__"), at__gte=events_from,
                                     at__lt=context.now)
              .annotate(day=TruncDate("at", tzinfo=filters.tz))
              .values_list("day", "from_state", "to_state").annotate(n=Count("*"))
              .order_by())
    change: dict[date, dict[str, int]] = {}
    for day, from_state, to_state, n in moves:
        deltas = change.setdefault(day, dict.fromkeys(BACKLOG_STATES, 0))
        if to_state in deltas:
            deltas[to_state] += n
        if from_state in deltas:
            deltas[from_state] -= n
    today = context.now.astimezone(filters.tz).date()
    counts: dict[str, int] = {state: current.get(state, 0) for state in BACKLOG_STATES}
    # Undo the days after the range first (up to today), then walk back through it.
    by_day: dict[date, dict[str, int]] = {}
    day = today
    while day >= filters.start:
        if day <= filters.end:
            by_day[day] = dict(counts)
        for state, delta in change.get(day, {}).items():
            if state in counts:
                counts[state] -= delta
        day -= timedelta(days=1)
    shown_days = [day for day in filters.days if day <= today]
    columns = [Column("day", _("Day"), Kind.DATE),
               *(Column(state, _state_label(state), Kind.COUNT) for state in BACKLOG_STATES),
               Column("total", _("Open"), Kind.COUNT)]
    rows = [(day, *(by_day[day][state] for state in BACKLOG_STATES),
             sum(by_day[day].values())) for day in shown_days]
    table = Table("backlog", _("Open cases by state (at the end of each day)"), columns, rows,
                  note=_("Cases still waiting for a decision or for their money, counted "
                         "at the end of each day."))
    chart = Chart("stacked_bar", [day.isoformat() for day in shown_days],
                  [{"name": str(staff_state_label(state)),
                    "data": [row[1 + n] for row in rows]}
                   for n, state in enumerate(BACKLOG_STATES)],
                  empty=_("No open cases in this range."))
    return Section(table, chart)

