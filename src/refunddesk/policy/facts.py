"""The order facts as the engine reads them: plain values, parsed once per assessment.

The Django side validates imported orders thoroughly (billing.order_facts); this reader
only converts, and names the field when something it needs is missing or malformed, so
`refunddesk assess` on a hand-written file fails with a message rather than a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from refunddesk.policy.money import (
    TEN_TO_THE,
    MoneyError,
    check_currency,
    minor_digits,
    parse_amount,
)


class FactsError(ValueError):
    pass


@dataclass(slots=True)
class PaymentFacts:
    id: str
    method: str
    funding: str
    amount: int


@dataclass(slots=True)
class UsageFacts:
    metric: str
    quantity: Decimal
    period_start: datetime


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
    current_price: int | None

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
    amount: int | None
    currency: str | None


@dataclass(slots=True)
class OrderHistory:
    id: str
    product: str
    kind: str
    placed_at: datetime


@dataclass(slots=True)
class OrderFacts:
    id: str
    kind: str
    channel: str
    placed_at: datetime
    currency: str
    invoiced: bool
    lines: list[LineFacts]
    payments: list[PaymentFacts]
    refunds: list[RefundHistory]
    orders: list[OrderHistory]


def _field(data: Any, key: str, path: str) -> Any:
    try:
        return data[key]
    except (KeyError, TypeError):
        raise FactsError(f"{path}{key}: missing") from None


def _time(value: Any, path: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise FactsError(f"{path}: not an ISO 8601 date and time") from None
    if moment.tzinfo is None:
        raise FactsError(f"{path}: needs a UTC offset")
    return moment


def _optional_time(data: dict[str, Any], key: str, path: str) -> datetime | None:
    value = data.get(key)
    return None if value is None else _time(value, f"{path}{key}")


def _amount(value: Any, currency: str, path: str) -> int:
    try:
        return parse_amount(value, currency)
    except MoneyError as error:
        raise FactsError(f"{path}: {error}") from None


def read_facts(data: Any) -> OrderFacts:
    """The facts of one order, or FactsError naming the field at fault.

    Well-formed facts take a direct path (this runs for every quote); anything it trips on
    is read again field by field, which names the problem.
    """
    try:
        return _read_well_formed(data)
    except Exception:
        return _read_carefully(data)


def _read_well_formed(data: dict[str, Any]) -> OrderFacts:
    currency = data["currency"]
    digits = minor_digits(currency)
    history = data.get("history") or {}
    return OrderFacts(
        id=str(data["id"]),
        kind=str(data["kind"]),
        channel=str(data.get("channel", "direct")),
        placed_at=_aware(data["placed_at"]),
        currency=currency,
        invoiced=bool(data.get("invoiced", False)),
        lines=[_line_well_formed(item, digits) for item in data["lines"]] or _no_lines(),
        payments=[
            PaymentFacts(str(p["id"]), str(p["method"]), _well_formed_funding(p["funding"]),
                         _minor(p["amount"], digits))
            for p in data.get("payments") or ()
        ],
        refunds=[_refund(item, f"history.refunds[{i}].")
                 for i, item in enumerate(history.get("refunds") or ())],
        orders=[OrderHistory(str(o["id"]), str(o["product"]), str(o.get("kind", "new")),
                             _aware(o["placed_at"])) for o in history.get("orders") or ()],
    )


def _no_lines() -> list[LineFacts]:
    raise ValueError("an order has at least one line")


def _aware(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError("naive")
    return moment


def _minor(text: str, digits: int) -> int:
    # Only the plain shape "960.00" / "960"; anything else goes to the careful reader.
    if digits and len(text) > digits + 1 and text[-digits - 1] == ".":
        whole, fraction = text[:-digits - 1], text[-digits:]
        if whole.isdigit() and fraction.isdigit() and text.isascii():
            return int(whole) * TEN_TO_THE[digits] + int(fraction)
    whole, dot, fraction = text.partition(".")
    if not (whole.isdigit() and whole.isascii() and len(fraction) <= digits
            and (not dot or (fraction.isdigit() and fraction.isascii()))):
        raise ValueError("not plain")
    return int(whole) * TEN_TO_THE[digits] + (int(fraction) * TEN_TO_THE[digits - len(fraction)]
                                      if fraction else 0)


def _well_formed_funding(value: str) -> str:
    if value not in FUNDINGS:
        raise ValueError("funding")
    return value


def _line_well_formed(data: dict[str, Any], digits: int) -> LineFacts:
    if data.get("usage"):
        raise ValueError("usage is read carefully")
    term = data.get("term")
    start = data.get("service_start")
    end = data.get("service_end")
    current = data.get("current_price")
    paid = _minor(data["amount_paid"], digits)
    list_price = data.get("list_price")
    return LineFacts(
        id=str(data["id"]), sku=str(data.get("sku", "")), product=str(data["product"]),
        category=str(data.get("category", "")), billing=str(data["billing"]),
        term_unit=term["unit"] if term else None, term_count=term["count"] if term else None,
        start=_aware(start) if start else None, end=_aware(end) if end else None,
        list_price=paid if list_price is None else _minor(list_price, digits),
        amount_paid=paid, flags=frozenset(data.get("flags") or ()), usage=[],
        current_price=None if current is None else _minor(current, digits),
    )


def _read_carefully(data: Any) -> OrderFacts:
    if not isinstance(data, dict):
        raise FactsError("the order must be a JSON object")
    try:
        currency = check_currency(_field(data, "currency", ""))
    except MoneyError as error:
        raise FactsError(f"currency: {error}") from None
    lines = [_line(item, currency, f"lines[{i}].")
             for i, item in enumerate(_field(data, "lines", ""))]
    if not lines:
        raise FactsError("lines: an order has at least one line")
    payments = [
        PaymentFacts(
            id=str(_field(p, "id", f"payments[{i}].")),
            method=str(_field(p, "method", f"payments[{i}].")),
            funding=_funding(_field(p, "funding", f"payments[{i}]."), f"payments[{i}].funding"),
            amount=_amount(_field(p, "amount", f"payments[{i}]."), currency,
                           f"payments[{i}].amount"),
        )
        for i, p in enumerate(data.get("payments") or [])
    ]
    history = data.get("history") or {}
    return OrderFacts(
        id=str(_field(data, "id", "")),
        kind=str(_field(data, "kind", "")),
        channel=str(data.get("channel", "direct")),
        placed_at=_time(_field(data, "placed_at", ""), "placed_at"),
        currency=currency,
        invoiced=bool(data.get("invoiced", False)),
        lines=lines,
        payments=payments,
        refunds=[_refund(item, f"history.refunds[{i}].")
                 for i, item in enumerate(history.get("refunds") or [])],
        orders=[
            OrderHistory(id=str(_field(o, "id", f"history.orders[{i}].")),
                         product=str(_field(o, "product", f"history.orders[{i}].")),
                         kind=str(o.get("kind", "new")),
                         placed_at=_time(_field(o, "placed_at", f"history.orders[{i}]."),
                                         f"history.orders[{i}].placed_at"))
            for i, o in enumerate(history.get("orders") or [])
        ],
    )


FUNDINGS = ("cash", "balance", "gift", "voucher")


def _funding(value: Any, path: str) -> str:
    if value not in FUNDINGS:
        raise FactsError(f"{path}: {value!r} is not one of {', '.join(FUNDINGS)}")
    return str(value)


def _line(data: Any, currency: str, path: str) -> LineFacts:
    term = data.get("term") if isinstance(data, dict) else None
    usage = []
    for i, item in enumerate(data.get("usage") or [] if isinstance(data, dict) else []):
        try:
            quantity = Decimal(_field(item, "quantity", f"{path}usage[{i}]."))
        except (InvalidOperation, TypeError):
            raise FactsError(f"{path}usage[{i}].quantity: not a decimal number") from None
        usage.append(UsageFacts(
            metric=str(_field(item, "metric", f"{path}usage[{i}].")), quantity=quantity,
            period_start=_time(_field(item, "period_start", f"{path}usage[{i}]."),
                               f"{path}usage[{i}].period_start")))
    current = data.get("current_price")
    return LineFacts(
        id=str(_field(data, "id", path)),
        sku=str(data.get("sku", "")),
        product=str(_field(data, "product", path)),
        category=str(data.get("category", "")),
        billing=str(_field(data, "billing", path)),
        term_unit=term.get("unit") if isinstance(term, dict) else None,
        term_count=term.get("count") if isinstance(term, dict) else None,
        start=_optional_time(data, "service_start", path),
        end=_optional_time(data, "service_end", path),
        list_price=_amount(data.get("list_price", data.get("amount_paid")), currency,
                           f"{path}list_price"),
        amount_paid=_amount(_field(data, "amount_paid", path), currency, f"{path}amount_paid"),
        flags=frozenset(data.get("flags") or ()),
        usage=usage,
        current_price=None if current is None else _amount(current, currency,
                                                            f"{path}current_price"),
    )


def _refund(data: Any, path: str) -> RefundHistory:
    amount = data.get("amount")
    currency = data.get("currency")
    return RefundHistory(
        at=_time(_field(data, "at", path), f"{path}at"),
        product=str(data.get("product", "")),
        rule=str(data.get("rule", "")),
        amount=None if amount is None or currency is None else _amount(amount, currency,
                                                                       f"{path}amount"),
        currency=currency,
    )
