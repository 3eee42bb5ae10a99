"""The queue's cases and the payouts page's payouts as exports, with the filters on screen.

Registered with the reports' export subjects when the console starts (apps.py): the
export, and a background export's task, rebuild the rows from the page's own filter form
and query, so an export holds exactly the rows the page would list (every page of them).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from django.http import QueryDict
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from refunddesk.cases.models import Channel
from refunddesk.cases.states import staff_state_label
from refunddesk.console import queueing
from refunddesk.console.queue_forms import QueueFilterForm
from refunddesk.payouts import permissions as payout_permissions
from refunddesk.payouts.models import Destination, PayoutState
from refunddesk.policy.money import Money
from refunddesk.reports import permissions as report_permissions
from refunddesk.reports.subjects import BadParameters, Listing, Subject, register
from refunddesk.reports.tables import Column, Kind

CHUNK = 2000

CASE_COLUMNS = (
    Column("tracking_number", gettext_lazy("Tracking number")),
    Column("submitted_at", gettext_lazy("Submitted"), Kind.DATETIME),
    Column("state", gettext_lazy("State")),
    Column("channel", gettext_lazy("Channel")),
    Column("customer", gettext_lazy("Customer")),
    Column("email", gettext_lazy("E-mail")),
    Column("order", gettext_lazy("Order")),
    Column("policy", gettext_lazy("Policy")),
    Column("currency", gettext_lazy("Currency")),
    Column("assessed", gettext_lazy("Assessed refund"), Kind.AMOUNT),
    Column("approved", gettext_lazy("Approved refund"), Kind.AMOUNT),
    Column("assignee", gettext_lazy("Assignee")),
    Column("decided_at", gettext_lazy("Decided"), Kind.DATETIME),
    Column("decided_by", gettext_lazy("Decided by")),
)

PAYOUT_COLUMNS = (
    Column("payout", gettext_lazy("Payout")),
    Column("case", gettext_lazy("Case")),
    Column("created_at", gettext_lazy("Planned"), Kind.DATETIME),
    Column("state", gettext_lazy("State")),
    Column("destination", gettext_lazy("Destination")),
    Column("gateway", gettext_lazy("Gateway")),
    Column("currency", gettext_lazy("Currency")),
    Column("amount", gettext_lazy("Amount"), Kind.AMOUNT),
    Column("provider_refund_id", gettext_lazy("Provider's refund id")),
    Column("settled_at", gettext_lazy("Settled"), Kind.DATETIME),
    Column("error", gettext_lazy("Last error code")),
)


def query_params(query: QueryDict, tz: tzinfo) -> dict[str, Any]:
    """A page's query as kept on the export's audit row (every value of every name)."""
    return {"query": {name: query.getlist(name) for name in query},
            "tz": getattr(tz, "key", str(tz))}


def _query(params: dict[str, Any]) -> tuple[QueryDict, ZoneInfo]:
    query = QueryDict(mutable=True)
    for name, values in (params.get("query") or {}).items():
        query.setlist(name, [str(value) for value in values])
    try:
        tz = ZoneInfo(params.get("tz") or "UTC")
    except (ValueError, KeyError) as error:
        raise BadParameters(str(error)) from error
    return query, tz


def _local(moment: datetime | None, tz: tzinfo) -> datetime | None:
    return None if moment is None else moment.astimezone(tz)


def case_listing(params: dict[str, Any], viewer: Any, now: datetime, language: str
                 ) -> Listing:
    query, tz = _query(params)
    form = QueueFilterForm(query)
    if not form.is_valid():
        raise BadParameters(_("The queue's filters are not valid: correct them on the queue "
                              "page first."))
    filters = form.filters()
    cases = (queueing.matching(filters, viewer=viewer, now=now, tz=tz)
             .filter(state__in=queueing.effective_states(filters))
             .order_by("-submitted_at", "-pk"))
    fields = ("tracking_number", "submitted_at", "state", "channel", "account__name",
              "account__email", "order__external_id", "policy_ref", "currency",
              "assessed_total_minor", "approved_total_minor", "assignee__username",
              "decided_at", "decided_by__username")

    def rows() -> Iterator[Sequence[Any]]:
        for (number, submitted, state, channel, name, email, order, policy, currency,
             assessed, approved, assignee, decided_at, decided_by) in (
                cases.values_list(*fields).iterator(chunk_size=CHUNK)):
            yield (number, _local(submitted, tz), str(staff_state_label(state)),
                   str(Channel(channel).label) if channel in Channel.values else channel,
                   name, email, order, policy, currency, Money(assessed, currency),
                   None if approved is None else Money(approved, currency), assignee or "",
                   _local(decided_at, tz), decided_by or "")

    return Listing(_("Refund cases"), CASE_COLUMNS, cases.count(), rows())


def payout_listing(params: dict[str, Any], viewer: Any, now: datetime, language: str
                   ) -> Listing:
    from refunddesk.console.views.payouts import PayoutFilterForm, filtered

    query, tz = _query(params)
    form = PayoutFilterForm(query)
    if not form.is_valid():
        raise BadParameters(_("The payouts page's filters are not valid: correct them there "
                              "first."))
    payouts = filtered(form, now).order_by("-pk")
    fields = ("pk", "case__tracking_number", "created_at", "state", "destination", "gateway",
              "currency", "amount_minor", "gateway_refund_id", "settled_at", "last_error_code")

    def rows() -> Iterator[Sequence[Any]]:
        for (pk, case, created, state, destination, gateway, currency, amount, refund_id,
             settled, error) in payouts.values_list(*fields).iterator(chunk_size=CHUNK):
            yield (pk, case, _local(created, tz), str(PayoutState(state).label),
                   str(Destination(destination).label), gateway, currency,
                   Money(amount, currency), refund_id, _local(settled, tz), error)

    return Listing(_("Payouts"), PAYOUT_COLUMNS, payouts.count(), rows())


def register_list_exports() -> None:
    register(Subject("cases", report_permissions.can_export_cases, case_listing))
    register(Subject("payouts", payout_permissions.can_view, payout_listing))
