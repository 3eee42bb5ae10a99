"""The order facts (DESIGN.md, "The order facts") as domain values, and their one reader.

`read_facts(obj)` turns one decoded JSON object into `OrderFacts` or raises `FactsError`
listing every problem it found, each with the path of the field at fault
(`payments[0].amount: not a decimal amount`). It is the only reader of the format: the
import (file, API, demo) and `refunddesk assess` go through it, and the billing mirror
builds the same values straight from its rows (billing.facts) instead of writing JSON for
this module to read again.

Reading is on the path of every quote, so the common case stays cheap: each field is
checked where it is read, and a problem's text is only made when there is a problem. Times
are held as instants in UTC, as the database gives them: moments that share their tzinfo
compare and subtract without asking each for its offset (write_facts writes them in a zone).
What only the billing mirror cares about (a valid e-mail address, its product categories)
is checked by the import on top of this (billing.order_facts).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from refunddesk.policy.money import MoneyError, format_amount, is_known_currency, parse_amount

# The values the format allows (billing.models holds the same as its choices; a test keeps
# the two lists equal).
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

_NO_FLAGS: frozenset[str] = frozenset()
_NO_HISTORY: dict[str, list[Any]] = {"refunds": [], "orders": []}


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


def read_facts(data: object) -> OrderFacts:
    """The facts of one order, or FactsError naming every field at fault."""
    problems: list[Problem] = []
    facts = _order(data, problems)
    if problems or facts is None:
        raise FactsError(problems or [Problem("", "empty order")])
    return facts


# -- one field ------------------------------------------------------------------------------


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _object(value: object, path: str, allowed: frozenset[str],
            problems: list[Problem]) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        problems.append(Problem(path, "expected an object"))
        return None
    if not allowed.issuperset(value):
        problems.extend(Problem(_at(path, str(key)), "unknown field")
                        for key in sorted(set(value) - allowed, key=str))
    return value


def _text(data: dict[str, Any], key: str, path: str, problems: list[Problem],
          max_length: int = 64, *, required: bool = True) -> str:
    value = data.get(key)
    if type(value) is str and 0 < len(value) <= max_length:
        return value
    if value is None or value == "":
        if required:
            problems.append(Problem(_at(path, key), "required"))
    elif not isinstance(value, str):
        problems.append(Problem(_at(path, key), "expected a string"))
    elif len(value) > max_length:
        problems.append(Problem(_at(path, key), f"longer than {max_length} characters"))
    else:
        return str(value)
    return ""


def _choice(data: dict[str, Any], key: str, path: str, problems: list[Problem],
            allowed: tuple[str, ...], default: str | None = None) -> str:
    value = data.get(key, default)
    if type(value) is str and value in allowed:
        return value
    shown = "missing" if value is None else repr(value)
    problems.append(Problem(_at(path, key), f"{shown} is not one of {', '.join(allowed)}"))
    return ""


def _moment(data: dict[str, Any], key: str, path: str, problems: list[Problem], *,
            required: bool = True) -> datetime | None:
    value = data.get(key)
    if value is None:
        if required:
            problems.append(Problem(_at(path, key), "required"))
        return None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if moment.tzinfo is not None:
                return moment.astimezone(UTC)
            problems.append(Problem(_at(path, key),
                                    "needs a UTC offset, like 2026-03-01T10:00:00+08:00"))
            return None
    problems.append(Problem(_at(path, key), "not an ISO 8601 date and time"))
    return None


def _amount(data: dict[str, Any], key: str, path: str, problems: list[Problem],
            currency: str, *, required: bool = True) -> int | None:
    """Minor units, or None when there is none to give (then its problem is reported)."""
    if key not in data:
        if required:
            problems.append(Problem(_at(path, key), "required"))
        return None
    if not currency:
        return None  # the currency's own problem is already reported
    try:
        return parse_amount(data[key], currency)
    except MoneyError as error:
        problems.append(Problem(_at(path, key), str(error)))
        return None


def _same_currency(data: dict[str, Any], path: str, problems: list[Problem],
                   currency: str) -> None:
    if "currency" in data and currency and data["currency"] != currency:
        problems.append(Problem(_at(path, "currency"), f"{data['currency']} differs from the "
                                                      f"order's currency {currency}"))


def _list(data: dict[str, Any], key: str, path: str, problems: list[Problem], *,
          at_least_one: bool = False) -> list[Any]:
    items = data.get(key)
    if type(items) is list and (items or not at_least_one):
        return items
    if items is None and not at_least_one:
        return []
    problems.append(Problem(_at(path, key), "expected a list with at least one item"
                            if at_least_one else "expected a list"))
    return []


@lru_cache(maxsize=1024)
def _is_slug(value: str) -> bool:
    # Cached: an order's products are few and repeat from order to order.
    return all(ch.isascii() and (ch.isalnum() or ch in "-_.") for ch in value)


# An order repeats its times and prices (lines bought together start and end together, a
# price without discount is the price paid): each text is converted once per order.
Seen = dict[str, Any]


def _aware(value: object, seen: Seen) -> datetime | None:
    """An ISO 8601 text with offset as the instant in UTC; None for anything else (the
    caller then asks _moment for the problem, if any)."""
    if type(value) is str:
        moment = seen.get(value)
        if moment is None:
            try:
                moment = datetime.fromisoformat(value)
            except ValueError:
                return None
            if moment.tzinfo is None:
                return None
            moment = seen[value] = moment.astimezone(UTC)
        return moment
    return None


def _money(value: object, currency: str, seen: Seen) -> int:
    """parse_amount, once per text and order."""
    if type(value) is not str:
        return parse_amount(value, currency)
    amount = seen.get(value)
    if amount is None:
        amount = seen[value] = parse_amount(value, currency)
    return amount


# -- the order and its parts ----------------------------------------------------------------
#
# Each part reads its fields in one pass: the plain case is checked inline, and only a field
# that fails it goes through the helpers above, which say what is wrong with it.


def _order(value: object, problems: list[Problem]) -> OrderFacts | None:
    data = _object(value, "", ORDER_KEYS, problems)
    if not data:
        return None
    get = data.get
    times: Seen = {}
    amounts: Seen = {}
    currency = get("currency")
    if type(currency) is not str or not is_known_currency(currency):
        if "currency" not in data:
            problems.append(Problem("currency", "required"))
        else:
            problems.append(Problem("currency", f"not an ISO 4217 currency code: {currency!r}"))
        currency = ""
    invoiced = get("invoiced", False)
    if type(invoiced) is not bool:
        problems.append(Problem("invoiced", "expected true or false"))
        invoiced = False
    order_id = get("id")
    if not (type(order_id) is str and 0 < len(order_id) <= 64):
        order_id = _text(data, "id", "", problems)
    account = _account(get("account"), problems, times)
    kind = get("kind")
    if kind not in KINDS or type(kind) is not str:
        kind = _choice(data, "kind", "", problems, KINDS)
    channel = get("channel", "direct")
    if channel not in CHANNELS or type(channel) is not str:
        channel = _choice(data, "channel", "", problems, CHANNELS, "direct")
    placed_at = _aware(get("placed_at"), times) or _moment(data, "placed_at", "", problems)
    items = get("lines")
    if type(items) is not list or not items:
        items = _list(data, "lines", "", problems, at_least_one=True)
    lines = [line for index, item in enumerate(items)
             if (line := _line(item, index, currency, problems, times, amounts)) is not None]
    items = get("payments")
    if type(items) is not list:
        items = _list(data, "payments", "", problems)
    payments = [payment for index, item in enumerate(items)
                if (payment := _payment(item, index, currency, problems, times, amounts))
                is not None]
    refunds: list[RefundHistory] = []
    orders: list[OrderHistory] = []
    history = get("history")
    if history is not None and history != _NO_HISTORY:
        refunds, orders = _history(history, problems)
    _unique([line.id for line in lines], "lines", problems)
    _unique([payment.id for payment in payments], "payments", problems)
    if problems or account is None or placed_at is None:
        return None
    paid = sum([payment.amount for payment in payments])
    owed = sum([line.amount_paid for line in lines])
    if paid != owed:
        problems.append(Problem("payments", payments_mismatch(paid, owed, currency)))
        return None
    return OrderFacts(order_id, account, kind, channel, placed_at, currency, invoiced, lines,
                      payments, refunds, orders)


def _unique(ids: list[str], key: str, problems: list[Problem]) -> None:
    if len(set(ids)) == len(ids):
        return
    seen: set[str] = set()
    for index, ident in enumerate(ids):
        if ident in seen:
            problems.append(Problem(f"{key}[{index}].id", f"{ident!r} appears twice in this "
                                                          "order"))
        seen.add(ident)


def _account(value: object, problems: list[Problem], times: Seen) -> AccountFacts | None:
    if type(value) is dict and ACCOUNT_KEYS.issuperset(value):
        get = value.get
        email, created, account_id, name, phone = (get("email"), get("created_at"), get("id"),
                                                   get("name"), get("phone"))
        if (type(email) is str and 0 < len(email) <= 254
                and type(account_id) is str and 0 < len(account_id) <= 64
                and type(name) is str and 0 < len(name) <= 200
                and (created_at := _aware(created, times)) is not None
                and (phone is None or (type(phone) is str and 0 < len(phone) <= 32))):
            return AccountFacts(account_id, email, name, created_at, phone or "")
    if value is None or value == {}:
        problems.append(Problem("account", "required"))
        return None
    data = _object(value, "account", ACCOUNT_KEYS, problems)
    if data is None:
        return None
    email = _text(data, "email", "account", problems, 254)
    created_at = _moment(data, "created_at", "account", problems)
    account_id = _text(data, "id", "account", problems)
    name = _text(data, "name", "account", problems, 200)
    phone = _text(data, "phone", "account", problems, 32, required=False)
    if created_at is None:
        return None
    return AccountFacts(account_id, email, name, created_at, phone)


def _line(value: object, index: int, currency: str, problems: list[Problem], times: Seen,
          amounts: Seen) -> LineFacts | None:
    if type(value) is not dict or not LINE_KEYS.issuperset(value):
        data = _object(value, f"lines[{index}]", LINE_KEYS, problems)
        if data is None:
            return None
    else:
        data = value
    get = data.get
    if "currency" in data:
        _same_currency(data, f"lines[{index}]", problems, currency)
    billing = get("billing")
    if billing not in BILLINGS or type(billing) is not str:
        billing = _choice(data, "billing", f"lines[{index}]", problems, BILLINGS)
    term = get("term")
    if term is None:
        term_unit = term_count = None
    elif (type(term) is dict and len(term) == 2 and term.get("unit") in TERM_UNITS
          and type(term_count := term.get("count")) is int and term_count > 0):
        term_unit = term["unit"]
    else:
        term_unit, term_count = _term(term, f"lines[{index}].term", problems)
    start = _aware(text := get("service_start"), times)
    if start is None and (text is not None or billing != "one_time"):
        start = _moment(data, "service_start", f"lines[{index}]", problems,
                        required=billing != "one_time")
    end = _aware(text := get("service_end"), times)
    if end is None and (text is not None or billing == "prepaid"):
        end = _moment(data, "service_end", f"lines[{index}]", problems,
                      required=billing == "prepaid")
    if start is not None and end is not None and end <= start:
        problems.append(Problem(f"lines[{index}].service_end", "must be after service_start"))
    if billing == "prepaid" and term_unit is None:
        problems.append(Problem(f"lines[{index}].term", "required for a prepaid line"))
    flags = get("flags")
    if not flags:
        flag_set = _NO_FLAGS
        if flags is not None and flags != []:
            problems.append(Problem(f"lines[{index}].flags", "expected a list of strings"))
    elif type(flags) is list and all(type(flag) is str and flag for flag in flags):
        flag_set = frozenset(flags)
    else:
        problems.append(Problem(f"lines[{index}].flags", "expected a list of strings"))
        flag_set = _NO_FLAGS
    product = get("product")
    if not (type(product) is str and 0 < len(product) <= 64):
        product = _text(data, "product", f"lines[{index}]", problems)
    if product and not _is_slug(product):
        problems.append(Problem(f"lines[{index}].product",
                                "use letters, digits, '-', '_' or '.' only"))
    usage_items = get("usage")
    if usage_items is not None and type(usage_items) is not list:
        usage_items = _list(data, "usage", f"lines[{index}]", problems)
    line_id = get("id")
    if not (type(line_id) is str and 0 < len(line_id) <= 64):
        line_id = _text(data, "id", f"lines[{index}]", problems)
    sku = get("sku")
    if not (type(sku) is str and 0 < len(sku) <= 100):
        sku = _text(data, "sku", f"lines[{index}]", problems, 100)
    category = get("category")
    if not (type(category) is str and 0 < len(category) <= 32):
        category = _text(data, "category", f"lines[{index}]", problems, 32)
    try:
        list_price: int | None = _money(get("list_price"), currency, amounts)
    except MoneyError:
        list_price = _amount(data, "list_price", f"lines[{index}]", problems, currency)
    try:
        amount_paid: int | None = _money(get("amount_paid"), currency, amounts)
    except MoneyError:
        amount_paid = _amount(data, "amount_paid", f"lines[{index}]", problems, currency)
    current_price = get("current_price")
    if current_price is not None:
        current_price = _amount(data, "current_price", f"lines[{index}]", problems, currency)
    usage = [record for number, item in enumerate(usage_items or ())
             if (record := _usage(item, f"lines[{index}].usage[{number}]", problems))
             is not None]
    if list_price is None or amount_paid is None:
        return None
    return LineFacts(line_id, sku, product, category, billing, term_unit, term_count, start,
                     end, list_price, amount_paid, flag_set, usage, current_price)


def _term(value: object, path: str, problems: list[Problem]) -> tuple[str | None, int | None]:
    data = _object(value, path, TERM_KEYS, problems)
    unit = _choice(data, "unit", path, problems, TERM_UNITS) if data else ""
    count = data.get("count") if data else None
    if type(count) is not int or count < 1:
        problems.append(Problem(_at(path, "count"), "expected a whole number of at least 1"))
        return unit or None, None
    return unit or None, count


def _usage(value: object, path: str, problems: list[Problem]) -> UsageFacts | None:
    data = _object(value, path, USAGE_KEYS, problems)
    if data is None:
        return None
    text = data.get("quantity")
    quantity = Decimal(0)
    try:
        if type(text) is not str:
            raise InvalidOperation
        quantity = Decimal(text)
        if not quantity.is_finite() or quantity < 0:
            raise InvalidOperation
        quantity = quantity.normalize()
    except InvalidOperation:
        problems.append(Problem(_at(path, "quantity"), "expected a non-negative decimal string"))
    start = _moment(data, "period_start", path, problems)
    end = _moment(data, "period_end", path, problems)
    if start is not None and end is not None and end <= start:
        problems.append(Problem(_at(path, "period_end"), "must be after period_start"))
    metric = _text(data, "metric", path, problems)
    unit = _text(data, "unit", path, problems, 32)
    if start is None:
        return None
    return UsageFacts(metric, quantity, start, unit, end)


def _payment(value: object, index: int, currency: str, problems: list[Problem], times: Seen,
             amounts: Seen) -> PaymentFacts | None:
    if type(value) is not dict or not PAYMENT_KEYS.issuperset(value):
        data = _object(value, f"payments[{index}]", PAYMENT_KEYS, problems)
        if data is None:
            return None
    else:
        data = value
    get = data.get
    if "currency" in data:
        _same_currency(data, f"payments[{index}]", problems, currency)
    method = get("method")
    if method not in METHODS or type(method) is not str:
        method = _choice(data, "method", f"payments[{index}]", problems, METHODS)
    funding = get("funding")
    if funding not in FUNDINGS or type(funding) is not str:
        funding = _choice(data, "funding", f"payments[{index}]", problems, FUNDINGS)
    if method and funding:
        expected = FUNDING_OF_METHOD.get(method, "cash")
        if funding != expected:
            problems.append(Problem(f"payments[{index}].funding",
                                    f"a {method} payment is funded by {expected}, not {funding}"))
    try:
        amount: int | None = _money(get("amount"), currency, amounts)
    except MoneyError:
        amount = _amount(data, "amount", f"payments[{index}]", problems, currency)
    if amount == 0:
        problems.append(Problem(f"payments[{index}].amount", "must be more than zero"))
    payment_id = get("id")
    if not (type(payment_id) is str and 0 < len(payment_id) <= 64):
        payment_id = _text(data, "id", f"payments[{index}]", problems)
    paid_at = get("paid_at")
    if paid_at is not None:
        paid_at = (_aware(paid_at, times)
                   or _moment(data, "paid_at", f"payments[{index}]", problems))
    gateway = get("gateway")
    if gateway is None:
        gateway = ""
    elif not (type(gateway) is str and 0 < len(gateway) <= 32):
        gateway = _text(data, "gateway", f"payments[{index}]", problems, 32, required=False)
    reference = get("reference")
    if reference is None:
        reference = ""
    elif not (type(reference) is str and 0 < len(reference) <= 128):
        reference = _text(data, "reference", f"payments[{index}]", problems, 128,
                          required=False)
    if amount is None:
        return None
    return PaymentFacts(payment_id, method, funding, amount, paid_at, gateway, reference)


def _history(value: object, problems: list[Problem]
             ) -> tuple[list[RefundHistory], list[OrderHistory]]:
    """The account's earlier refunds and orders, for `refunddesk assess` (in the application
    they come from the database)."""
    data = _object(value, "history", HISTORY_KEYS, problems)
    if data is None:
        return [], []
    refunds = [refund for index, item in enumerate(_list(data, "refunds", "history", problems))
               if (refund := _refund(item, f"history.refunds[{index}]", problems)) is not None]
    orders = [order for index, item in enumerate(_list(data, "orders", "history", problems))
              if (order := _earlier_order(item, f"history.orders[{index}]", problems))
              is not None]
    return refunds, orders


def _refund(value: object, path: str, problems: list[Problem]) -> RefundHistory | None:
    data = _object(value, path, REFUND_KEYS, problems)
    if data is None:
        return None
    at = _moment(data, "at", path, problems)
    product = _text(data, "product", path, problems, required=False)
    rule = _text(data, "rule", path, problems, required=False)
    amount = currency = None
    if data.get("amount") is not None and data.get("currency") is not None:
        currency = data["currency"]
        if type(currency) is str and is_known_currency(currency):
            amount = _amount(data, "amount", path, problems, currency)
        else:
            problems.append(Problem(_at(path, "currency"),
                                    f"not an ISO 4217 currency code: {currency!r}"))
    if at is None:
        return None
    return RefundHistory(at, product, rule, amount, currency if amount is not None else None)


def _earlier_order(value: object, path: str, problems: list[Problem]) -> OrderHistory | None:
    data = _object(value, path, EARLIER_ORDER_KEYS, problems)
    if data is None:
        return None
    order_id = _text(data, "id", path, problems)
    product = _text(data, "product", path, problems)
    kind = _choice(data, "kind", path, problems, KINDS, "new")
    placed_at = _moment(data, "placed_at", path, problems)
    if placed_at is None:
        return None
    return OrderHistory(order_id, product, kind, placed_at)


# -- the format written --------------------------------------------------------------------


def write_facts(facts: OrderFacts, tz: tzinfo) -> dict[str, Any]:
    """The facts in the order-facts format, times on the wall clock of `tz` with their
    offset: what read_facts reads back into equal facts."""

    def when(moment: datetime) -> str:
        return moment.astimezone(tz).isoformat()

    currency = facts.currency
    account = facts.account
    account_json: dict[str, Any] = {"id": account.id, "email": account.email,
                                    "name": account.name}
    if account.phone:
        account_json["phone"] = account.phone
    account_json["created_at"] = when(account.created_at)
    return {
        "id": facts.id,
        "account": account_json,
        "kind": facts.kind,
        "channel": facts.channel,
        "placed_at": when(facts.placed_at),
        "currency": currency,
        "invoiced": facts.invoiced,
        "lines": [_line_json(line, currency, when) for line in facts.lines],
        "payments": [
            {"id": p.id, "method": p.method, "funding": p.funding,
             "amount": format_amount(p.amount, currency),
             **({"paid_at": when(p.paid_at)} if p.paid_at else {}),
             **({"gateway": p.gateway} if p.gateway else {}),
             **({"reference": p.reference} if p.reference else {})}
            for p in facts.payments
        ],
        "history": {
            "refunds": [
                {"at": when(r.at), "product": r.product, "rule": r.rule,
                 **({"amount": format_amount(r.amount, r.currency), "currency": r.currency}
                    if r.amount is not None and r.currency else {})}
                for r in facts.refunds
            ],
            "orders": [{"id": o.id, "product": o.product, "kind": o.kind,
                        "placed_at": when(o.placed_at)} for o in facts.orders],
        },
    }


def _line_json(line: LineFacts, currency: str, when: Callable[[datetime], str]
               ) -> dict[str, Any]:
    json: dict[str, Any] = {
        "id": line.id, "sku": line.sku, "product": line.product, "category": line.category,
        "billing": line.billing,
        "term": ({"unit": line.term_unit, "count": line.term_count} if line.term_unit
                 else None),
        "service_start": when(line.start) if line.start else None,
        "service_end": when(line.end) if line.end else None,
        "list_price": format_amount(line.list_price, currency),
        "amount_paid": format_amount(line.amount_paid, currency),
        "flags": sorted(line.flags),
    }
    if line.current_price is not None:
        json["current_price"] = format_amount(line.current_price, currency)
    if line.usage:
        json["usage"] = [
            {"metric": u.metric, "quantity": format(u.quantity, "f"), "unit": u.unit,
             "period_start": when(u.period_start),
             **({"period_end": when(u.period_end)} if u.period_end else {})}
            for u in line.usage
        ]
    return json
