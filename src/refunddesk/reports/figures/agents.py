"""Who decides what: decisions per staff member, how long they took, approvals above the
assessment, and the approvals they confirmed as the second pair of eyes.

Counted from the decision events, not from the cases: a case rejected and then decided
again on appeal holds only its latest decision, and its first decider must keep theirs.
A four-eyes approval is the decision of the person who proposed it (the case records them
as its decider); the person who confirmed it counts a confirmation."""

from __future__ import annotations

from dataclasses import replace

from django.contrib.auth import get_user_model
from django.db.models import Case, Count, F, OuterRef, Q, Subquery, When
from django.db.models.fields.json import KT
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from refunddesk.cases.events import CaseEventType
from refunddesk.cases.models import CaseEvent
from refunddesk.cases.states import State
from refunddesk.reports.filters import case_condition
from refunddesk.reports.percentile import Percentile
from refunddesk.reports.sections import Context, Section
from refunddesk.reports.tables import Chart, Column, Kind, Table, hours

DECISIONS = (CaseEventType.APPROVED, CaseEventType.REJECTED)
CONFIRMED = Q(action=CaseEventType.APPROVED, data__has_key="proposed_by")


def agents(context: Context) -> list[Section]:
    filters = context.filters
    since, until = filters.bounds()
    # The agent filter picks whose decisions are counted, not which cases (a case now
    # assigned to someone else still holds the decision its first decider made).
    events = CaseEvent.objects.filter(
        case_condition(replace(filters, agent_id=None), "case__"), at__gte=since, at__lt=until,
        actor__isnull=False)  # automatic decisions (the SYSTEM actor) are nobody's
    proposer = Subquery(get_user_model().objects.filter(
        username=OuterRef("proposer")).values("pk")[:1])
    decided = (events.filter(action__in=DECISIONS)
               .annotate(proposer=KT("data__proposed_by"))
               .annotate(decider=Case(When(CONFIRMED, then=proposer), default=F("actor")))
               .values_list("decider").annotate(
                   decided=Count("pk"),
                   approved=Count("pk", filter=Q(action=CaseEventType.APPROVED)),
                   rejected=Count("pk", filter=Q(action=CaseEventType.REJECTED)),
                   above=Count("pk", filter=Q(action=CaseEventType.APPROVED,
                                              data__is_override=True)),
                   # From submission to the case's first decision; a decision on appeal
                   # has no time of that kind.
                   median=Percentile(Case(When(~Q(from_state=State.APPEALED),
                                               then=F("case__timing__decision_seconds"))),
                                     0.5))
               .order_by())
    confirmations = (events.filter(CONFIRMED).values_list("actor")
                     .annotate(n=Count("pk")).order_by())
    if filters.agent_id is not None:
        decided = decided.filter(decider=filters.agent_id)
        confirmations = confirmations.filter(actor=filters.agent_id)
    # decided, approved, rejected, median hours, approved above the assessment
    decisions_of: dict[int, tuple[int, int, int, float | None, int]] = {}
    for staff_id, n_decided, approved, rejected, above, median in decided:
        if staff_id is not None:  # a proposer's account since deleted
            decisions_of[staff_id] = (n_decided, approved, rejected, hours(median), above)
    confirmations_of: dict[int, int] = {}
    for staff_id, n in confirmations:
        confirmations_of[staff_id] = n
    staff_ids = list(dict.fromkeys([*decisions_of, *confirmations_of]))
    names = dict(get_user_model().objects.filter(pk__in=staff_ids)
                 .values_list("pk", "username"))
    rows = sorted(((names.get(pk, str(pk)), *decisions_of.get(pk, (0, 0, 0, None, 0)),
                    confirmations_of.get(pk, 0)) for pk in staff_ids),
                  key=lambda row: (-row[1], row[0]))
    table = Table("agents", _("Decisions per staff member"), [
        Column("staff", _("Staff member")),
        Column("decided", pgettext_lazy("cases counted", "Decided"), Kind.COUNT),
        Column("approved", _("Approved"), Kind.COUNT),
        Column("rejected", _("Rejected"), Kind.COUNT),
        Column("median_hours", _("Median time to decision (hours)"), Kind.HOURS),
        Column("above_assessment", _("Approved above the assessment"), Kind.COUNT),
        Column("confirmations", _("Four-eyes confirmations"), Kind.COUNT)], rows,
        note=_("Decisions made in the range, by the staff member who made them (a four-eyes "
               "approval by the one who proposed it; a decision on appeal counts for its "
               "reviewer, the first decision for its maker). Time to decision in business "
               "hours from submission, for first decisions."))
    chart = Chart("stacked_bar", [row[0] for row in rows],
                  [{"name": str(_("Approved")), "data": [row[2] for row in rows]},
                   {"name": str(_("Rejected")), "data": [row[3] for row in rows]}],
                  empty=_("No decisions in this range."))
    return [Section(table, chart)]
