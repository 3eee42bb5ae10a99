"""Writing orders' facts into the billing mirror: one order, one transaction, upsert by id.

A bad order changes nothing and the others still land. Re-importing an unchanged order is
recognised by its digest and skipped without writing. Products and accounts are cached
for the run, because a large feed repeats the same few products and many accounts.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction

from refunddesk.billing.models import Account, Order, OrderLine, Payment, Product, Usage
from refunddesk.billing.order_facts import (
    OrderFactsError,
    Problem,
    normalised_email,
    order_digest,
    read_order,
)
from refunddesk.policy.facts import (
    AccountFacts,
    LineFacts,
    OrderFacts,
    PaymentFacts,
    UsageFacts,
)


class Outcome(enum.Enum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"


@dataclass
class ImportReport:
    counts: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))
    errors: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def is_clean(self) -> bool:
        return self.counts[Outcome.FAILED] == 0

    def summary(self) -> str:
        c = self.counts
        return (f"{self.total} orders read: {c[Outcome.CREATED]} created, "
                f"{c[Outcome.UPDATED]} updated, {c[Outcome.UNCHANGED]} unchanged, "
                f"{c[Outcome.FAILED]} failed")


class OrderImporter:
    """Imports orders one transaction each, remembering products and accounts it has seen.

    The memory is only updated once a transaction has committed: a rolled-back order must
    not leave behind the id of a product or account that no longer exists.
    """

    def __init__(self) -> None:
        self._products: dict[str, tuple[int, str]] = {}
        self._accounts: dict[str, tuple[int, AccountFacts]] = {}

    def import_order(self, order: OrderFacts) -> Outcome:
        try:
            return self._import_once(order)
        except IntegrityError:
            # Another process created the same order or account between our read and our
            # write; forget what we remembered and go again, now as an update.
            self._accounts.clear()
            self._products.clear()
            return self._import_once(order)

    def _import_once(self, order: OrderFacts) -> Outcome:
        digest = order_digest(order)
        seen_products: dict[str, tuple[int, str]] = {}
        seen_accounts: dict[str, tuple[int, AccountFacts]] = {}
        with transaction.atomic():
            existing = (
                Order.objects.select_for_update()
                .filter(external_id=order.id)
                .values_list("pk", "source_digest", "account__external_id")
                .first()
            )
            if existing and existing[1] == digest:
                return Outcome.UNCHANGED
            if existing and existing[2] != order.account.id:
                raise OrderFactsError([Problem(
                    "account.id",
                    f"order {order.id} belongs to account {existing[2]}; "
                    "an order cannot move to another account",
                )])
            account_id = self._account_id(order.account, seen_accounts)
            product_ids = {line.product: self._product_id(line, index, seen_products)
                           for index, line in enumerate(order.lines)}
            fields = dict(
                account_id=account_id, kind=order.kind, channel=order.channel,
                placed_at=order.placed_at, currency=order.currency,
                is_invoiced=order.invoiced, source_digest=digest,
            )
            if existing:
                Order.objects.filter(pk=existing[0]).update(**fields)
                saved = Order(pk=existing[0], external_id=order.id, **fields)
                outcome = Outcome.UPDATED
            else:
                saved = Order.objects.create(external_id=order.id, **fields)
                outcome = Outcome.CREATED
            _write_lines(saved, order.lines, product_ids, is_new=outcome is Outcome.CREATED)
            _write_payments(saved, order.payments, is_new=outcome is Outcome.CREATED)
        self._products.update(seen_products)
        self._accounts.update(seen_accounts)
        return outcome

    def _account_id(self, account: AccountFacts,
                    seen: dict[str, tuple[int, AccountFacts]]) -> int:
        cached = self._accounts.get(account.id)
        if cached and cached[1] == account:
            return cached[0]
        values = dict(email=normalised_email(account.email), name=account.name,
                      phone=account.phone, created_at=account.created_at)
        # Not update_or_create: its savepoint per call is most of an import's cost, and we
        # already hold the order's transaction; a concurrent insert surfaces as
        # IntegrityError and import_order retries.
        pk = Account.objects.filter(external_id=account.id).values_list(
            "pk", flat=True).first()
        if pk is None:
            pk = Account.objects.create(external_id=account.id, **values).pk
        else:
            Account.objects.filter(pk=pk).update(**values)
        seen[account.id] = (pk, account)
        return pk

    def _product_id(self, line: LineFacts, index: int,
                    seen: dict[str, tuple[int, str]]) -> int:
        cached = self._products.get(line.product) or seen.get(line.product)
        if cached is None:
            product, _ = Product.objects.get_or_create(
                code=line.product,
                defaults=dict(category=line.category, name_zh=line.product,
                              name_en=line.product),
            )
            cached = seen[line.product] = (product.pk, product.category)
        if cached[1] != line.category:
            raise OrderFactsError([Problem(
                f"lines[{index}].category",
                f"product {line.product} is a {cached[1]}, not {line.category}",
            )])
        return cached[0]


def _line_fields(line: LineFacts, position: int, product_ids: dict[str, int]) -> dict[str, Any]:
    return dict(
        position=position, sku=line.sku, product_id=product_ids[line.product],
        billing=line.billing, term_unit=line.term_unit or "", term_count=line.term_count,
        service_start=line.start, service_end=line.end,
        list_price_minor=line.list_price, amount_paid_minor=line.amount_paid,
        flags=sorted(line.flags),
    )


def _payment_fields(payment: PaymentFacts, position: int) -> dict[str, Any]:
    return dict(
        position=position, method=payment.method, funding=payment.funding,
        amount_minor=payment.amount, paid_at=payment.paid_at,
        gateway=payment.gateway, reference=payment.reference,
    )


def _write_lines(order: Order, lines: list[LineFacts], product_ids: dict[str, int],
                 *, is_new: bool) -> None:
    # Lines are keyed by their id within the order. Later apps point at lines (refund
    # cases), so a line that still exists is updated in place, never deleted and recreated.
    existing: dict[str, int] = {}
    if not is_new:
        OrderLine.objects.filter(order=order).exclude(
            line_id__in=[line.id for line in lines]).delete()
        existing = dict(OrderLine.objects.filter(order=order).values_list("line_id", "pk"))
        Usage.objects.filter(line_id__in=existing.values()).delete()
    created = []
    for position, line in enumerate(lines):
        fields = _line_fields(line, position, product_ids)
        if line.id in existing:
            OrderLine.objects.filter(pk=existing[line.id]).update(**fields)
        else:
            created.append(OrderLine(order=order, line_id=line.id, **fields))
    OrderLine.objects.bulk_create(created)
    line_pks = existing | {row.line_id: row.pk for row in created}
    usage = [_usage(line_pks[line.id], u) for line in lines for u in line.usage]
    if usage:
        Usage.objects.bulk_create(usage)


def _usage(line_pk: int, usage: UsageFacts) -> Usage:
    # UsageFacts leaves the end optional; an imported order's usage has one, as reading
    # the order requires period_end (policy/facts_reading.py).
    assert usage.period_end is not None
    return Usage(line_id=line_pk, metric=usage.metric, quantity=usage.quantity,
                 unit=usage.unit, period_start=usage.period_start, period_end=usage.period_end)


def _write_payments(order: Order, payments: list[PaymentFacts], *, is_new: bool) -> None:
    # Kept in place for the same reason as lines: payouts will point at the payment
    # they return money to.
    existing: dict[str, int] = {}
    if not is_new:
        Payment.objects.filter(order=order).exclude(
            payment_id__in=[p.id for p in payments]).delete()
        existing = dict(Payment.objects.filter(order=order).values_list("payment_id", "pk"))
    created = []
    for position, payment in enumerate(payments):
        fields = _payment_fields(payment, position)
        if payment.id in existing:
            Payment.objects.filter(pk=existing[payment.id]).update(**fields)
        else:
            created.append(Payment(order=order, payment_id=payment.id, **fields))
    Payment.objects.bulk_create(created)


def import_jsonl(
    lines: Iterable[str],
    *,
    importer: OrderImporter | None = None,
    on_line: Callable[[], object] | None = None,  # what it returns is not used
) -> ImportReport:
    """Import order-facts JSON lines; every failure is named by line number and field."""
    importer = importer or OrderImporter()
    report = ImportReport()
    for number, text in enumerate(lines, start=1):
        if on_line:
            on_line()
        if not text.strip():
            continue
        try:
            outcome = importer.import_order(read_order(json.loads(text)))
        except json.JSONDecodeError as error:
            report.errors.append(f"line {number}: not valid JSON: {error.msg} "
                                 f"(column {error.colno})")
            outcome = Outcome.FAILED
        except OrderFactsError as error:
            report.errors.extend(f"line {number}: {problem}" for problem in error.problems)
            outcome = Outcome.FAILED
        except IntegrityError as error:
            report.errors.append(f"line {number}: refused by the database: {error}")
            outcome = Outcome.FAILED
        report.counts[outcome] += 1
    return report
