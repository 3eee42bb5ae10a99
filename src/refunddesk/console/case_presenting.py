"""A refund case as staff read it: every fact the decision rests on, the full audit
history, the clocks, and which actions the reader's role and the case's state allow.

Works on the stored case only: the assessment is the snapshot taken at submission, shown
in the reader's language, never recomputed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from refunddesk.billing.models import TermUnit, Usage
from refunddesk.cases import permissions, sla
from refunddesk.cases.actors import system_label
from refunddesk.cases.document_kinds import label as document_kind_label
from refunddesk.cases.events import staff_label
from refunddesk.cases.models import CaseEvent, Channel, Document, RefundCase, RejectionReason
from refunddesk.cases.presenting import Presented, engine_locale, method_name, present
from refunddesk.cases.states import State
from refunddesk.cases.uploads import ALLOWED_TYPES
from refunddesk.console.case_payouts import (
    destination_name,
    gateway_label,
    payout_detail_labels,
)
from refunddesk.core.money import format_money
from refunddesk.policies.dryrun import HANDLING, OUTCOMES
from refunddesk.policy.explain import reason_text, rule_name
from refunddesk.policy.money import MoneyError, parse_amount

# How much of a text document the page shows inline; the rest is a download away.
TEXT_PREVIEW_BYTES = 64 * 1024
OTHER_CASES_SHOWN = 10


def state_label(code: str) -> str:
    # The customer reads "Waiting for you"; staff read whom the case waits for.
    if code == State.AWAITING_CUSTOMER:
        return _("Waiting for the customer")
    try:
        return str(State(code).label)
    except ValueError:
        return code


def user_name(user: Any) -> str:
    return user.get_username() if user is not None else ""


# -- lines, payments, usage ---------------------------------------------------------------

@dataclass
class LineRow:
    line_id: str
    sku: str
    product: str
    term: str
    service_start: datetime | None
    service_end: datetime | None
    paid: int
    assessed: int
    approved: int | None
    proposed: int | None
    rule: str
    excluded: str
    consumed: str
    fee: str


def term_text(unit: str, count: int | None) -> str:
    if not unit or not count:
        return ""
    try:
        unit_name = str(TermUnit(unit).label)
    except ValueError:
        unit_name = unit
    return f"{count} × {unit_name}"


def line_rows(case: RefundCase, language: str) -> list[LineRow]:
    locale = engine_locale(language)
    policy = sla.policy_of(case)
    figures = {line["id"]: line for line in case.assessment.get("lines", [])}
    proposed = (case.proposal or {}).get("amounts", {})
    rows = []
    for line in case.lines.select_related("order_line__product").order_by(
            "order_line__position", "order_line__line_id"):
        order_line = line.order_line
        figure = figures.get(order_line.line_id, {})
        rows.append(LineRow(
            line_id=order_line.line_id, sku=order_line.sku,
            product=order_line.product.name_for(language),
            term=term_text(order_line.term_unit, order_line.term_count),
            service_start=order_line.service_start, service_end=order_line.service_end,
            paid=order_line.amount_paid_minor, assessed=line.assessed_minor,
            approved=line.approved_minor, proposed=proposed.get(order_line.line_id),
            rule=rule_name(line.rule, locale, policy) if line.rule else "",
            excluded=(reason_text(line.excluded_reason, locale, policy)
                      if line.excluded_reason else ""),
            consumed=figure.get("consumed", ""), fee=figure.get("fee", "")))
    return rows


def destinations(case: RefundCase) -> list[tuple[str, str]]:
    """Where the assessed refund goes, payment by payment, as staff say it."""
    currency = case.assessment["currency"]
    rows = []
    for entry in case.assessment.get("allocation", []):
        method = method_name(entry["method"])
        text = {
            "original": _("back to %(method)s (payment %(payment)s)")
            % {"method": method, "payment": entry["payment"]},
            "balance": _("to the account balance (paid by %(method)s)") % {"method": method},
            "gift": _("as gift credit"),
            "voucher": _("as voucher credit"),
        }.get(entry["destination"], entry["destination"])
        if entry.get("fallback") == "balance":
            text += " " + _("(to the account balance if %(method)s refuses it)") % {
                "method": method}
        rows.append((format_money(parse_amount(entry["amount"], currency), currency), text))
    return rows


def usage_of(case: RefundCase) -> list[Usage]:
    return list(Usage.objects.filter(line__case_lines__case=case)
                .select_related("line").order_by("line__position", "period_start", "metric"))


# -- documents ------------------------------------------------------------------------------

@dataclass
class DocumentRow:
    document: Document
    preview: str  # image | pdf | text | "" (no preview)
    text: str = ""
    is_truncated: bool = False
    is_missing: bool = False


def preview_kind(content_type: str) -> str:
    if content_type not in ALLOWED_TYPES:
        return ""
    if content_type.startswith("image/"):
        return "image"
    return {"application/pdf": "pdf", "text/plain": "text"}.get(content_type, "")


def document_rows(case: RefundCase) -> list[DocumentRow]:
    rows = []
    for document in case.documents.select_related("uploaded_by"):
        row = DocumentRow(document, preview_kind(document.content_type))
        if row.preview == "text":
            try:
                with document.file.open("rb") as handle:
                    head = handle.read(TEXT_PREVIEW_BYTES + 1)
            except FileNotFoundError:
                row.is_missing = True
            else:
                row.is_truncated = len(head) > TEXT_PREVIEW_BYTES
                # A cut at the window's edge may split a character: replace, never fail.
                row.text = head[:TEXT_PREVIEW_BYTES].decode("utf-8", errors="replace")
        rows.append(row)
    return rows


# -- the audit timeline ---------------------------------------------------------------------

def detail_labels() -> dict[str, str]:
    return {
        "lines": _("lines"), "total": _("total"), "handling": _("handling"),
        "channel": _("channel"), "identity_check": _("identity check"),
        "approved": pgettext("amount", "approved"), "automatic": _("automatic"),
        "due": _("due"),
        "documents": _("documents"), "reason": _("reason"), "message": _("message"),
        "from": pgettext("assigned", "from"), "to": pgettext("assigned", "to"),
        "is_partial": _("partial"),
        "is_override": _("above the assessment"), "justification": _("justification"),
        "proposed_by": _("proposed by"), "closed": _("closed"),
        "via": pgettext("made through", "through"),
        **payout_detail_labels(),
    }


# Event details that are amounts, kept in the currency's unit ("12.30"); "lines" holds one
# per line.
AMOUNT_DETAILS = frozenset({"amount", "approved", "total"})


def _amount_text(value: Any, currency: str) -> str | None:
    try:
        return format_money(parse_amount(value, currency), currency)
    except MoneyError:
        return None


def detail_value(key: str, value: Any, reasons: dict[str, str] | None = None,
                 currency: str = "") -> str:
    """An event's detail as people read it: codes the desk stores (a handling, a channel,
    a rejection reason, a gateway) become their names, and amounts money in the reader's
    language (with the case's `currency`); `reasons` names the rejection reasons by code
    in the reader's language."""
    if currency and key in AMOUNT_DETAILS and (text := _amount_text(value, currency)):
        return text
    if currency and key == "lines" and isinstance(value, dict):
        return "; ".join(f"{line}: {_amount_text(amount, currency) or amount}"
                         for line, amount in value.items())
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if key == "destination":
        return destination_name(str(value))
    if key == "gateway":
        return gateway_label(str(value))
    if key == "handling":
        return str(HANDLING.get(str(value), value))
    if key == "channel" and value in Channel.values:
        return str(Channel(value).label)
    if key == "reason" and value == "overdue":
        return _("the review deadline has passed")
    if key == "reason" and reasons and value in reasons:
        return reasons[value]
    if key == "documents" and isinstance(value, list):
        return ", ".join(document_kind_label(str(item)) for item in value)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    if key == "identity_check" and isinstance(value, dict):
        return "; ".join(f"{name}: {text}" for name, text in identity_check_rows(value))
    if isinstance(value, dict):
        return "; ".join(f"{k}: {detail_value(k, v)}" for k, v in value.items())
    if isinstance(value, str) and (moment := parse_iso(value)) is not None:
        return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
    return "" if value is None else str(value)


def parse_iso(text: str) -> datetime | None:
    if len(text) < 19 or text[4:5] != "-" or "T" not in text:
        return None
    try:
        moment = parse_datetime(text)
    except ValueError:
        return None
    return moment if moment is not None and timezone.is_aware(moment) else None


@dataclass
class EventRow:
    event: CaseEvent
    label: str
    actor: str
    from_state: str
    to_state: str
    details: list[tuple[str, str]]

    @property
    def is_internal(self) -> bool:
        return not self.event.is_customer_visible


def actor_text(event: CaseEvent) -> str:
    if event.actor is not None:
        kind = {"staff": _("staff"), "customer": _("customer")}.get(event.actor_kind, "")
        return f"{event.actor.get_username()} ({kind})" if kind else event.actor.get_username()
    if event.actor_kind == "system":
        return str(system_label((event.data or {}).get("system", "")))
    return {"customer": _("customer")}.get(event.actor_kind, event.actor_kind)


def event_rows(case: RefundCase, language: str = "en") -> list[EventRow]:
    keys = detail_labels()
    reasons = {reason.code: reason.name_for(language)
               for reason in RejectionReason.objects.all()}
    return [EventRow(
        event=event, label=staff_label(event.action),
        actor=actor_text(event),
        from_state=state_label(event.from_state) if event.from_state else "",
        to_state=state_label(event.to_state) if event.to_state else "",
        details=[(keys.get(key, key.replace("_", " ")),
                  detail_value(key, value, reasons, currency=case.currency))
                 for key, value in (event.data or {}).items() if key != "system"])
        for event in case.events.select_related("actor")]


# -- SLA clocks -----------------------------------------------------------------------------

@dataclass
class Clock:
    name: str
    due: datetime | None
    done_at: datetime | None = None
    status: str = ""  # overdue | today | running | paused | done | late | stopped

    @property
    def css(self) -> str:
        return {"overdue": "sla-overdue", "late": "sla-overdue", "today": "sla-today",
                "paused": "sla-paused"}.get(self.status, "")

    @property
    def status_text(self) -> str:
        return {"overdue": _("overdue"), "today": _("due today"), "running": _("running"),
                "paused": _("paused"), "done": _("met"), "late": _("met late"),
                "stopped": _("stopped")}.get(self.status, "")


def running_status(due: datetime, now: datetime) -> str:
    if due < now:
        return "overdue"
    return "today" if timezone.localdate(due) == timezone.localdate(now) else "running"


def clocks(case: RefundCase, now: datetime) -> list[Clock]:
    runs = case.state in sla.CLOCK_STATES
    paused = case.sla_paused_at is not None
    found = []
    if case.first_response_due or case.first_responded_at:
        clock = Clock(_("First response"), case.first_response_due, case.first_responded_at)
        if case.first_responded_at is not None:
            clock.status = ("late" if case.first_response_due
                            and case.first_responded_at > case.first_response_due else "done")
        elif paused:
            clock.status = "paused"
        elif runs and clock.due is not None:
            clock.status = running_status(clock.due, now)
        else:
            clock.status = "stopped"
        found.append(clock)
    if case.review_due:
        clock = Clock(_("Decision"), case.review_due)
        if paused:
            clock.status = "paused"
        elif runs:
            clock.status = running_status(case.review_due, now)
        elif case.decided_at is not None:
            clock.done_at = case.decided_at
            clock.status = "late" if case.decided_at > case.review_due else "done"
        else:
            clock.status = "stopped"
        found.append(clock)
    if case.state == State.AWAITING_CUSTOMER and case.info_due is not None:
        found.append(Clock(_("Customer's answer"), case.info_due,
                           status=running_status(case.info_due, now)))
    return found


# -- the page -------------------------------------------------------------------------------

@dataclass
class CaseView:
    case: RefundCase
    lines: list[LineRow]
    payments: list[Any]
    usage: list[Usage]
    assessment: Presented
    destinations: list[tuple[str, str]]
    documents: list[DocumentRow]
    messages: list[MessageRow]
    emails: list[Any]  # the e-mail the customer sent about this case (intake.InboundMail)
    events: list[EventRow]
    clocks: list[Clock]
    other_cases: list[RefundCase]
    identity: list[tuple[str, str]]
    requested_documents: list[str]
    state_label: str
    outcome_label: str
    four_eyes_threshold: str
    approval_limit: str
    is_overdue: bool


@dataclass
class MessageRow:
    """A message of the thread, and the e-mail it came in as, if it did."""

    message: Any
    email: Any = None


def message_rows(case: RefundCase, emails: list[Any]) -> list[MessageRow]:
    # A message made from an e-mail is written at the moment the e-mail was processed (or
    # added to the case from triage): the same instant marks it.
    by_moment = {mail.handled_at or mail.processed_at: mail for mail in emails}
    return [MessageRow(message, by_moment.get(message.created_at)
                       if message.author_kind == "customer" else None)
            for message in case.messages.select_related("author")]


def identity_rows(case: RefundCase) -> list[tuple[str, str]]:
    return identity_check_rows(case.identity_check or {})


def identity_check_rows(check: dict[str, Any]) -> list[tuple[str, str]]:
    if not check:
        return []
    contact = {"email": _("the e-mail address matches the account"),
               "phone": _("the phone number matches the account")}
    payment = {"reference": _("the caller read out the end of a payment reference"),
               "receipt": _("the caller sent a payment receipt (in the documents)")}
    rows = [(_("Contact"), contact.get(check.get("contact", ""), _("not checked"))),
            (_("Order number"), _("given correctly") if check.get("order_number")
             else _("not checked")),
            (_("Payment"), payment.get(check.get("payment", ""), _("not checked")))]
    if check.get("checked_by"):
        rows.append((_("Checked by"), check["checked_by"]))
    if check.get("at"):
        rows.append((_("Checked at"), detail_value("at", check["at"])))
    return rows


def case_view(case: RefundCase, user: Any, *, language: str,
              now: datetime | None = None) -> CaseView:
    now = now or timezone.now()
    emails = list(case.inbound_mail.order_by("received_at"))
    threshold = sla.four_eyes_threshold(case)
    limit = permissions.approval_limit(user, case.currency) if permissions.can_work(user) \
        else None
    return CaseView(
        case=case,
        lines=line_rows(case, language),
        payments=list(case.order.payments.all()),
        usage=usage_of(case),
        assessment=present(case.assessment, language=language, policy=sla.policy_of(case)),
        destinations=destinations(case),
        documents=document_rows(case),
        messages=message_rows(case, emails),
        emails=emails,
        events=event_rows(case, language),
        clocks=clocks(case, now),
        other_cases=list(case.account.refund_cases.exclude(pk=case.pk)
                         .select_related("order").order_by("-submitted_at")
                         [:OTHER_CASES_SHOWN]),
        identity=identity_rows(case),
        requested_documents=[document_kind_label(code) for code in case.requested_documents],
        state_label=state_label(case.state),
        outcome_label=str(OUTCOMES.get(case.assessment.get("outcome", ""),
                                       case.assessment.get("outcome", ""))),
        four_eyes_threshold=(format_money(threshold, case.currency)
                             if threshold is not None else ""),
        approval_limit=(format_money(limit, case.currency) if limit is not None
                        else _("no limit") if permissions.has(user, "approve_any_amount")
                        else ""),
        is_overdue=sla.is_overdue(case, now),
    )
