"""The case as integrators see it: what GET /api/v1/cases/{number} answers and what every
webhook's `data["case"]` carries, so an integration parses one shape. Amounts are decimal
strings in the currency's unit ("900.00", machine-readable, never formatted for people),
times ISO 8601 in UTC.

It lives here, below the API, because webhooks (webhook_events.py) are sent from inside the
actions' transactions, which must not reach up into a channel; api/schemas.py uses it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ninja import Field, Schema

from refunddesk.cases.models import CaseLine, RefundCase
from refunddesk.policy.money import format_amount

if TYPE_CHECKING:
    from refunddesk.payouts.models import Payout


class LineOut(Schema):
    id: str = Field(description="The order line's id in your billing system.")
    assessed: str = Field(description="What the policy gave this line.")
    approved: str | None = Field(None, description="What was approved, once decided.")
    rule: str = Field("", description="The policy rule that decided it.")
    service_ends_at: datetime | None = Field(
        None, description="When the approved refund stops this line's service (its "
                          "subscription no longer renews); null while undecided and for "
                          "lines whose service goes on.")


class PayoutOut(Schema):
    id: int
    destination: str = Field(description="original | balance | voucher | gift")
    amount: str
    currency: str
    state: str = Field(description="pending | submitted | succeeded | failed | "
                                   "requires_action | unknown")
    expected_at: datetime | None = None
    settled_at: datetime | None = None


class CaseOut(Schema):
    tracking_number: str
    state: str = Field(description="submitted | in_review | awaiting_customer | approved | "
                                   "paying | payout_failed | refunded | rejected | "
                                   "appealed | withdrawn | closed")
    channel: str
    account: str = Field(description="The account's id in your billing system.")
    order: str = Field(description="The order's id in your billing system.")
    currency: str
    assessed_total: str
    approved_total: str | None = None
    submitted_at: datetime
    decided_at: datetime | None = None
    info_due: datetime | None = Field(
        None, description="While the case is awaiting_customer: when the customer's answer "
                          "is due (POST /cases/{number}/answer).")
    requested_documents: list[str] = Field(
        default_factory=list,
        description="While the case is awaiting_customer: the kinds of document asked for "
                    "(payment_proof, identity_document, account_verification, usage_records, "
                    "problem_evidence, invoice_return, other).")
    lines: list[LineOut]
    payouts: list[PayoutOut]


def utc(moment: datetime | None) -> datetime | None:
    """Times in UTC, however they were computed (a due time counted in the policy's zone
    is the same moment): one spelling for clients that compare the text."""
    return None if moment is None else moment.astimezone(UTC)


# What the API shows of a case, a line and a payout, by column; case_out reads them from
# model instances, the status read (api/cases.py) straight from the database.
CASE_COLUMNS = ("tracking_number", "state", "channel", "currency", "assessed_total_minor",
                "approved_total_minor", "submitted_at", "decided_at", "info_due",
                "requested_documents")
LINE_COLUMNS = ("assessed_minor", "approved_minor", "rule", "service_ends_at")
PAYOUT_COLUMNS = ("id", "replaces_id", "destination", "amount_minor", "currency", "state",
                  "expected_at", "settled_at")


def case_out(case: RefundCase, *, lines: Iterable[CaseLine] | None = None,
             payouts: Iterable[Payout] | None = None) -> dict[str, Any]:
    """The case as the API shows it; its lines and payouts as given (an action shows what it
    has just written without reading it back), else as read from the database."""
    if lines is None:
        lines = case.lines.all()
    if payouts is None:
        payouts = case.payouts.all()
    return shown_case(
        {**{name: getattr(case, name) for name in CASE_COLUMNS},
         "account": case.account.external_id, "order": case.order.external_id},
        [{"line_id": line.order_line.line_id,
          **{name: getattr(line, name) for name in LINE_COLUMNS}} for line in lines],
        [{name: getattr(payout, name) for name in PAYOUT_COLUMNS} for payout in payouts])


def shown_case(case: dict[str, Any], lines: Sequence[dict[str, Any]],
               payouts: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """CaseOut from the columns: the case's (CASE_COLUMNS with the account's and order's
    ids), each line's (LINE_COLUMNS with its line_id) and each payout's."""
    currency = case["currency"]
    replaced = {payout["replaces_id"] for payout in payouts if payout["replaces_id"]}

    def money(minor: int | None) -> str | None:
        return None if minor is None else format_amount(minor, currency)

    return {
        "tracking_number": case["tracking_number"], "state": case["state"],
        "channel": case["channel"], "account": case["account"], "order": case["order"],
        "currency": currency,
        "assessed_total": money(case["assessed_total_minor"]),
        "approved_total": money(case["approved_total_minor"]),
        "submitted_at": utc(case["submitted_at"]), "decided_at": utc(case["decided_at"]),
        "info_due": utc(case["info_due"]),
        # The last request's list stays on the case for staff; it is asked only while
        # the case waits for the customer.
        "requested_documents": (list(case["requested_documents"] or [])
                                if case["state"] == "awaiting_customer" else []),
        "lines": [{"id": line["line_id"], "assessed": money(line["assessed_minor"]),
                   "approved": money(line["approved_minor"]), "rule": line["rule"],
                   "service_ends_at": utc(line["service_ends_at"])}
                  for line in lines],
        "payouts": [{"id": payout["id"], "destination": payout["destination"],
                     "amount": money(payout["amount_minor"]), "currency": payout["currency"],
                     "state": payout["state"], "expected_at": utc(payout["expected_at"]),
                     "settled_at": utc(payout["settled_at"])}
                    for payout in payouts if payout["id"] not in replaced],
    }
