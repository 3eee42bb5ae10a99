"""An assessment as the customer reads it: how much, where to, why, what to send, and when.

Works on the assessment's JSON form (Assessment.to_dict), which is both what the live quote
has and what a case stores, so a quote and the case it becomes read the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NotRequired, TypedDict

from django.utils.translation import gettext as _

from refunddesk.billing.models import PaymentMethod
from refunddesk.billing.order_records import OrderRecord
from refunddesk.cases import sla
from refunddesk.cases.assessing import GroupQuote
from refunddesk.policy.explain import duration_text, render
from refunddesk.policy.money import Money
from refunddesk.policy.schema import Policy
from refunddesk.policy.service_end import service_ends_at


def engine_locale(language: str | None) -> str:
    """Django's language code ("zh-hans", "en") → the policy engine's ("zh-Hans", "en")."""
    return "zh-Hans" if (language or "").lower().startswith("zh") else "en"


def method_name(method: str) -> str:
    try:
        return str(PaymentMethod(method).label)
    except ValueError:
        return method


def destination_text(destination: str, method: str) -> str:
    if destination == "original":
        return _("back to %(method)s") % {"method": method_name(method)}
    return {
        "balance": _("to your account balance"),
        "gift": _("as gift credit"),
        "voucher": _("as voucher credit"),
    }.get(destination, destination)


def document_name(code: str) -> str:
    return {
        "account_verification": _("Proof that the account is yours"),
        "proof_of_purchase": _("Proof of purchase (receipt or bank statement)"),
        "invoice": _("The invoice, if one was issued"),
        "id_document": _("An identity document"),
        "screenshot": _("A screenshot of the problem"),
    }.get(code, code.replace("_", " "))


@dataclass
class Destination:
    payment_method: str
    text: str
    amount: str
    fallback: str = ""
    expected: datetime | None = None


@dataclass
class Presented:
    currency: str
    total: str
    handling: str
    is_immediate: bool
    destinations: list[Destination] = field(default_factory=list)
    documents: list[str] = field(default_factory=list)
    explanation: list[str] = field(default_factory=list)
    review_time: str = ""
    excluded_lines: list[str] = field(default_factory=list)

    @property
    def is_nothing(self) -> bool:
        return self.handling == "reject"


class AllocationJson(TypedDict):
    """One entry of an assessment's "allocation" as Assessment.to_dict() writes it."""

    payment: str
    method: str
    funding: str
    destination: str
    amount: str  # a decimal string in the currency
    fallback: NotRequired[str]


def payout_key(entry: AllocationJson) -> str:
    """The policy's payout-time key for an allocation entry: the payment method when money
    goes back by it, else where it goes (balance, gift, voucher)."""
    return entry["method"] if entry["destination"] == "original" else entry["destination"]


def present(data: dict[str, Any], *, language: str, policy: Policy,
            payout_start: datetime | None = None) -> Presented:
    """`data` is Assessment.to_dict() output (a quote's or a case's snapshot). With
    `payout_start`, each destination gets its expected arrival by the policy's payout times."""
    locale = engine_locale(language)
    currency = data["currency"]
    payout_times = policy.sla.payout
    destinations = []
    for entry in data["allocation"]:
        expected = None
        if payout_start is not None:
            key = payout_key(entry)
            expected = sla.after(policy, payout_start,
                                 payout_times.get(key) or payout_times.get("default"))
        destinations.append(Destination(
            payment_method=method_name(entry["method"]),
            text=destination_text(entry["destination"], entry["method"]),
            amount=entry["amount"],
            fallback=(_("to your account balance if %(method)s cannot take it back")
                      % {"method": method_name(entry["method"])}
                      if entry.get("fallback") == "balance" else ""),
            expected=expected))
    review = policy.sla.review
    return Presented(
        currency=currency,
        total=data["total"],
        handling=data["handling"],
        is_immediate=data["handling"] == "approve",
        destinations=destinations,
        documents=[document_name(code) for code in data.get("documents_required", [])],
        explanation=[render(step["code"], step["params"], locale, policy)
                     for step in data.get("steps", [])],
        review_time=duration_text(str(review), locale) if review else "",
        excluded_lines=[line["id"] for line in data.get("lines", []) if line.get("excluded")],
    )


def policy_name(policy: Policy, language: str) -> str:
    return policy.name.zh_Hans if engine_locale(language) == "zh-Hans" else policy.name.en


@dataclass
class QuoteGroup:
    """The lines of one refund policy in a live quote: the case they would become."""

    policy_name: str
    lines: list[tuple[str, str]]  # (line id, product name), in the order's order
    quote: Presented
    service_ends: list[ServiceEnd] = field(default_factory=list)


@dataclass(frozen=True)
class ServiceEnd:
    """What approving the quoted refund does to one line's service (policy/service_end)."""

    product: str
    at: datetime
    is_at_once: bool


def service_ends(record: OrderRecord, quote: GroupQuote, names: dict[str, str],
                 now: datetime) -> list[ServiceEnd]:
    lines = {line.line_id: line for line in record.lines}
    rules = {rule.id: rule for rule in quote.policy.rules}
    ends = []
    for result in quote.assessment.lines:
        line = lines[result.id]
        at = service_ends_at(billing=line.billing, refund=result.refund,
                             paid=line.amount_paid_minor, starts=line.service_start,
                             ends=line.service_end, rule=rules.get(result.rule or ""), now=now)
        if at is not None:
            ends.append(ServiceEnd(names[result.id], at, is_at_once=at == now))
    return ends


@dataclass
class GroupedQuote:
    """A live quote of a choice of lines, one group per refund policy (one case each)."""

    groups: list[QuoteGroup]
    total: Money  # all groups together, for a choice that spans policies

    @property
    def is_split(self) -> bool:
        return len(self.groups) > 1


def present_groups(record: OrderRecord, quotes: list[GroupQuote], *, language: str,
                   now: datetime) -> GroupedQuote:
    """Each group's assessment as the customer reads it, with its lines named."""
    names = {line.line_id: line.product.name_for(language) for line in record.lines}
    groups = [
        QuoteGroup(
            policy_name=policy_name(quote.policy, language),
            lines=[(line_id, names[line_id]) for line_id in quote.group.line_ids],
            quote=present(quote.assessment.to_dict(), language=language, policy=quote.policy,
                          payout_start=now if quote.assessment.handling == "approve"
                          else None),
            service_ends=service_ends(record, quote, names, now))
        for quote in quotes]
    total = Money(sum(quote.assessment.total for quote in quotes), record.order.currency)
    return GroupedQuote(groups, total)
