"""The order-facts format (DESIGN.md): reading it, checking it, and its canonical form.

`read_order(obj)` turns one decoded JSON object into a `ParsedOrder` or raises
`OrderFactsError` listing every problem with the JSON path of the field at fault
(`payments[0].amount: not a decimal amount`). Nothing here touches the database; the
importer takes a ParsedOrder and writes it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from refunddesk.billing.models import (
    BillingMode,
    Category,
    Funding,
    OrderKind,
    PaymentMethod,
    SalesChannel,
    TermUnit,
)
from refunddesk.policy.money import MoneyError, check_currency, format_amount, parse_amount

# Methods whose money is not cash; every other method is paid in cash.
FUNDING_OF_METHOD = {
    PaymentMethod.BALANCE: Funding.BALANCE,
    PaymentMethod.VOUCHER: Funding.VOUCHER,
    PaymentMethod.GIFT: Funding.GIFT,
}


@dataclass(frozen=True)
class Problem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class OrderFactsError(ValueError):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


@dataclass(frozen=True)
class ParsedAccount:
    external_id: str
    email: str
    name: str
    phone: str
    created_at: datetime


@dataclass(frozen=True)
class ParsedUsage:
    metric: str
    quantity: Decimal
    unit: str
    period_start: datetime
    period_end: datetime


@dataclass(frozen=True)
class ParsedLine:
    line_id: str
    sku: str
    product: str
    category: str
    billing: str
    term_unit: str
    term_count: int | None
    service_start: datetime | None
    service_end: datetime | None
    list_price_minor: int
    amount_paid_minor: int
    flags: tuple[str, ...]
    usage: tuple[ParsedUsage, ...] = ()


@dataclass(frozen=True)
class ParsedPayment:
    payment_id: str
    method: str
    funding: str
    amount_minor: int
    paid_at: datetime | None
    gateway: str
    reference: str


@dataclass(frozen=True)
class ParsedOrder:
    external_id: str
    account: ParsedAccount
    kind: str
    channel: str
    placed_at: datetime
    currency: str
    is_invoiced: bool
    lines: tuple[ParsedLine, ...]
    payments: tuple[ParsedPayment, ...] = field(default=())

    def digest(self) -> str:
        """A fingerprint of the content, so an unchanged re-import can be skipped.

        The repr of these frozen dataclasses is a complete, deterministic rendering, and
        cheap: times are held in UTC and quantities normalised, so the same order written
        with another offset or "12.50" for "12.5" has the same digest.
        """
        return hashlib.sha256(repr(self).encode()).hexdigest()


ORDER_KEYS = {"id", "account", "kind", "channel", "placed_at", "currency", "invoiced", "lines",
              "payments", "history"}
ACCOUNT_KEYS = {"id", "email", "name", "phone", "created_at"}
LINE_KEYS = {"id", "sku", "product", "category", "billing", "term", "service_start",
             "service_end", "list_price", "amount_paid", "flags", "currency", "usage"}
PAYMENT_KEYS = {"id", "method", "funding", "amount", "paid_at", "gateway", "reference",
                "currency"}
USAGE_KEYS = {"metric", "quantity", "unit", "period_start", "period_end"}


class _Reader:
    """Collects problems while reading, so one pass reports all of them."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def obj(self, value: object, path: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(path, "expected an object")
            return {}
        for key in sorted(set(value) - allowed):
            self.fail(_join(path, key), "unknown field")
        return value

    def text(self, data: dict[str, Any], key: str, path: str, *, required: bool = True,
             max_length: int = 64) -> str:
        value = data.get(key)
        if value is None or value == "":
            if required:
                self.fail(_join(path, key), "required")
            return ""
        if not isinstance(value, str):
            self.fail(_join(path, key), "expected a string")
            return ""
        if len(value) > max_length:
            self.fail(_join(path, key), f"longer than {max_length} characters")
            return ""
        return value

    def choice(self, data: dict[str, Any], key: str, path: str, choices: type,
               default: str | None = None) -> str:
        value = data.get(key, default)
        allowed = [c.value for c in choices]  # type: ignore[attr-defined]
        if value not in allowed:
            shown = "missing" if value is None else repr(value)
            self.fail(_join(path, key), f"{shown} is not one of {', '.join(allowed)}")
            return ""
        return str(value)

    def moment(self, data: dict[str, Any], key: str, path: str, *,
               required: bool = True) -> datetime | None:
        value = data.get(key)
        if value is None:
            if required:
                self.fail(_join(path, key), "required")
            return None
        try:
            if not isinstance(value, str):
                raise ValueError
            moment = datetime.fromisoformat(value)
        except ValueError:
            self.fail(_join(path, key), "not an ISO 8601 date and time")
            return None
        if moment.tzinfo is None:
            self.fail(_join(path, key), "needs a UTC offset, like 2026-03-01T10:00:00+08:00")
            return None
        return moment.astimezone(UTC)

    def amount(self, data: dict[str, Any], key: str, path: str, currency: str) -> int | None:
        """Minor units, or None when there is no amount to give (its problem is reported)."""
        if key not in data:
            self.fail(_join(path, key), "required")
            return None
        if not currency:
            return None  # the currency's own problem is already reported
        try:
            return parse_amount(data[key], currency)
        except MoneyError as error:
            self.fail(_join(path, key), str(error))
            return None

    def same_currency(self, data: dict[str, Any], path: str, currency: str) -> None:
        if "currency" in data and currency and data["currency"] != currency:
            self.fail(_join(path, "currency"),
                      f"{data['currency']} differs from the order's currency {currency}")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def read_order(value: object) -> ParsedOrder:
    """Check one order-facts object; return it parsed or raise OrderFactsError."""
    r = _Reader()
    data = r.obj(value, "", ORDER_KEYS)
    if not data:
        raise OrderFactsError(r.problems or [Problem("", "empty order")])
    currency = ""
    if "currency" not in data:
        r.fail("currency", "required")
    else:
        try:
            currency = check_currency(data["currency"])
        except MoneyError as error:
            r.fail("currency", str(error))
    invoiced = data.get("invoiced", False)
    if not isinstance(invoiced, bool):
        r.fail("invoiced", "expected true or false")
    order = dict(
        external_id=r.text(data, "id", ""),
        account=_read_account(r, data.get("account")),
        kind=r.choice(data, "kind", "", OrderKind),
        channel=r.choice(data, "channel", "", SalesChannel, default=SalesChannel.DIRECT),
        placed_at=r.moment(data, "placed_at", ""),
        currency=currency,
        is_invoiced=invoiced is True,
        lines=_read_list(r, data, "lines", lambda item, path: _read_line(r, item, path, currency)),
        payments=_read_list(r, data, "payments",
                            lambda item, path: _read_payment(r, item, path, currency),
                            allow_empty=True),
    )
    _check_ids_unique(r, order["lines"], "lines", "line_id")
    _check_ids_unique(r, order["payments"], "payments", "payment_id")
    if not r.problems:
        paid = sum(p.amount_minor for p in order["payments"])
        owed = sum(line.amount_paid_minor for line in order["lines"])
        if paid != owed:
            r.fail("payments", f"add up to {_shown(paid, currency)} but the lines' amount_paid "
                               f"add up to {_shown(owed, currency)}")
    if r.problems:
        raise OrderFactsError(r.problems)
    return ParsedOrder(**order)  # type: ignore[arg-type]


def _shown(minor: int, currency: str) -> str:
    return f"{format_amount(minor, currency)} {currency}"


def _read_list(r: _Reader, data: dict[str, Any], key: str, read_item: Any, *,
               allow_empty: bool = False) -> tuple[Any, ...]:
    items = data.get(key)
    if items is None and allow_empty:
        return ()
    if not isinstance(items, list) or (not items and not allow_empty):
        r.fail(key, "expected a list with at least one item" if not allow_empty
               else "expected a list")
        return ()
    parsed = [read_item(item, f"{key}[{index}]") for index, item in enumerate(items)]
    return tuple(item for item in parsed if item is not None)


def _check_ids_unique(r: _Reader, items: tuple[Any, ...], key: str, attribute: str) -> None:
    seen: set[str] = set()
    for index, item in enumerate(items):
        ident = getattr(item, attribute)
        if ident in seen:
            r.fail(f"{key}[{index}].id", f"{ident!r} appears twice in this order")
        seen.add(ident)


def _read_account(r: _Reader, value: object) -> ParsedAccount | None:
    data = r.obj(value, "account", ACCOUNT_KEYS)
    if not data:
        if isinstance(value, dict):
            r.fail("account", "required")
        return None
    email = r.text(data, "email", "account", max_length=254)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            r.fail("account.email", "not an e-mail address")
    created_at = r.moment(data, "created_at", "account")
    return ParsedAccount(
        external_id=r.text(data, "id", "account"),
        email=email.strip().lower() if email else "",
        name=r.text(data, "name", "account", max_length=200),
        phone=r.text(data, "phone", "account", required=False, max_length=32),
        created_at=created_at,  # type: ignore[arg-type]
    )


def _read_line(r: _Reader, value: object, path: str, currency: str) -> ParsedLine | None:
    data = r.obj(value, path, LINE_KEYS)
    if not data:
        return None
    r.same_currency(data, path, currency)
    billing = r.choice(data, "billing", path, BillingMode)
    term_unit, term_count = _read_term(r, data.get("term"), _join(path, "term"))
    start = r.moment(data, "service_start", path, required=billing != BillingMode.ONE_TIME)
    end = r.moment(data, "service_end", path, required=billing == BillingMode.PREPAID)
    if start and end and end <= start:
        r.fail(_join(path, "service_end"), "must be after service_start")
    if billing == BillingMode.PREPAID and not term_unit:
        r.fail(_join(path, "term"), "required for a prepaid line")
    flags = data.get("flags", [])
    if not isinstance(flags, list) or not all(isinstance(f, str) and f for f in flags):
        r.fail(_join(path, "flags"), "expected a list of strings")
        flags = []
    product = r.text(data, "product", path)
    if product and not _is_slug(product):
        r.fail(_join(path, "product"), "use letters, digits, '-', '_' or '.' only")
    usage = data.get("usage", [])
    if not isinstance(usage, list):
        r.fail(_join(path, "usage"), "expected a list")
        usage = []
    return ParsedLine(
        line_id=r.text(data, "id", path),
        sku=r.text(data, "sku", path, max_length=100),
        product=product,
        category=r.choice(data, "category", path, Category),
        billing=billing,
        term_unit=term_unit,
        term_count=term_count,
        service_start=start,
        service_end=end,
        list_price_minor=r.amount(data, "list_price", path, currency) or 0,
        amount_paid_minor=r.amount(data, "amount_paid", path, currency) or 0,
        flags=tuple(flags),
        usage=tuple(
            u for i, item in enumerate(usage)
            if (u := _read_usage(r, item, f"{path}.usage[{i}]")) is not None
        ),
    )


def _is_slug(value: str) -> bool:
    return all(ch.isascii() and (ch.isalnum() or ch in "-_.") for ch in value)


def _read_term(r: _Reader, value: object, path: str) -> tuple[str, int | None]:
    if value is None:
        return "", None
    data = r.obj(value, path, {"unit", "count"})
    unit = r.choice(data, "unit", path, TermUnit) if data else ""
    count = data.get("count")
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        r.fail(_join(path, "count"), "expected a whole number of at least 1")
        return unit, None
    return unit, count


def _read_payment(r: _Reader, value: object, path: str, currency: str) -> ParsedPayment | None:
    data = r.obj(value, path, PAYMENT_KEYS)
    if not data:
        return None
    r.same_currency(data, path, currency)
    method = r.choice(data, "method", path, PaymentMethod)
    funding = r.choice(data, "funding", path, Funding)
    if method and funding:
        expected = FUNDING_OF_METHOD.get(PaymentMethod(method), Funding.CASH)
        if funding != expected:
            r.fail(_join(path, "funding"), f"a {method} payment is funded by {expected.value}, "
                                           f"not {funding}")
    amount = r.amount(data, "amount", path, currency)
    if amount == 0:
        r.fail(_join(path, "amount"), "must be more than zero")
    return ParsedPayment(
        payment_id=r.text(data, "id", path),
        method=method,
        funding=funding,
        amount_minor=amount or 0,
        paid_at=r.moment(data, "paid_at", path, required=False),
        gateway=r.text(data, "gateway", path, required=False, max_length=32),
        reference=r.text(data, "reference", path, required=False, max_length=128),
    )


def _read_usage(r: _Reader, value: object, path: str) -> ParsedUsage | None:
    data = r.obj(value, path, USAGE_KEYS)
    if not data:
        return None
    quantity = Decimal(0)
    try:
        if not isinstance(data.get("quantity"), str):
            raise InvalidOperation
        quantity = Decimal(data["quantity"])
        if not quantity.is_finite() or quantity < 0:
            raise InvalidOperation
        quantity = quantity.normalize()
    except InvalidOperation:
        r.fail(_join(path, "quantity"), "expected a non-negative decimal string")
    start = r.moment(data, "period_start", path)
    end = r.moment(data, "period_end", path)
    if start and end and end <= start:
        r.fail(_join(path, "period_end"), "must be after period_start")
    return ParsedUsage(
        metric=r.text(data, "metric", path),
        quantity=quantity,
        unit=r.text(data, "unit", path, max_length=32),
        period_start=start,  # type: ignore[arg-type]
        period_end=end,  # type: ignore[arg-type]
    )
