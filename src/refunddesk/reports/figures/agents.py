"""Who decides what: cases decided per staff member, how long they took, approvals above
the assessment, and the approvals they confirmed as the second pair of eyes."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from refunddesk.cases.events import CaseEventType
from refunddesk.cases.models import CaseEvent
from refunddesk.reports.figures.outcomes import APPROVED
from refunddesk.reports.filters import case_condition, cases_of
from refunddesk.reports.percentile import Percentile
from refunddesk.reports.sections import Context, Section
from refunddesk.reports.tables import Chart, Column, Kind, Table, hours


def agents(context: Context) -> list[Section]:
    filters = context.filters
    decided = (cases_of(filters, dated_by="decided_at").filter(decided_by__isnull=False)
               .values_list("decided_by").annotate(
                   decided=Count("pk"),
                   approved=Count("pk", filter=APPROVED),
                   rejected=Count("pk", filter=~APPROVED),
                   above=Count("pk", filter=Q(approved_total_minor__gt=F("assessed_total_minor"))),
                   median=Percentile("timing__decision_seconds", 0.5))
               .order_by())
    if filters.agent_id is not None:
        decided = decided.filter(decided_by=filters.agent_id)
    since, until = filters.bounds()
    confirmations = (CaseEvent.objects.filter(
        case_condition(filters, "case__"), action=CaseEventType.APPROVED,
        data__has_key="proposed_by", at__gte=since, at__lt=until, actor__isnull=False)
        .values_list("actor").annotate(n=Count("pk")).order_by())
    if filters.agent_id is not None:
        confirmations = confirmations.filter(actor=filters.agent_id)
    per_staff: dict[int, list] = {}  # type: ignore[type-arg]
    for staff_id, n_decided, approved, rejected, above, median in decided:
        per_staff[staff_id] = [n_decided, approved, rejected, hours(median), above, 0]
    for staff_id, n in confirmations:
        per_staff.setdefault(staff_id, [0, 0, 0, None, 0, 0])[5] = n
    names = dict(get_user_model().objects.filter(pk__in=per_staff)
                 .values_list("pk", "username"))
    rows = sorted(((names.get(pk, str(pk)), *figures) for pk, figures in per_staff.items()),
                  key=lambda row: (-row[1], row[0]))
    table = Table("agents", _("Decisions per staff member"), [
        Column("staff", _("Staff member")),
        Column("decided", pgettext_lazy("cases counted", "Decided"), Kind.COUNT),
        Column("approved", _("Approved"), Kind.COUNT),
        Column("rejected", _("Rejected"), Kind.COUNT),
        Column("median_hours", _("Median time to decision (hours)"), Kind.HOURS),
        Column("above_assessment", _("Approved above the assessment"), Kind.COUNT),
        Column("confirmations", _("Four-eyes confirmations"), Kind.COUNT)], rows,
        note=_("Decisions made in the range, by the staff member who made them; time to "
               "decision in business hours from submission."))
    chart = Chart("stacked_bar", [row[0] for row in rows],
                  [{"name": str(_("Approved")), "data": [row[2] for row in rows]},
                   {"name": str(_("Rejected")), "data": [row[3] for row in rows]}],
                  empty=_("No decisions in this range."))
    return [Section(table, chart)]
