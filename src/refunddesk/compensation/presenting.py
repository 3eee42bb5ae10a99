"""A compensation run as staff read it (the console) and as the API shows it: its choices in
words, the dry run's figures, what it has done so far, and its audit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db.models import Count, Sum
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from refunddesk.cases.actors import system_label
from refunddesk.compensation import events, remedies
from refunddesk.compensation.actions import stamp
from refunddesk.compensation.explaining import percent_text
from refunddesk.compensation.models import CompensationRun, ItemState, RunEvent
from refunddesk.compensation.running import REFUSED
from refunddesk.compensation.states import RunState
from refunddesk.core.money import format_money
from refunddesk.policy.money import format_amount

# Why lines get nothing, in a word (the dry run counts them by reason).
REASON_LABELS: dict[str, Any] = {
    remedies.PAY_AS_YOU_GO: gettext_lazy("Pay-as-you-go"),
    remedies.NO_SERVICE_END: gettext_lazy("No service end"),
    remedies.ENDED_BEFORE: gettext_lazy("Ended by a refund before the outage"),
    remedies.NOT_ACTIVE: gettext_lazy("Not active during the outage"),
    remedies.NO_AMOUNT_FOR_CURRENCY: gettext_lazy("No fixed amount for its currency"),
    remedies.NOTHING_DUE: gettext_lazy("Less than the smallest coin"),
    remedies.ALREADY_ENDED: gettext_lazy("Service over: nothing to extend"),
    remedies.ALREADY_COMPENSATED: gettext_lazy("Already compensated"),
    remedies.NO_POLICY: gettext_lazy("No refund policy"),
    remedies.NOTHING_LEFT: gettext_lazy("Nothing left to refund"),
    remedies.NO_PAYMENT: gettext_lazy("No payment"),
    remedies.STORE_PURCHASE: gettext_lazy("Bought in an app store"),
    REFUSED: gettext_lazy("Refused when its case was opened"),
}


def reason_label(code: str) -> str:
    label = REASON_LABELS.get(code)
    return str(label) if label is not None else code.replace("_", " ")


def remedy_text(run: CompensationRun) -> str:
    """The remedy in a sentence."""
    fund = (_("to the account balance") if run.credit_to != "gift"
            else _("as gift credit"))
    if run.remedy == remedies.REFUND_TIME:
        return _("Refund of the outage's share of what each line cost, by the way it was "
                 "paid")
    if run.remedy == remedies.CREDIT_PERCENT:
        return _("%(percent)s%% of what each line cost, %(fund)s") % {
            "percent": percent_text(run.percent_hundredths or 0), "fund": fund}
    if run.remedy == remedies.CREDIT_FIXED:
        amounts = ", ".join(format_money(minor, currency)
                            for currency, minor in sorted(run.fixed_amounts.items()))
        return _("%(amounts)s per line, %(fund)s") % {"amounts": amounts, "fund": fund}
    if run.extension_days:
        return _("Service end moved %(days)s days later, at no charge") % {
            "days": run.extension_days}
    return _("Service end moved later by the time the outage took, at no charge")


def selection_text(run: CompensationRun) -> str:
    parts = []
    if run.products:
        parts.append(_("products %(codes)s") % {"codes": ", ".join(run.products)})
    if run.skus:
        parts.append(_("SKUs %(skus)s") % {"skus": ", ".join(run.skus)})
    if run.flags:
        parts.append(_("lines flagged %(flags)s") % {"flags": ", ".join(run.flags)})
    return "; ".join(parts)


@dataclass(frozen=True)
class EventRow:
    at: datetime
    who: str
    what: str
    note: str


def event_rows(run: CompensationRun) -> list[EventRow]:
    rows = []
    for event in run.events.select_related("actor").order_by("at", "id"):
        who = (event.actor.get_username() if event.actor is not None
               else str(system_label(event.actor_name)))
        rows.append(EventRow(event.at, who, events.label(event.kind), _event_note(event)))
    return rows


def _event_note(event: RunEvent) -> str:
    details = event.details or {}
    if details.get("reason"):
        return str(details["reason"])
    if details.get("error"):
        return str(details["error"])
    if "lines" in details and "customers" in details:
        totals = ", ".join(f"{amount} {currency}"
                           for currency, amount in (details.get("totals") or {}).items())
        return _("%(customers)s customers, %(lines)s lines%(totals)s") % {
            "customers": details["customers"], "lines": details["lines"],
            "totals": f"; {totals}" if totals else ""}
    if "customers_done" in details:
        return _("%(done)s of %(total)s customers done, %(cases)s cases opened") % {
            "done": details["customers_done"], "total": details.get("customers", 0),
            "cases": details.get("cases_opened", 0)}
    return ""


def done_so_far(run: CompensationRun) -> dict[str, Any]:
    """What the run has done, from its items: lines compensated and skipped (by reason),
    and money per currency."""
    rows = (run.items.filter(state__in=[ItemState.DONE, ItemState.SKIPPED])
            .values("state", "currency", "reason")
            .annotate(lines=Count("pk"), total=Sum("amount_minor")).order_by())
    totals: dict[str, int] = {}
    done = skipped = 0
    skipped_by: dict[str, int] = {}
    for row in rows:
        if row["state"] == ItemState.DONE:
            done += row["lines"]
            totals[row["currency"]] = totals.get(row["currency"], 0) + (row["total"] or 0)
        else:
            skipped += row["lines"]
            skipped_by[row["reason"]] = skipped_by.get(row["reason"], 0) + row["lines"]
    return {"lines_done": done, "lines_skipped": skipped,
            "totals": {currency: format_amount(minor, currency)
                       for currency, minor in sorted(totals.items()) if minor},
            "skipped": dict(sorted(skipped_by.items()))}


def as_json(run: CompensationRun) -> dict[str, Any]:
    """The run as the API shows it."""
    figures = dict(run.figures or {})
    samples = figures.pop("samples", [])
    return {
        "id": run.pk, "state": run.state, "source": run.source,
        "selection": {"products": list(run.products), "skus": list(run.skus),
                      "flags": list(run.flags)},
        "outage": {"start": run.outage_start.astimezone(UTC),
                   "end": run.outage_end.astimezone(UTC)},
        "remedy": remedy_json(run),
        "created_by": run.created_by.get_username(), "created_at": run.created_at,
        "approved_by": (run.approved_by.get_username() if run.approved_by is not None
                        else None),
        "approved_at": run.approved_at,
        "dry_run": ({**figures, "samples": samples, "worked_out_at": stamp(run)}
                    if run.planned_at else None),
        "progress": {"customers": run.customers_total, "customers_done": run.customers_done,
                     "cases_opened": run.cases_opened, "percent": run.progress_percent,
                     **done_so_far(run)},
        "started_at": run.started_at, "finished_at": run.finished_at,
        "error": run.error,
        "needs_approval": run.state == RunState.AWAITING_APPROVAL,
    }


def remedy_json(run: CompensationRun) -> dict[str, Any]:
    return {"kind": run.remedy,
            "percent": percent_text(run.percent_hundredths) if run.percent_hundredths
            else None,
            "fixed": {currency: format_amount(minor, currency)
                      for currency, minor in sorted(run.fixed_amounts.items())},
            "credit_to": run.credit_to or None, "extension_days": run.extension_days}
