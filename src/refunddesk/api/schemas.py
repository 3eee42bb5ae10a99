"""What the API reads and writes. Amounts are decimal strings in the currency's unit
("900.00"), times ISO 8601 with offset, as in the order-facts format."""

from __future__ import annotations

from typing import Annotated

from ninja import Field, Schema
from pydantic import AfterValidator

# The case's shape is shared with the webhooks and defined below both
# (notifications/case_shape.py); the API's modules read it from here.
from refunddesk.notifications.case_shape import CASE_COLUMNS as CASE_COLUMNS
from refunddesk.notifications.case_shape import LINE_COLUMNS as LINE_COLUMNS
from refunddesk.notifications.case_shape import PAYOUT_COLUMNS as PAYOUT_COLUMNS
from refunddesk.notifications.case_shape import CaseOut as CaseOut
from refunddesk.notifications.case_shape import LineOut as LineOut
from refunddesk.notifications.case_shape import PayoutOut as PayoutOut
from refunddesk.notifications.case_shape import case_out as case_out
from refunddesk.notifications.case_shape import shown_case as shown_case
from refunddesk.notifications.case_shape import utc as utc


def _without_nul(text: str) -> str:
    # PostgreSQL cannot store NUL in text: refused here as bad input, not a server error.
    if "\x00" in text:
        raise ValueError("must not contain the NUL character")
    return text


Text = Annotated[str, AfterValidator(_without_nul)]


class OpenedCasesOut(CaseOut):
    """The answer to opening cases: the first case, as before, and every case opened."""

    cases: list[CaseOut] = Field(
        description="Every case the request opened, in the order of the lines: one per "
                    "refund policy the lines fall under, each with its own tracking number "
                    "(one case when they fall under one policy). The first is the case "
                    "described by the fields beside this list.")


class CasePage(Schema):
    items: list[CaseOut]
    next_cursor: str | None = Field(
        None, description="Pass as `cursor` for the next page; null on the last page.")


class QuoteIn(Schema):
    order: Text = Field(description="The order's id in your billing system.",
                       min_length=1, max_length=64)
    lines: list[Text] = Field(description="The ids of the lines to refund.", min_length=1,
                             max_length=100)


class CaseIn(QuoteIn):
    account: Text = Field(description="The account's id in your billing system.",
                          min_length=1, max_length=64)
    reason: Text = Field("", description="Why the customer asks, in their words.",
                        max_length=4000)
    language: str = Field("zh-hans", description="The customer's language for e-mail: "
                          "zh-hans or en.", pattern="^(zh-hans|en)$")
