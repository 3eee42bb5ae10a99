"""How fast: first response, decision and money back in business hours against the SLA,
and what is overdue now."""

from __future__ import annotations

from django.db.models import Count, F, Q
from django.utils.translation import gettext_lazy as _

from refunddesk.cases.models import RefundCase
from refunddesk.cases.sla import CLOCK_STATES
from refunddesk.cases.states import staff_state_label
from refunddesk.reports.filters import case_condition, cases_of
from refunddesk.reports.models import CaseTiming
from refunddesk.reports.percentile import Percentile
from refunddesk.reports.sections import Context, Section
from refunddesk.reports.tables import Chart, Column, Kind, Table, hours, share

MEASURES = (
    ("first_response_seconds", _("First response")),
    ("decision_seconds", _("Decision")),
    ("money_back_seconds", _("Money back")),
)


def service(context: Context) -> list[Section]:
    filters = context.filters
    since, until = filters.bounds()
    timings = CaseTiming.objects.filter(case_condition(filters, "case__"),
                                        submitted_at__gte=since, submitted_at__lt=until)
    figures = timings.aggregate(**{
        f"{field}_{name}": aggregate for field, _label in MEASURES
        for name, aggregate in (("n", Count(field)), ("median", Percentile(field, 0.5)),
                                ("p90", Percentile(field, 0.9)))})
    cases = cases_of(filters)
    now = context.now
    # A clock is judged once it has stopped, or once it has run out without stopping.
    on_time = cases.aggregate(
        response_due=Count("pk", filter=Q(first_response_due__isnull=False)
                           & (Q(first_responded_at__isnull=False)
                              | Q(first_response_due__lt=now))),
        response_kept=Count("pk", filter=Q(first_responded_at__lte=F("first_response_due"))),
        decision_due=Count("pk", filter=Q(review_due__isnull=False)
                           & (Q(decided_at__isnull=False) | Q(review_due__lt=now))),
        decision_kept=Count("pk", filter=Q(decided_at__lte=F("review_due"))))
    within = {"first_response_seconds": share(on_time["response_kept"], on_time["response_due"]),
              "decision_seconds": share(on_time["decision_kept"], on_time["decision_due"]),
              "money_back_seconds": None}
    rows = [(label, figures[f"{field}_n"], hours(figures[f"{field}_median"]),
             hours(figures[f"{field}_p90"]), within[field]) for field, label in MEASURES]
    table = Table("service_times", _("Service times in business hours"), [
        Column("measure", _("Measure")), Column("cases", _("Cases"), Kind.COUNT),
        Column("median", _("Median (hours)"), Kind.HOURS),
        Column("p90", _("90th percentile (hours)"), Kind.HOURS),
        Column("within_target", _("Within target"), Kind.PERCENT)], rows,
        note=_("Requests submitted in the range, from submission; hours on business days of "
               "the policy's calendar, without the time spent waiting for the customer. "
               "Money back has no target of its own."))
    chart = Chart("bar", [str(label) for _field, label in MEASURES],
                  [{"name": str(_("Median (hours)")), "data": [_rounded(row[2]) for row in rows]},
                   {"name": str(_("90th percentile (hours)")),
                    "data": [_rounded(row[3]) for row in rows]}],
                  unit="hours", empty=_("No answered requests in this range."))
    return [Section(table, chart), overdue(context)]


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def overdue(context: Context) -> Section:
    """Open cases past their SLA at this moment, whatever the range (with the other
    filters)."""
    counted = dict(RefundCase.objects.filter(case_condition(context.filters),
                                             state__in=CLOCK_STATES,
                                             sla_due_at__lt=context.now)
                   .values_list("state").annotate(n=Count("pk")).order_by())
    rows = [(staff_state_label(state), counted.get(state, 0)) for state in sorted(CLOCK_STATES)]
    rows.append((_("Total"), sum(counted.values())))
    table = Table("overdue", _("Overdue now"), [
        Column("state", _("State")), Column("cases", _("Cases"), Kind.COUNT)], rows,
        note=_("Open cases whose first response or decision is late at this moment, "
               "whatever the range."))
    return Section(table)
