"""How requests end, how much of what the policy assessed is approved, and why customers
ask and staff refuse."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Case, CharField, Count, F, Q, QuerySet, Sum, Value, When
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django_stubs_ext import StrOrPromise

from refunddesk.cases.models import RefundCase
from refunddesk.cases.states import State
from refunddesk.reports.filters import cases_of
from refunddesk.reports.sections import Context, Section
from refunddesk.reports.tables import Chart, Column, Kind, Table, money_cell, share

OUTCOMES = {
    "full": _("Approved in full"),
    "partial": _("Approved in part"),
    "rejected": _("Rejected"),
    "withdrawn": _("Withdrawn"),
    "closed": _("Closed without a decision"),
    "open": _("Not decided yet"),
}

# A decided case with money approved (a rejection records an approved total of zero).
APPROVED = Q(approved_total_minor__gt=0)
REJECTED = Q(decided_at__isnull=False) & ~APPROVED

# How a case ended. "Full" is what the policy itself calls a full refund, approved at
# least at the assessed amount; any other approval is in part. A rejection stays one after
# the case is closed (appeal window passed, appeal refused).
OUTCOME = Case(
    When(state=State.WITHDRAWN, then=Value("withdrawn")),
    When(APPROVED & Q(assessment__outcome="full",
                      approved_total_minor__gte=F("assessed_total_minor")), then=Value("full")),
    When(APPROVED, then=Value("partial")),
    When(decided_at__isnull=False, then=Value("rejected")),
    When(state=State.CLOSED, then=Value("closed")),
    default=Value("open"), output_field=CharField())

SUBMITTED_NOTE = _("Requests submitted in the range, as they stand now.")


def outcomes(context: Context) -> list[Section]:
    cases = cases_of(context.filters)
    counted = dict(cases.annotate(outcome=OUTCOME).values_list("outcome")
                   .annotate(n=Count("pk")).order_by())
    total = sum(counted.values())
    rows = [(OUTCOMES[key], counted.get(key, 0), share(counted.get(key, 0), total))
            for key in OUTCOMES]
    table = Table("outcomes", _("Outcomes"), [
        Column("outcome", _("Outcome"), Kind.TEXT), Column("cases", _("Cases"), Kind.COUNT),
        Column("share", _("Share"), Kind.PERCENT)], rows, note=SUBMITTED_NOTE)
    chart = Chart("pie", [str(label) for label in OUTCOMES.values()],
                  [{"name": str(_("Cases")), "data": [row[1] for row in rows]}],
                  empty=_("No requests in this range."))
    return [Section(table, chart), amounts(cases)]


def amounts(cases: QuerySet[RefundCase]) -> Section:
    per_currency = (cases.values_list("currency").annotate(
        approved=Count("pk", filter=APPROVED), rejected=Count("pk", filter=REJECTED),
        assessed=Sum("assessed_total_minor", filter=APPROVED),
        approved_sum=Sum("approved_total_minor", filter=APPROVED)).order_by("currency"))
    rows = []
    for currency, approved, rejected, assessed, approved_sum in per_currency:
        rows.append((currency, approved, rejected, share(approved, approved + rejected),
                     money_cell(assessed or 0, currency), money_cell(approved_sum or 0, currency),
                     share(approved_sum or 0, assessed) if assessed else None))
    table = Table("approvals", _("Approval rate and amounts, per currency"), [
        Column("currency", _("Currency")), Column("approved", _("Approved"), Kind.COUNT),
        Column("rejected", _("Rejected"), Kind.COUNT),
        Column("approval_rate", _("Approval rate"), Kind.PERCENT),
        Column("assessed", _("Assessed (approved cases)"), Kind.AMOUNT),
        Column("approved_amount", _("Approved amount"), Kind.AMOUNT),
        Column("approved_share", _("Approved of assessed"), Kind.PERCENT)], rows,
        note=_("Decided requests submitted in the range. The assessed amount is what the "
               "policy gave the customer's request; amounts are never added across "
               "currencies."))
    chart = Chart("bar", [row[0] for row in rows],
                  [{"name": str(_("Approval rate")),
                    "data": [None if row[3] is None else round(row[3] * 100, 1)
                             for row in rows]}],
                  unit="percent", empty=_("No decided requests in this range."))
    return Section(table, chart)


def reasons(context: Context) -> list[Section]:
    cases = cases_of(context.filters)
    zh = context.is_chinese
    asked = (cases.values_list("reason_category__name_zh" if zh else "reason_category__name_en")
             .annotate(n=Count("pk")).order_by("-n"))
    asked_rows = _reason_rows(asked)
    asked_table = Table("reasons", _("Why customers ask"), [
        Column("reason", _("Reason")), Column("cases", _("Cases"), Kind.COUNT),
        Column("share", _("Share"), Kind.PERCENT)], asked_rows, note=SUBMITTED_NOTE)
    refused = (cases.filter(rejection_reason__isnull=False)
               .values_list("rejection_reason__name_zh" if zh else "rejection_reason__name_en")
               .annotate(n=Count("pk")).order_by("-n"))
    refused_rows = _reason_rows(refused)
    refused_table = Table("rejection_reasons", _("Why requests are rejected"), [
        Column("reason", _("Reason")), Column("cases", _("Cases"), Kind.COUNT),
        Column("share", _("Share"), Kind.PERCENT)], refused_rows,
        note=_("Rejected requests submitted in the range, by the reason staff chose."))
    return [Section(asked_table, _hbar(asked_rows, _("No requests in this range."))),
            Section(refused_table, _hbar(refused_rows, _("No rejections in this range.")))]


# reason, cases, share of all
ReasonRow = tuple[str, int, float | None]


def _reason_rows(counted: Iterable[tuple[str | None, int]]) -> list[ReasonRow]:
    pairs = [(name or str(_("Not given")), n) for name, n in counted]
    total = sum(n for _name, n in pairs)
    return [(name, n, share(n, total)) for name, n in pairs]


def _hbar(rows: list[ReasonRow], empty: StrOrPromise) -> Chart:
    return Chart("hbar", [row[0] for row in rows],
                 [{"name": str(_("Cases")), "data": [row[1] for row in rows]}], empty=empty)


def appeals(context: Context) -> list[Section]:
    cases = cases_of(context.filters, dated_by="appealed_at")
    figures = cases.aggregate(
        appealed=Count("pk"),
        pending=Count("pk", filter=Q(state=State.APPEALED)),
        overturned=Count("pk", filter=APPROVED))
    decided = figures["appealed"] - figures["pending"]
    upheld = decided - figures["overturned"]
    rows = [(_("Appeals"), figures["appealed"], None),
            (pgettext_lazy("cases counted", "Decided"), decided,
             share(decided, figures["appealed"])),
            (_("Overturned (approved on appeal)"), figures["overturned"],
             share(figures["overturned"], decided)),
            (_("Upheld"), upheld, share(upheld, decided)),
            (_("Waiting for a decision"), figures["pending"], None)]
    table = Table("appeals", _("Appeals"), [
        Column("measure", _("Measure")), Column("cases", _("Cases"), Kind.COUNT),
        Column("share", _("Share"), Kind.PERCENT)], rows,
        note=_("Appeals made in the range. Shares of overturned and upheld appeals are of "
               "the decided ones."))
    chart = Chart("pie", [str(_("Overturned (approved on appeal)")), str(_("Upheld")),
                          str(_("Waiting for a decision"))],
                  [{"name": str(_("Appeals")),
                    "data": [figures["overturned"], upheld, figures["pending"]]}],
                  empty=_("No appeals in this range."))
    return [Section(table, chart)]


