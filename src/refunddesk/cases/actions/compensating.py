"""The case a mass compensation opens for a customer's lines of one order: opened and
approved at once, with the amounts the run worked out (compensation/remedies.py), its
payouts planned by the normal planner, the customer told, the merchant's systems too.

A second admin approved the run (compensation/actions.py); the case is opened by the run
itself, the `COMPENSATION` system actor, and its events name the run and that admin. Its
lines are the compensated order lines with `holds_line` off: a compensation does not take
the line, so the customer may still ask for a refund of it, and an open refund case of
the line does not keep it from being compensated. Their rule stays empty, so a
compensation never counts against a policy's quotas or caps (cases/assessing.py reads
granted refunds by their rule).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from refunddesk.billing.models import Order, OrderLine, Payment
from refunddesk.cases import sla
from refunddesk.cases.actions.base import event
from refunddesk.cases.actions.decisions import automatic_decision
from refunddesk.cases.actors import Actor
from refunddesk.cases.errors import CaseError
from refunddesk.cases.events import CaseEventType
from refunddesk.cases.models import CaseEvent, CaseLine, Channel, RefundCase
from refunddesk.cases.states import next_state
from refunddesk.cases.tracking import new_tracking_number
from refunddesk.notifications.models import WebhookEvent
from refunddesk.notifications.outbox import notify
from refunddesk.notifications.webhook_events import active_endpoints, case_json, emit_many
from refunddesk.payouts.planned import plan_payouts
from refunddesk.policy import routing
from refunddesk.policy.money import allocate, format_amount
from refunddesk.policy.schema import Policy

# Where credit to the account goes: the spendable (cash) balance or gift credit, as the
# ledger gateway keeps them (payouts/gateways/balance.py).
CREDIT_DESTINATIONS = ("balance", "gift")


@dataclass(frozen=True)
class CompensatedLine:
    """One order line of the case and what the run gives it: money (minor units; 0 for an
    extension) or a later service end."""

    order_line: OrderLine
    amount: int = 0
    extended_to: datetime | None = None


def allocation(order: Order, payments: Sequence[Payment], total: int, *, policy: Policy,
               credit_to: str | None) -> list[dict[str, Any]]:
    """The case's allocation in the assessment's JSON form: `total` spread over the order's
    payments in proportion to what each paid (largest remainder, no cent lost). A refund
    (`credit_to` None) goes where the policy routes each payment's refund; a credit goes to
    the account's balance or gift credit, whatever paid."""
    if total == 0 or not payments:
        return []
    amounts = allocate(total, [payment.amount_minor for payment in payments])
    entries = []
    for payment, amount in zip(payments, amounts, strict=True):
        if not amount:
            continue
        if credit_to is None:
            route = routing.route_of(policy.destination, method=payment.method,
                                     funding=payment.funding, invoiced=order.is_invoiced)
            destination, fallback = route.destination, route.fallback
        else:
            destination, fallback = credit_to, None
        entries.append({"payment": payment.payment_id, "method": payment.method,
                        "funding": payment.funding, "destination": destination,
                        "amount": format_amount(amount, order.currency),
                        **({"fallback": fallback} if fallback else {})})
    return entries


def open_compensation_case(*, order: Order, lines: Sequence[CompensatedLine], policy: Policy,
                           credit_to: str | None, actor: Actor, run: dict[str, Any],
                           note: str, explanation: Sequence[str], language: str,
                           submission: UUID | None = None, tells_customer: bool = True,
                           now: datetime) -> RefundCase:
    """Open the approved case of `lines` (all of `order`), under `policy` (the lines'
    product's, for its payout times and routes). `run` names the run in the audit
    ({"run": id, "approved_by": username}); `note` is what the customer reads (the
    decision note, in their language), `explanation` the lines' sentences in English for
    the stored assessment. `submission` groups a customer's cases of one run, and only the
    case with `tells_customer` sends the e-mail naming them all.

    Runs inside the caller's transaction (the run records its lines in the same one);
    CaseError when the order's payments cannot take the money (nothing is written)."""
    if credit_to is not None and credit_to not in CREDIT_DESTINATIONS:
        raise CaseError(_("Credit goes to the account balance or to gift credit."))
    if not lines or any(line.order_line.order_id != order.pk for line in lines):
        raise CaseError(_("A compensation case is opened for lines of its one order."))
    currency = order.currency
    total = sum(line.amount for line in lines)
    payments = list(order.payments.all()) if total else []
    shares = allocation(order, payments, total, policy=policy, credit_to=credit_to)
    assessment = {
        "policy": policy.ref, "as_of": now.isoformat(), "outcome": "compensation",
        "rule": None, "handling": "approve", "needs_review": False, "needs_four_eyes": False,
        "currency": currency, "total": format_amount(total, currency),
        "lines": [{"id": line.order_line.line_id, "rule": None,
                   "refundable": format_amount(line.amount, currency),
                   "eligible": format_amount(line.amount, currency),
                   "consumed": format_amount(0, currency), "fee": format_amount(0, currency),
                   "excluded": None} for line in lines],
        "allocation": shares, "documents_required": [], "steps": [],
        "explanation": list(explanation), "compensation": dict(run)}
    case = RefundCase(
        tracking_number=new_tracking_number(), account_id=order.account_id, order=order,
        channel=Channel.BULK, language=language, policy_ref=policy.ref,
        assessment=assessment, currency=currency, assessed_total_minor=total,
        submitted_at=now, submission=submission, decision_note=note,
        **sla.due_times(policy, now, channel=Channel.BULK))
    case.account = order.account
    ids = [line.order_line.line_id for line in lines]
    events = [event(case, CaseEventType.COMPENSATION_OPENED, actor=actor, before="",
                    now=now, data={**run, "lines": ids,
                                   "total": assessment["total"]})]
    before = case.state
    case.state = next_state(before, "auto_approve")
    case.approved_total_minor, case.decided_at = total, now
    sla.refresh(case)
    events.append(event(case, CaseEventType.APPROVED, actor=actor, before=before, now=now,
                        data={**run, "approved": assessment["total"], "automatic": True}))
    case_lines = [CaseLine(case=case, order_line=line.order_line, assessed_minor=line.amount,
                           approved_minor=line.amount, holds_line=False,
                           service_extended_to=line.extended_to)
                  for line in lines]
    with transaction.atomic():
        endpoints = active_endpoints()
        case.save(force_insert=True)
        CaseLine.objects.bulk_create(case_lines)
        CaseEvent.objects.bulk_create(events)
        payouts = plan_payouts(case, now=now) if total else []
        if tells_customer:
            notify(case, "compensated")

        def shown() -> dict[str, Any]:  # as written, not read back
            return case_json(case, lines=case_lines, payouts=payouts)

        hooks: list[tuple[str, Any]] = [
            ("case.submitted", lambda: {"case": shown()}),
            ("case.decided", lambda: {"case": shown(), "decision": {
                **automatic_decision(), "compensation": dict(run)}}),
            *[(WebhookEvent.SUBSCRIPTION_EXTENDED,
               _extended(shown, case, line, line.service_extended_to))
              for line in case_lines if line.service_extended_to is not None]]
        emit_many(hooks, now=now, endpoints=endpoints)
    return case


def _extended(shown: Callable[[], dict[str, Any]], case: RefundCase, line: CaseLine,
              extended_to: datetime) -> Any:
    order_line = line.order_line

    def data() -> dict[str, Any]:
        subscription = order_line.subscription  # None, unread, for a line without one
        service_end = order_line.service_end
        # Only a line with an end is extended (compensation/remedies.py excludes the others).
        assert service_end is not None
        return {"case": shown(), "order": case.order.external_id,
                "line": {"id": order_line.line_id, "sku": order_line.sku,
                         "product": order_line.product.code},
                "subscription": subscription.external_id if subscription else None,
                "service_end": service_end.astimezone(UTC),
                "extended_to": extended_to.astimezone(UTC)}

    return data
