"""A canned reply filled in for one case, in the case's language: the customer's name, the
case's amount (approved, else assessed) written by the one money formatter, and its
tracking number."""

from __future__ import annotations

from dataclasses import dataclass

from refunddesk.cases.models import RefundCase
from refunddesk.core.money import format_money
from refunddesk.replies.models import CannedReply
from refunddesk.replies.placeholders import AMOUNT, CUSTOMER_NAME, TRACKING_NUMBER, fill


@dataclass(frozen=True)
class FilledReply:
    pk: int
    title: str
    text: str


def values_for(case: RefundCase) -> dict[str, str]:
    minor = (case.approved_total_minor if case.approved_total_minor is not None
             else case.assessed_total_minor)
    return {
        CUSTOMER_NAME: case.account.name or case.account.email,
        AMOUNT: format_money(minor, case.currency, language=case.language),
        TRACKING_NUMBER: case.tracking_number,
    }


def filled(reply: CannedReply, case: RefundCase) -> str:
    return fill(reply.text_for(case.language), values_for(case))


def offered_for(case: RefundCase) -> list[FilledReply]:
    """Every reply agents are offered, filled in for `case`."""
    values = values_for(case)
    return [FilledReply(reply.pk, reply.title, fill(reply.text_for(case.language), values))
            for reply in CannedReply.objects.filter(is_active=True)]
