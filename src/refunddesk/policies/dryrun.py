"""A dry-run quote: what an order in the billing mirror would get back under a policy version
(a draft, typically) before anyone is held to it. Nothing is written: the engine reads the
order's facts and the account's refund history, exactly as a real application would."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from refunddesk.billing.facts import order_facts
from refunddesk.billing.models import Order
from refunddesk.billing.order_records import BY_ID, OrderRecord, read_record
from refunddesk.cases.assessing import refund_history
from refunddesk.policy.assessment import AssessmentError
from refunddesk.policy.engine import assess
from refunddesk.policy.explain import DESTINATIONS, METHODS, reason_text, rule_name
from refunddesk.policy.schema import Policy, PolicyError

OUTCOMES = {
    "full": gettext_lazy("Full refund"),
    "partial": gettext_lazy("Partial refund"),
    "none": gettext_lazy("Nothing refundable"),
}
HANDLING = {
    "approve": gettext_lazy("approved at once"),
    "review": gettext_lazy("an agent reviews it"),
    "suggest": gettext_lazy("the amount is a suggestion; an agent decides"),
    "reject": gettext_lazy("nothing to approve"),
}


class DryRunError(ValueError):
    """The quote cannot be made; the message says why, for the admin."""


@dataclass
class DryRun:
    order: Order
    assessment: dict[str, Any]  # Assessment.to_dict in the viewer's language
    lines: list[dict[str, Any]] = field(default_factory=list)  # figures with product names
    allocation: list[dict[str, Any]] = field(default_factory=list)  # with names of routes

    @property
    def outcome_label(self) -> str:
        return str(OUTCOMES.get(self.assessment["outcome"], self.assessment["outcome"]))

    @property
    def handling_label(self) -> str:
        return str(HANDLING.get(self.assessment["handling"], self.assessment["handling"]))


def engine_locale(language: str | None = None) -> str:
    """The engine's name for the viewer's language ("zh-hans" → "zh-Hans")."""
    language = (language or translation.get_language() or "en").lower()
    return "zh-Hans" if language.startswith("zh") else "en"


def parse_line_ids(text: str) -> list[str] | None:
    """ "1, 2 3" → ["1", "2", "3"]; empty → None (every line)."""
    ids = [part for part in text.replace(",", " ").split() if part]
    return ids or None


def find_order(external_id: str) -> OrderRecord:
    record = read_record(BY_ID, external_id.strip())
    if record is None:
        raise DryRunError(_("There is no order %(order)s.") % {"order": external_id})
    return record


def dry_run(policy: Policy, record: OrderRecord, line_ids: list[str] | None, *,
            as_of: datetime) -> DryRun:
    facts = order_facts(record, refunds=refund_history(record.order))
    try:
        assessment = assess(policy, facts, as_of=as_of, lines=line_ids)
    except (AssessmentError, PolicyError) as error:
        raise DryRunError(str(error)) from None
    locale = engine_locale()
    result = assessment.to_dict(locale)
    language = translation.get_language() or "en"
    by_id = {line.line_id: line for line in record.lines}
    lines = []
    for figures in result["lines"]:
        line = by_id.get(figures["id"])
        lines.append({
            **figures, "sku": line.sku if line else "",
            "product": line.product.name_for(language) if line else "",
            # Named as the explanation names them, in the viewer's language.
            "rule_name": rule_name(figures["rule"], locale, policy) if figures["rule"] else "",
            "excluded_text": (reason_text(figures["excluded"], locale, policy)
                              if figures["excluded"] else ""),
        })
    allocation = [{**entry, "method_name": _named(METHODS, entry["method"], locale),
                   "destination_name": _named(DESTINATIONS, entry["destination"], locale)}
                  for entry in result["allocation"]]
    return DryRun(order=record.order, assessment=result, lines=lines, allocation=allocation)


def _named(table: dict[str, tuple[str, str]], code: str, locale: str) -> str:
    names = table.get(code)
    if names is None:
        return code
    return names[1] if locale == "zh-Hans" else names[0]
