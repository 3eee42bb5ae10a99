"""The one reader of the order-facts format: `read_facts(obj)` turns one decoded JSON object
into OrderFacts or raises FactsError listing every problem it found, each with the path of
the field at fault (`payments[0].amount: not a decimal amount`).

The import (file, API, demo) and `refunddesk assess` go through it; the billing mirror
builds the same values straight from its rows (billing.facts). What only the mirror cares
about (a valid e-mail address, its product categories) the import checks on top of this
(billing.order_facts).

Reading is on the path of every quote made from JSON, so the common case stays cheap: each
part reads its fields in one pass, the plain case checked inline, and only a field that
fails it goes through the helpers of facts_fields, which say what is wrong with it.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from refunddesk.policy import facts_fields as field
from refunddesk.policy.facts import (
    ACCOUNT_KEYS,
    BILLINGS,
    CHANNELS,
    EARLIER_ORDER_KEYS,
    FUNDING_OF_METHOD,
    FUNDINGS,
    HISTORY_KEYS,
    KINDS,
    LINE_KEYS,
    METHODS,
    ORDER_KEYS,
    PAYMENT_KEYS,
    REFUND_KEYS,
    TERM_KEYS,
    TERM_UNITS,
    USAGE_KEYS,
    AccountFacts,
    FactsError,
    LineFacts,
    OrderFacts,
    OrderHistory,
    PaymentFacts,
    Problem,
    RefundHistory,
    UsageFacts,
    payments_mismatch,
)
from refunddesk.policy.facts_fields import Seen, aware, is_slug, money
from refunddesk.policy.money import MoneyError, is_known_currency

_NO_FLAGS: frozenset[str] = frozenset()
_NO_HISTORY: dict[str, list[Any]] = {"refunds": [], "orders": []}


def read_facts(data: object) -> OrderFacts:
    """The facts of one order, or FactsError naming every field at fault."""
    problems: list[Problem] = []
    facts = _order(data, problems)
    if problems or facts is None:
        raise FactsError(problems or [Problem("", "empty order")])
    return facts


def _order(value: object, problems: list[Problem]) -> OrderFacts | None:
    data = field.object_of(value, "", ORDER_KEYS, problems)
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
        order_id = field.text(data, "id", "", problems)
    account = _account(get("account"), problems, times)
    kind = get("kind")
    if kind not in KINDS or type(kind) is not str:
        kind = field.choice(data, "kind", "", problems, KINDS)
    channel = get("channel", "direct")
    if channel not in CHANNELS or type(channel) is not str:
        channel = field.choice(data, "channel", "", problems, CHANNELS, "direct")
    placed_at = aware(get("placed_at"), times) or field.moment(data, "placed_at", "", problems)
    items = get("lines")
    if type(items) is not list or not items:
        items = field.some_list(data, "lines", "", problems, at_least_one=True)
    lines = [line for index, item in enumerate(items)
             if (line := _line(item, index, currency, problems, times, amounts)) is not None]
    items = get("payments")
    if type(items) is not list:
        items = field.some_list(data, "payments", "", problems)
    payments = [payment for index, item in enumerate(items)
                if (payment := _payment(item, index, currency, problems, times, amounts))
                is not None]
    refunds: list[RefundHistory] = []
    orders: list[OrderHistory] = []
    history = get("history")
    if history is not None and history != _NO_HISTORY:
        refunds, orders = _history(history, problems)
    owed = paid = 0
    line_ids = set()
    for line in lines:
        owed += line.amount_paid
        line_ids.add(line.id)
    payment_ids = set()
    for payment in payments:
        paid += payment.amount
        payment_ids.add(payment.id)
    if len(line_ids) != len(lines):
        _unique([line.id for line in lines], "lines", problems)
    if len(payment_ids) != len(payments):
        _unique([payment.id for payment in payments], "payments", problems)
    if problems or account is None or placed_at is None:
        return None
    if paid != owed:
        problems.append(Problem("payments", payments_mismatch(paid, owed, currency)))
        return None
    return OrderFacts(order_id, account, kind, channel, placed_at, currency, invoiced, lines,
                      payments, refunds, orders)


def _unique(ids: list[str], key: str, problems: list[Problem]) -> None:
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
                and (created_at := aware(created, times)) is not None
                and (phone is None or (type(phone) is str and 0 < len(phone) <= 32))):
            return AccountFacts(account_id, email, name, created_at, phone or "")
    if value is None or value == {}:
        problems.append(Problem("account", "required"))
        return None
    data = field.object_of(value, "account", ACCOUNT_KEYS, problems)
    if data is None:
        return None
    email = field.text(data, "email", "account", problems, 254)
    created_at = field.moment(data, "created_at", "account", problems)
    account_id = field.text(data, "id", "account", problems)
    name = field.text(data, "name", "account", problems, 200)
    phone = field.text(data, "phone", "account", problems, 32, required=False)
    if created_at is None:
        return None
    return AccountFacts(account_id, email, name, created_at, phone)


def _part(value: object, keys: frozenset[str], part: str, index: int, currency: str,
          problems: list[Problem]) -> dict[str, Any] | None:
    """A line or payment as an object of known keys, or None (its problems noted). The
    common case is checked inline; only an unusual one pays for its path's text."""
    if type(value) is dict and keys.issuperset(value):
        data: dict[str, Any] | None = value
    else:
        data = field.object_of(value, f"{part}[{index}]", keys, problems)
    if data is not None and "currency" in data:
        field.same_currency(data, f"{part}[{index}]", problems, currency)
    return data


def _line(value: object, index: int, currency: str, problems: list[Problem], times: Seen,
          amounts: Seen) -> LineFacts | None:
    data = _part(value, LINE_KEYS, "lines", index, currency, problems)
    if data is None:
        return None
    get = data.get
    billing = get("billing")
    if billing not in BILLINGS or type(billing) is not str:
        billing = field.choice(data, "billing", f"lines[{index}]", problems, BILLINGS)
    term = get("term")
    if term is None:
        term_unit = term_count = None
    elif (type(term) is dict and len(term) == 2 and term.get("unit") in TERM_UNITS
          and type(term_count := term.get("count")) is int and term_count > 0):
        term_unit = term["unit"]
    else:
        term_unit, term_count = _term(term, f"lines[{index}].term", problems)
    start = aware(text := get("service_start"), times)
    if start is None and (text is not None or billing != "one_time"):
        start = field.moment(data, "service_start", f"lines[{index}]", problems,
                             required=billing != "one_time")
    end = aware(text := get("service_end"), times)
    if end is None and (text is not None or billing == "prepaid"):
        end = field.moment(data, "service_end", f"lines[{index}]", problems,
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
        product = field.text(data, "product", f"lines[{index}]", problems)
    if product and not is_slug(product):
        problems.append(Problem(f"lines[{index}].product",
                                "use letters, digits, '-', '_' or '.' only"))
    usage_items = get("usage")
    if usage_items is not None and type(usage_items) is not list:
        usage_items = field.some_list(data, "usage", f"lines[{index}]", problems)
    line_id = get("id")
    if not (type(line_id) is str and 0 < len(line_id) <= 64):
        line_id = field.text(data, "id", f"lines[{index}]", problems)
    sku = get("sku")
    if not (type(sku) is str and 0 < len(sku) <= 100):
        sku = field.text(data, "sku", f"lines[{index}]", problems, 100)
    category = get("category")
    if not (type(category) is str and 0 < len(category) <= 32):
        category = field.text(data, "category", f"lines[{index}]", problems, 32)
    try:
        list_price: int | None = money(get("list_price"), currency, amounts)
    except MoneyError:
        list_price = field.amount(data, "list_price", f"lines[{index}]", problems, currency)
    try:
        amount_paid: int | None = money(get("amount_paid"), currency, amounts)
    except MoneyError:
        amount_paid = field.amount(data, "amount_paid", f"lines[{index}]", problems, currency)
    current_price = get("current_price")
    if current_price is not None:
        current_price = field.amount(data, "current_price", f"lines[{index}]", problems, currency)
    usage = [] if not usage_items else [
        record for number, item in enumerate(usage_items)
        if (record := _usage(item, f"lines[{index}].usage[{number}]", problems)) is not None]
    if list_price is None or amount_paid is None:
        return None
    return LineFacts(line_id, sku, product, category, billing, term_unit, term_count, start,
                     end, list_price, amount_paid, flag_set, usage, current_price)


def _term(value: object, path: str, problems: list[Problem]) -> tuple[str | None, int | None]:
    data = field.object_of(value, path, TERM_KEYS, problems)
    unit = field.choice(data, "unit", path, problems, TERM_UNITS) if data else ""
    count = data.get("count") if data else None
    if type(count) is not int or count < 1:
        problems.append(Problem(field.at(path, "count"), "expected a whole number of at least 1"))
        return unit or None, None
    return unit or None, count


def _usage(value: object, path: str, problems: list[Problem]) -> UsageFacts | None:
    data = field.object_of(value, path, USAGE_KEYS, problems)
    if data is None:
        return None
    written = data.get("quantity")
    quantity = Decimal(0)
    try:
        if type(written) is not str:
            raise InvalidOperation
        quantity = Decimal(written)
        if not quantity.is_finite() or quantity < 0:
            raise InvalidOperation
        quantity = quantity.normalize()
    except InvalidOperation:
        problems.append(Problem(field.at(path, "quantity"),
                                "expected a non-negative decimal string"))
    start = field.moment(data, "period_start", path, problems)
    end = field.moment(data, "period_end", path, problems)
    if start is not None and end is not None and end <= start:
        problems.append(Problem(field.at(path, "period_end"), "must be after period_start"))
    metric = field.text(data, "metric", path, problems)
    unit = field.text(data, "unit", path, problems, 32)
    if start is None:
        return None
    return UsageFacts(metric, quantity, start, unit, end)


def _payment(value: object, index: int, currency: str, problems: list[Problem], times: Seen,
             amounts: Seen) -> PaymentFacts | None:
    data = _part(value, PAYMENT_KEYS, "payments", index, currency, problems)
    if data is None:
        return None
    get = data.get
    method = get("method")
    if method not in METHODS or type(method) is not str:
        method = field.choice(data, "method", f"payments[{index}]", problems, METHODS)
    funding = get("funding")
    if funding not in FUNDINGS or type(funding) is not str:
        funding = field.choice(data, "funding", f"payments[{index}]", problems, FUNDINGS)
    if method and funding:
        expected = FUNDING_OF_METHOD.get(method, "cash")
        if funding != expected:
            problems.append(Problem(f"payments[{index}].funding",
                                    f"a {method} payment is funded by {expected}, not {funding}"))
    try:
        amount: int | None = money(get("amount"), currency, amounts)
    except MoneyError:
        amount = field.amount(data, "amount", f"payments[{index}]", problems, currency)
    if amount == 0:
        problems.append(Problem(f"payments[{index}].amount", "must be more than zero"))
    payment_id = get("id")
    if not (type(payment_id) is str and 0 < len(payment_id) <= 64):
        payment_id = field.text(data, "id", f"payments[{index}]", problems)
    paid_at = get("paid_at")
    if paid_at is not None:
        paid_at = (aware(paid_at, times)
                   or field.moment(data, "paid_at", f"payments[{index}]", problems))
    gateway = get("gateway")
    if gateway is None:
        gateway = ""
    elif not (type(gateway) is str and 0 < len(gateway) <= 32):
        gateway = field.text(data, "gateway", f"payments[{index}]", problems, 32, required=False)
    reference = get("reference")
    if reference is None:
        reference = ""
    elif not (type(reference) is str and 0 < len(reference) <= 128):
        reference = field.text(data, "reference", f"payments[{index}]", problems, 128,
                               required=False)
    if amount is None:
        return None
    return PaymentFacts(payment_id, method, funding, amount, paid_at, gateway, reference)


def _history(value: object, problems: list[Problem]
             ) -> tuple[list[RefundHistory], list[OrderHistory]]:
    """The account's earlier refunds and orders, for `refunddesk assess` (in the application
    they come from the database)."""
    data = field.object_of(value, "history", HISTORY_KEYS, problems)
    if data is None:
        return [], []
    refunds = [refund for index, item
               in enumerate(field.some_list(data, "refunds", "history", problems))
               if (refund := _refund(item, f"history.refunds[{index}]", problems)) is not None]
    orders = [order for index, item
              in enumerate(field.some_list(data, "orders", "history", problems))
              if (order := _earlier_order(item, f"history.orders[{index}]", problems))
              is not None]
    return refunds, orders


def _refund(value: object, path: str, problems: list[Problem]) -> RefundHistory | None:
    data = field.object_of(value, path, REFUND_KEYS, problems)
    if data is None:
        return None
    at = field.moment(data, "at", path, problems)
    product = field.text(data, "product", path, problems, required=False)
    rule = field.text(data, "rule", path, problems, required=False)
    amount = currency = None
    if data.get("amount") is not None and data.get("currency") is not None:
        currency = data["currency"]
        if type(currency) is str and is_known_currency(currency):
            amount = field.amount(data, "amount", path, problems, currency)
        else:
            problems.append(Problem(field.at(path, "currency"),
                                    f"not an ISO 4217 currency code: {currency!r}"))
    if at is None:
        return None
    return RefundHistory(at, product, rule, amount, currency if amount is not None else None)


def _earlier_order(value: object, path: str, problems: list[Problem]) -> OrderHistory | None:
    data = field.object_of(value, path, EARLIER_ORDER_KEYS, problems)
    if data is None:
        return None
    order_id = field.text(data, "id", path, problems)
    product = field.text(data, "product", path, problems)
    kind = field.choice(data, "kind", path, problems, KINDS, "new")
    placed_at = field.moment(data, "placed_at", path, problems)
    if placed_at is None:
        return None
    return OrderHistory(order_id, product, kind, placed_at)


