"""The live quote of a choice of lines, as the quote panel shows it to the customer and to
the agent applying on a caller's behalf."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from refunddesk.billing.models import Order
from refunddesk.billing.order_records import record_of
from refunddesk.cases.actions.submission import lines_without_policy_message
from refunddesk.cases.assessing import LinesWithoutPolicy, assess_groups
from refunddesk.cases.presenting import present_groups
from refunddesk.policy.assessment import AssessmentError


def quote_context(order: Order, line_ids: list[str], language: str) -> dict[str, Any]:
    """What the quote panel shows for these lines, assessed now: one group per refund
    policy, each the case it would become."""
    if not line_ids:
        return {"grouped_quote": None, "quote_problem": ""}
    now = timezone.now()
    record = record_of(order)
    try:
        quotes = assess_groups(record, line_ids, as_of=now)
    except LinesWithoutPolicy as error:
        return {"grouped_quote": None,
                "quote_problem": lines_without_policy_message(error.line_ids)}
    except AssessmentError as error:
        return {"grouped_quote": None, "quote_problem": str(error)}
    return {"grouped_quote": present_groups(record, quotes, language=language, now=now),
            "quote_problem": ""}
