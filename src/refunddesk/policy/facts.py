"""The order facts (DESIGN.md, "The order facts") as the policy's domain values.

One order's facts: its account, lines, payments, and the account's history of refunds
and orders, in minor units and aware moments. They are read from the order-facts JSON by
the one reader of the format (facts_reading.read_facts: the import, the API and
`refunddesk assess`), written back by facts_writing.write_facts, and built straight from
the billing mirror's rows by billing.facts, never through JSON. Times are held as instants
in UTC, as the database gives them: moments that share their tzinfo compare and subtract
without asking each for its offset.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from refunddesk.policy.money import format_amount

# The values the format allows (billing.models has them as its choices; a test keeps the
# two the same).
KINDS = ("new", "renewal", "upgrade")
CHANNELS = ("direct", "app_store", "google_play", "reseller")
BILLINGS = ("prepaid", "payg", "one_time")
TERM_UNITS = ("day", "month", "year")
FUNDINGS = ("cash", "balance", "gift", "voucher")
METHODS = ("alipay", "wechat_pay", "card", "paypal", "bank_transfer", "balance", "voucher",
           "gift", "app_store", "google_play")
# Methods whose money is not cash; every other method is paid in cash.
FUNDING_OF_METHOD = {"balance": "balance", "voucher": "voucher", "gift": "gift"}

ORDER_KEYS = frozenset({"id", "account", "kind", "channel", "placed_at", "currency",
                        "invoiced", "lines", "payments", "history"})
ACCOUNT_KEYS = frozenset({"id", "email", "name", "phone", "created_at"})
LINE_KEYS = frozenset({"id", "sku", "product", "category", "billing", "term", "service_start",
                       "service_end", "list_price", "amount_paid", "flags", "currency",
                       "usage", "current_price"})
TERM_KEYS = frozenset({"unit", "count"})
PAYMENT_KEYS = frozenset({"id", "method", "funding", "amount", "paid_at", "gateway",
                          "reference", "currency"})
USAGE_KEYS = frozenset({"metric", "quantity", "unit", "period_start", "period_end"})
HISTORY_KEYS = frozenset({"refunds", "orders"})
REFUND_KEYS = frozenset({"at", "product", "rule", "amount", "currency"})
EARLIER_ORDER_KEYS = frozenset({"id", "product", "kind", "placed_at"})



@dataclass(frozen=True, slots=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class FactsError(ValueError):
    """Order facts that cannot be read; `problems` name every field at fault."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(problem) for problem in problems))


@dataclass(slots=True)
class AccountFacts:
    id: str
    email: str
    name: str
    created_at: datetime
    phone: str = ""


@dataclass(slots=True)
class PaymentFacts:
    id: str
    method: str
    funding: str
    amount: int
    paid_at: datetime | None = None
    gateway: str = ""
    reference: str = ""


@dataclass(slots=True)
class UsageFacts:
    metric: str
    quantity: Decimal
    period_start: datetime
    unit: str = ""
    period_end: datetime | None = None


@dataclass(slots=True)
class LineFacts:
    id: str
    sku: str
    product: str
    category: str
    billing: str
    term_unit: str | None
    term_count: int | None
    start: datetime | None
    end: datetime | None
    list_price: int
    amount_paid: int
    flags: frozenset[str]
    usage: list[UsageFacts]
    current_price: int | None = None

    @property
    def term_months(self) -> int | None:
        if self.term_unit == "month":
            return self.term_count
        if self.term_unit == "year" and self.term_count:
            return self.term_count * 12
        return None


@dataclass(slots=True)
class RefundHistory:
    at: datetime
    product: str
    rule: str
    amount: int | None = None
    currency: str | None = None


@dataclass(slots=True)
class OrderHistory:
    id: str
    product: str
    kind: str
    placed_at: datetime


@dataclass(slots=True)
class OrderFacts:
    id: str
    account: AccountFacts
    kind: str
    channel: str
    placed_at: datetime
    currency: str
    invoiced: bool
    lines: list[LineFacts]
    payments: list[PaymentFacts]
    refunds: list[RefundHistory]
    orders: list[OrderHistory]


def payments_mismatch(paid: int, owed: int, currency: str) -> str:
    """What is wrong when the payments do not pay for the lines exactly."""
    return (f"add up to {format_amount(paid, currency)} {currency} but the lines' "
            f"amount_paid add up to {format_amount(owed, currency)} {currency}")


