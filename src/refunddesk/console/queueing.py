"""The console queue as queries: which cases match the filters, one page of them in a sort
order, the counts per state. No HTTP here; the view turns a form into `Filters`.

Pages are keyset pages: a page starts after (or ends before) the sort key and id of a row,
so the database reads an index range from there instead of counting past every earlier row
(OFFSET), and a case added meanwhile never shifts a row onto a second page. Each state is
read on its own, along the (state, sort field, id) indexes of migration 0003, and the
states' runs are merged here: an index range per state stays fast with a million cases
whatever the mix of states, where one query over several states would sort them all.

The default order is the SLA: cases with a running clock by due time (overdue on top),
then the cases without one (waiting for the customer, decided) oldest first. Those are two
ranges of one state, read one after the other: (state, sla_due_at, id) and the partial
(state, submitted_at, id) index of the cases without a due time (cases migration 0010).

A search (`search_condition`) first finds the customers and orders whose name, e-mail,
phone or order id contain what was typed, along trigram indexes on PostgreSQL (billing
migration 0004; SQLite scans), and then their cases by id.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import Count, Exists, F, Func, OuterRef, Q, QuerySet, TextField, Value
from django.db.models.functions import Replace

from refunddesk.billing.models import Account, Order
from refunddesk.cases.models import CaseLine, RefundCase
from refunddesk.cases.sla import CLOCK_STATES
from refunddesk.cases.states import State
from refunddesk.cases.tracking import NotATrackingNumber, normalise

PAGE_SIZE = 50

# What the queue shows unless told otherwise: the cases the desk still has to decide.
OPEN_STATES: tuple[str, ...] = (State.SUBMITTED, State.IN_REVIEW, State.AWAITING_CUSTOMER,
                                State.APPEALED)
ALL_STATES: tuple[str, ...] = tuple(State.values)

# SLA filters. Only a case whose clock runs has a due time (cases/sla.py `next_due`), and
# only a case waiting for the customer has its clock paused; saying so lets the queue skip
# the other states' rows instead of reading them to find nothing.
OVERDUE, DUE_TODAY, PAUSED = "overdue", "due_today", "paused"
SLA_STATES: dict[str, frozenset[str]] = {
    OVERDUE: frozenset(CLOCK_STATES),
    DUE_TODAY: frozenset(CLOCK_STATES),
    PAUSED: frozenset({State.AWAITING_CUSTOMER}),
}

# An approval waits for its second person only where it can be confirmed: the approve
# transition leaves these states alone (and request_info refuses while one waits).
SECOND_APPROVAL_STATES = frozenset({State.IN_REVIEW, State.APPEALED})

ME, UNASSIGNED = "me", "unassigned"
# Customers or orders one search takes the cases of: a word as common as a surname alone
# matches thousands, and their cases would no longer be a handful to sort. The docs say
# to type more then.
SEARCH_LIMIT = 500
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_CURSOR_LENGTH = 200  # a real one is under 60 characters


@dataclass(frozen=True)
class Sort:
    field: str
    descending: bool = False
    # Cases without a value (no due time) come after every case with one.
    nulls_last: bool = False
    # What orders the cases without a value among themselves (their id when empty).
    nulls_by: str = ""


SORTS: dict[str, Sort] = {
    "due": Sort("sla_due_at", nulls_last=True, nulls_by="submitted_at"),
    "newest": Sort("submitted_at", descending=True),
    "oldest": Sort("submitted_at"),
    "amount_high": Sort("assessed_total_minor", descending=True),
    "amount_low": Sort("assessed_total_minor"),
}
DEFAULT_SORT = "due"
DATETIME_FIELDS = frozenset({"submitted_at", "sla_due_at"})


@dataclass(frozen=True, order=True)
class Unset:
    """The sort key of a case without a value of the sort field: its value of the sort's
    `nulls_by` field, which orders those cases among themselves."""

    by: Any


@dataclass(frozen=True)
class Filters:
    """What the queue is narrowed to. Empty values narrow nothing; `states` empty means
    every state."""

    states: tuple[str, ...] = OPEN_STATES
    channel: str = ""
    sla: str = ""
    currency: str = ""
    amount_min: int | None = None  # minor units of `currency`
    amount_max: int | None = None
    product: str = ""  # billing.Product code
    rule: str = ""  # CaseLine.rule
    assignee: str | int = ""  # "", ME, UNASSIGNED or a staff member's id
    is_escalated: bool = False
    is_awaiting_second_approval: bool = False
    # A tracking number, or part of a customer's name, e-mail or phone, or of an order id.
    search: str = ""


class InvalidCursor(ValueError):
    pass


@dataclass(frozen=True)
class Cursor:
    """A row's place in a sort order: its sort key and id. Opaque in the URL."""

    sort: str
    key: Any
    id: int

    def encode(self) -> str:
        key = ["u", _value_to_json(self.key.by)] if isinstance(self.key, Unset) \
            else _value_to_json(self.key)
        raw = json.dumps([self.sort, key, self.id], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        if len(text) > MAX_CURSOR_LENGTH:
            raise InvalidCursor("not a page link of this queue")
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            sort, key, case_id = json.loads(raw)
        except (binascii.Error, ValueError, TypeError, RecursionError):
            raise InvalidCursor("not a page link of this queue") from None
        if sort not in SORTS or type(case_id) is not int:
            raise InvalidCursor("not a page link of this queue")
        return cls(sort, _key_from_json(SORTS[sort], key), case_id)


def _value_to_json(value: Any) -> Any:
    if isinstance(value, datetime):
        return ["t", (value - EPOCH) // timedelta(microseconds=1)]
    return value


def _key_from_json(sort: Sort, key: Any) -> Any:
    if sort.nulls_last and isinstance(key, list) and len(key) == 2 and key[0] == "u":
        if not sort.nulls_by:
            raise InvalidCursor("not a page link of this queue")
        return Unset(_value_from_json(sort.nulls_by, key[1]))
    if key is None and sort.nulls_last and not sort.nulls_by:
        return None
    return _value_from_json(sort.field, key)


def _value_from_json(field_name: str, key: Any) -> Any:
    if field_name in DATETIME_FIELDS:
        if (isinstance(key, list) and len(key) == 2 and key[0] == "t"
                and type(key[1]) is int):
            try:
                return EPOCH + timedelta(microseconds=key[1])
            except OverflowError:
                pass
        raise InvalidCursor("not a page link of this queue")
    if type(key) is not int:
        raise InvalidCursor("not a page link of this queue")
    return key


@dataclass
class Page:
    cases: list[RefundCase]
    products: dict[int, list[ProductName]] = field(default_factory=dict)
    next: Cursor | None = None  # after the last row, when more rows follow
    previous: Cursor | None = None  # before the first row, when rows precede it
    is_first: bool = True
    sort: str = DEFAULT_SORT
    ids: list[int] = field(default_factory=list)


# -- filtering ----------------------------------------------------------------------------

def end_of_day(now: datetime, tz: tzinfo) -> datetime:
    """Midnight after `now` in `tz` (the viewer's time zone), as an aware datetime."""
    tomorrow = now.astimezone(tz).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(), tzinfo=tz)


def possible_states(filters: Filters) -> frozenset[str]:
    """The states in which a case can pass the filters other than the state filter."""
    possible = frozenset(ALL_STATES)
    if filters.sla in SLA_STATES:
        possible &= SLA_STATES[filters.sla]
    if filters.is_awaiting_second_approval:
        possible &= SECOND_APPROVAL_STATES
    return possible


def effective_states(filters: Filters) -> tuple[str, ...]:
    """The states a page has to read, in the order of the state table."""
    wanted = set(filters.states or ALL_STATES) & possible_states(filters)
    return tuple(state for state in ALL_STATES if state in wanted)


PHONE_SHAPE = re.compile(r"^\+?[\d\s()./-]+$")
PHONE_SEPARATORS = (" ", "-")  # how billing systems write phone numbers, besides digits
MIN_PHONE_DIGITS = 3
SHORT_SEARCH = 2  # characters; a trigram index needs three


def phone_digits() -> Func:
    """The account's phone without the separators people leave out when they type one.
    PostgreSQL indexes exactly this expression (billing migration 0004)."""
    first, *others = PHONE_SEPARATORS
    expression = Replace(F("phone"), Value(first), Value(""))
    for separator in others:
        expression = Replace(expression, Value(separator), Value(""))
    return expression


def short_grams(field_name: str) -> Func:
    """Every one- and two-character piece of the field, upper-cased: the function and GIN
    index of billing migration 0004, PostgreSQL only."""
    return Func(F(field_name), function="refunddesk_short_grams",
                output_field=ArrayField(TextField()))


def is_short(text: str) -> bool:
    """Too short for a trigram index, and too short to be part of an e-mail, phone or
    order id worth looking for: such a search looks at names only (a Chinese name is
    often two characters)."""
    return len(text) <= SHORT_SEARCH


def accounts_matching(text: str) -> QuerySet[Account]:
    """Accounts whose name, e-mail or phone contain `text`, ignoring case (and, for the
    phone, spaces and hyphens on either side); names only for a short `text`."""
    if is_short(text):
        if connection.vendor == "postgresql":
            # The django-stubs plugin reads a lookup on an alias as the plain Field's
            # (text `contains`, a str), not the alias's output field's: ArrayField's
            # `contains` takes a list, as here.
            return Account.objects.alias(grams=short_grams("name")).filter(
                grams__contains=[text.upper()])  # type: ignore[misc]
        return Account.objects.filter(name__icontains=text)
    found = Q(name__icontains=text)
    # An e-mail or phone holds no Chinese: skip reading them for what cannot be there.
    if text.isascii():
        found |= Q(email__icontains=text)
        digits = re.sub(r"\D", "", text)
        if PHONE_SHAPE.match(text) and len(digits) >= MIN_PHONE_DIGITS:
            found |= Q(phone_digits__contains=digits)
    return Account.objects.alias(phone_digits=phone_digits()).filter(found)


def search_condition(text: str) -> Q:
    """A tracking number (typed any way `normalise` forgives), or any part of a customer's
    name, e-mail or phone number or of an order id."""
    text = text.strip()
    try:
        return Q(tracking_number=normalise(text))
    except NotATrackingNumber:
        pass
    # The accounts or orders are looked up first, and the cases by their ids: a subquery
    # here would let the database prefer the state index and read every open case.
    accounts = list(accounts_matching(text).order_by().values_list("pk", flat=True)
                    [:SEARCH_LIMIT])
    orders = list(Order.objects.filter(external_id__icontains=text).order_by()
                  .values_list("pk", flat=True)[:SEARCH_LIMIT]
                  ) if text.isascii() and not is_short(text) else []
    return Q(account_id__in=accounts) | Q(order_id__in=orders)


def matching(filters: Filters, *, viewer: Any, now: datetime, tz: tzinfo
             ) -> QuerySet[RefundCase]:
    """Every case the filters let through, states aside (the counts per state need that)."""
    cases = RefundCase.objects.all()
    if filters.channel:
        cases = cases.filter(channel=filters.channel)
    possible = possible_states(filters)
    if len(possible) < len(ALL_STATES):
        cases = cases.filter(state__in=sorted(possible))
    if filters.sla == OVERDUE:
        cases = cases.filter(sla_due_at__lt=now)
    elif filters.sla == DUE_TODAY:
        cases = cases.filter(sla_due_at__gte=now, sla_due_at__lt=end_of_day(now, tz))
    elif filters.sla == PAUSED:
        cases = cases.filter(sla_paused_at__isnull=False)
    if filters.currency:
        cases = cases.filter(currency=filters.currency)
        if filters.amount_min is not None:
            cases = cases.filter(assessed_total_minor__gte=filters.amount_min)
        if filters.amount_max is not None:
            cases = cases.filter(assessed_total_minor__lte=filters.amount_max)
    if filters.product:
        cases = cases.filter(Exists(CaseLine.objects.filter(
            case=OuterRef("pk"), order_line__product__code=filters.product)))
    if filters.rule:
        cases = cases.filter(Exists(CaseLine.objects.filter(case=OuterRef("pk"),
                                                            rule=filters.rule)))
    if filters.assignee == ME:
        cases = cases.filter(assignee_id=viewer.pk)
    elif filters.assignee == UNASSIGNED:
        cases = cases.filter(assignee__isnull=True)
    elif filters.assignee:
        # Anything else is a staff member's id (the form gives it as an int already).
        cases = cases.filter(assignee_id=int(filters.assignee))
    if filters.is_escalated:
        cases = cases.filter(escalated_at__isnull=False)
    if filters.is_awaiting_second_approval:
        cases = cases.filter(proposal__isnull=False)
    if filters.search.strip():
        cases = cases.filter(search_condition(filters.search))
    return cases


# -- counting -----------------------------------------------------------------------------

# Counting stops past this many cases per state: a desk with a million finished cases
# never reads them all to say "more than 10,000".
COUNT_CAP = 10_000


def is_capped(count: int) -> bool:
    """Whether a count of `state_counts` (or a sum of them) means "more than COUNT_CAP"."""
    return count > COUNT_CAP


def state_counts(filters: Filters, *, viewer: Any, now: datetime, tz: tzinfo
                 ) -> dict[str, int]:
    """How many cases each state holds under the filters other than the state. Every state
    is in the result, with 0 when none; a state with more than COUNT_CAP says
    COUNT_CAP + 1 (`is_capped`). Each state is counted along its own index, at most
    COUNT_CAP + 1 rows of it; a search's few cases are counted in one GROUP BY."""
    counts = dict.fromkeys(ALL_STATES, 0)
    base = matching(filters, viewer=viewer, now=now, tz=tz).order_by()
    if filters.search.strip():
        for state, n in base.values_list("state").annotate(n=Count("pk")):
            counts[state] = min(n, COUNT_CAP + 1)
        return counts
    possible = possible_states(filters)
    for state in ALL_STATES:
        if state in possible:
            counts[state] = base.filter(state=state)[:COUNT_CAP + 1].count()
    return counts


@dataclass(frozen=True)
class Total:
    """How many cases the filters match, states included: exact up to `COUNT_CAP`, and
    past it only "more than" (`is_capped`)."""

    count: int
    is_capped: bool = False


def total_of(counts: dict[str, int], filters: Filters) -> Total:
    """The total under the pager ("1–50 of 1,234") from the counts per state."""
    found = sum(counts[state] for state in (filters.states or ALL_STATES))
    return Total(COUNT_CAP, is_capped=True) if is_capped(found) else Total(found)


def total_count(filters: Filters, *, viewer: Any, now: datetime, tz: tzinfo) -> Total:
    return total_of(state_counts(filters, viewer=viewer, now=now, tz=tz), filters)


def my_open_count(viewer: Any) -> int:
    """The viewer's own cases still to decide (the "my cases" chip)."""
    return RefundCase.objects.filter(assignee_id=viewer.pk, state__in=OPEN_STATES).count()


# -- paging -------------------------------------------------------------------------------

# A range of one state's rows: its condition, its order, and what to read of each row
# (the sort key and the id; rows without a value read the `nulls_by` field too).
Segment = tuple[Q, list[str], tuple[str, ...]]


def _beyond(field_name: str, key: Any, case_id: int, descending: bool) -> Q:
    """Rows after (key, id) in the given direction. Spelled as a range on the sort field
    plus a tie-break, so the index range starts at the cursor instead of at the top."""
    if descending:
        return Q(**{f"{field_name}__lte": key}) & (Q(**{f"{field_name}__lt": key})
                                                   | Q(id__lt=case_id))
    return Q(**{f"{field_name}__gte": key}) & (Q(**{f"{field_name}__gt": key})
                                               | Q(id__gt=case_id))


def segments(sort: Sort, cursor: Cursor | None, *, backwards: bool,
             has_values_only: bool = False) -> list[Segment]:
    """The index ranges one state's part of a page is read from, in page order.

    Rows without a sort value come last (SQLite sorts NULL first, PostgreSQL last, so
    neither's NULLS LAST is left to the database): rows with a value and rows without are
    two ranges, read one after the other. `has_values_only`: the filters already exclude
    rows without a value, so their range is not read at all."""
    name = sort.field
    descending = sort.descending != backwards
    order = [f"-{name}", "-id"] if descending else [name, "id"]
    read = (name, "id")
    if not sort.nulls_last:
        return [(_beyond(name, cursor.key, cursor.id, descending) if cursor else Q(), order,
                 read)]
    is_among_unset = cursor is not None and (cursor.key is None
                                             or isinstance(cursor.key, Unset))
    with_value: Segment | None = (
        Q(**{f"{name}__isnull": False}) if cursor is None or is_among_unset
        else _beyond(name, cursor.key, cursor.id, descending), order, read)
    by = sort.nulls_by
    unset_rows: Segment = (
        Q(**{f"{name}__isnull": True}),
        ([f"-{by}", "-id"] if backwards else [by, "id"]) if by
        else ["-id" if backwards else "id"],
        (name, by, "id") if by else read)
    without_value: Segment | None = unset_rows
    if cursor is not None and is_among_unset:
        # The cursor is among the rows without a value: forwards only they remain.
        if by:
            tie = _beyond(by, cursor.key.by, cursor.id, backwards)
        else:
            tie = Q(id__lt=cursor.id) if backwards else Q(id__gt=cursor.id)
        without_value = (unset_rows[0] & tie, *unset_rows[1:])
        if not backwards:
            with_value = None
    elif cursor is not None and backwards:
        without_value = None  # they all come after the cursor
    if has_values_only:
        without_value = None
    ranges = [without_value, with_value] if backwards else [with_value, without_value]
    return [segment for segment in ranges if segment is not None]


def partitions(filters: Filters) -> list[Q]:
    """One condition per state to read separately; a search finds a handful of cases by
    its own index, so it reads them all at once."""
    states = effective_states(filters)
    if not states:
        return []
    if filters.search.strip():
        return [Q(state__in=states)]
    return [Q(state=state) for state in states]


def keyset_querysets(filters: Filters, sort_name: str, *, viewer: Any, now: datetime,
                     tz: tzinfo, cursor: Cursor | None = None, backwards: bool = False,
                     limit: int = PAGE_SIZE + 1
                     ) -> list[list[QuerySet[RefundCase, tuple[Any, ...]]]]:
    """Per state, the queries (one per range) that read its part of a page: (sort key,
    id) pairs in page order. Lazy: nothing runs until iterated."""
    sort = SORTS[sort_name]
    base = matching(filters, viewer=viewer, now=now, tz=tz)
    has_values_only = sort.field == "sla_due_at" and filters.sla in (OVERDUE, DUE_TODAY)
    ranges = segments(sort, cursor, backwards=backwards, has_values_only=has_values_only)
    return [[base.filter(part, condition).order_by(*by).values_list(*read)[:limit]
             for condition, by, read in ranges]
            for part in partitions(filters)]


def _read(querysets: Sequence[QuerySet[RefundCase, tuple[Any, ...]]], limit: int
          ) -> list[tuple[Any, int]]:
    rows: list[tuple[Any, int]] = []
    for queryset in querysets:
        if len(rows) >= limit:
            break
        rows.extend(_as_key(row) for row in queryset[: limit - len(rows)])
    return rows


def _as_key(row: tuple[Any, ...]) -> tuple[Any, int]:
    """(sort key, id) of a row read; a row without a value read its `nulls_by` too."""
    if len(row) == 3:
        return Unset(row[1]), row[2]
    return row[0], row[1]


def _merge_key(sort: Sort) -> Any:
    if sort.nulls_last:
        def key(row: tuple[Any, int]) -> tuple[bool, Any, int]:
            value = row[0]
            if isinstance(value, Unset):
                return True, value.by, row[1]
            return value is None, value if value is not None else 0, row[1]
        return key
    return lambda row: (row[0], row[1])


def page_keys(filters: Filters, sort_name: str, *, viewer: Any, now: datetime, tz: tzinfo,
              cursor: Cursor | None = None, backwards: bool = False,
              size: int = PAGE_SIZE) -> list[tuple[Any, int]]:
    """Up to size + 1 (key, id) pairs after (or, backwards, before) the cursor, in page
    order (backwards: nearest the cursor first). The extra row tells whether more follow."""
    sort = SORTS[sort_name]
    runs: Iterable[list[tuple[Any, int]]] = (
        _read(querysets, size + 1)
        for querysets in keyset_querysets(filters, sort_name, viewer=viewer, now=now, tz=tz,
                                          cursor=cursor, backwards=backwards,
                                          limit=size + 1))
    merged = heapq.merge(*runs, key=_merge_key(sort), reverse=sort.descending != backwards)
    return [row for row, _ in zip(merged, range(size + 1), strict=False)]


# What a queue row shows; the rest of a case (its assessment and explanation above all)
# stays in the database.
ROW_FIELDS = (
    "tracking_number", "state", "channel", "currency", "assessed_total_minor",
    "approved_total_minor", "submitted_at", "sla_due_at", "sla_paused_at", "escalated_at",
    "deadlines_estimated",
    "appealed_at", "proposal", "assignee_id", "account__name", "account__email",
    "order__external_id", "assignee__username")


@dataclass(frozen=True)
class ProductName:
    code: str
    name_zh: str
    name_en: str

    def name_for(self, language: str) -> str:
        return self.name_zh if language.startswith("zh") else self.name_en


def rows_for(ids: Sequence[int]) -> tuple[list[RefundCase], dict[int, list[ProductName]]]:
    """The cases of a page, in the page's order, and the products of each (in line
    order, each once): two queries."""
    found = {case.pk: case for case in RefundCase.objects.filter(pk__in=ids)
             .select_related("account", "order", "assignee").only(*ROW_FIELDS)}
    products: dict[int, list[ProductName]] = {case_id: [] for case_id in found}
    lines = (CaseLine.objects.filter(case_id__in=list(found))
             .order_by("case_id", "order_line__position", "id")
             .values_list("case_id", "order_line__product__code",
                          "order_line__product__name_zh", "order_line__product__name_en"))
    for case_id, *names in lines:
        product = ProductName(*names)
        if product not in products[case_id]:
            products[case_id].append(product)
    return [found[case_id] for case_id in ids if case_id in found], products


def page(filters: Filters, sort_name: str = DEFAULT_SORT, *, viewer: Any, now: datetime,
         tz: tzinfo, after: Cursor | None = None, before: Cursor | None = None,
         size: int = PAGE_SIZE) -> Page:
    """One page of the queue: the first, the one after `after`, or the one before
    `before`. A previous page that would come out short is the first page instead, so
    going back always ends on a full first page."""
    common = dict(viewer=viewer, now=now, tz=tz, size=size)
    if before is not None and after is None:
        keys = page_keys(filters, sort_name, cursor=before, backwards=True, **common)
        if len(keys) > size:
            keys = keys[:size][::-1]
            ids = [case_id for _, case_id in keys]
            return Page(*rows_for(ids), ids=ids, sort=sort_name, is_first=False,
                        previous=Cursor(sort_name, *keys[0]),
                        next=Cursor(sort_name, *keys[-1]))
        after = None
    keys = page_keys(filters, sort_name, cursor=after, **common)
    shown = keys[:size]
    ids = [case_id for _, case_id in shown]
    return Page(*rows_for(ids), ids=ids, sort=sort_name, is_first=after is None,
                next=Cursor(sort_name, *shown[-1]) if len(keys) > size else None,
                previous=Cursor(sort_name, *shown[0]) if after is not None and shown else None)
