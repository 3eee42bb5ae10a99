"""`refunddesk seed_payouts --count N`: N approved cases, each with one payout due now to
the sandbox gateway, for the payout benchmark and the crash test (a development tool).

One order and case go through the real import and the real approval; the rest are copies
of them written in bulk (with their own order, payment, tracking number and payout), so
that seeding a hundred thousand payouts takes seconds, not minutes.
"""

from __future__ import annotations

import copy
import uuid
from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from refunddesk.billing.importing import OrderImporter
from refunddesk.billing.models import Order, Payment, Product
from refunddesk.billing.order_facts import read_order
from refunddesk.cases import actions
from refunddesk.cases.actors import customer_of
from refunddesk.cases.models import RefundCase
from refunddesk.cases.states import State
from refunddesk.cases.tracking import new_tracking_number
from refunddesk.payouts.models import Payout

CHUNK = 1000


def template_facts(run: str) -> dict[str, Any]:
    now = timezone.now().replace(microsecond=0)
    placed = (now - timedelta(days=1)).isoformat()
    return {
        "id": f"SEED-{run}-0", "kind": "new", "channel": "direct", "placed_at": placed,
        "currency": "CNY", "invoiced": False,
        "account": {"id": f"seed-{run}", "email": f"seed-{run}@example.com",
                    "name": "Seed", "created_at": placed},
        "lines": [{"id": "1", "sku": "vpn.month", "product": "seed-vpn", "category": "vpn",
                   "billing": "prepaid", "term": {"unit": "month", "count": 1},
                   "service_start": placed,
                   "service_end": (now + timedelta(days=29)).isoformat(),
                   "list_price": "30.00", "amount_paid": "30.00", "flags": []}],
        "payments": [{"id": "P1", "method": "alipay", "funding": "cash", "amount": "30.00",
                      "paid_at": placed, "gateway": "sandbox", "reference": f"seed-{run}-0"}],
    }


class Command(BaseCommand):
    help = ("Create N approved cases with one sandbox payout each, due now (for `make bench` "
            "and the crash test; not for production databases).")

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--count", type=int, default=1000)
        parser.add_argument("--due-in", type=float, default=0.0,
                            help="Make every payout due this many seconds from now.")
        parser.add_argument("--gateways", default="sandbox",
                            help="Comma-separated gateway names the payments name in turn "
                                 "(the crash test's mix of providers' stand-ins).")
        parser.add_argument("--timeout-every", type=int, default=0,
                            help="Every Nth payment's refund times out at the sandbox after "
                                 "it was made (the outcome is unknown to us at first).")

    def handle(self, *args: Any, count: int, timeout_every: int, due_in: float,
               gateways: str, **options: Any) -> None:
        if count < 1:
            raise CommandError("--count must be at least 1")
        if timeout_every < 0:
            raise CommandError("--timeout-every must not be negative")
        self.timeout_every = timeout_every
        self.gateways = [name.strip() for name in gateways.split(",") if name.strip()]
        if not self.gateways:
            raise CommandError("--gateways must name at least one gateway")
        run = uuid.uuid4().hex[:8]
        facts = template_facts(run)
        OrderImporter().import_order(read_order(facts))
        Product.objects.filter(code="seed-vpn").update(policy_id="vpn-30-day")
        order = Order.objects.get(external_id=facts["id"])
        case = actions.submit(account=order.account, order=order, line_ids=["1"],
                              actor=customer_of(order.account),
                              channel="api", now=timezone.now())
        if case.state != State.APPROVED:
            raise CommandError(f"the template case is {case.state}, not approved")
        payout = Payout.objects.get(case=case)
        for start in range(1, count, CHUNK):
            with transaction.atomic():
                self.copies(order, case, payout, range(start, min(count, start + CHUNK)), run)
        due = timezone.now() + timedelta(seconds=due_in)
        Payout.objects.filter(case__order__external_id__startswith=f"SEED-{run}-").update(
            next_attempt_at=due)
        self.stdout.write(f"{count} approved payouts due at {due.isoformat()}")

    def copies(self, order: Order, case: RefundCase, payout: Payout, numbers: range,
               run: str) -> None:
        payment = order.payments.get()
        orders, payments, cases, payouts = [], [], [], []
        for number in numbers:
            new_order = copy.copy(order)
            new_order.pk, new_order.external_id = None, f"SEED-{run}-{number}"
            orders.append(new_order)
        Order.objects.bulk_create(orders)
        for new_order in orders:
            new_payment = copy.copy(payment)
            new_payment.pk, new_payment.order = None, new_order
            new_payment.reference = f"seed-{run}-{new_order.external_id}"
            number = int(new_order.external_id.rsplit("-", 1)[1])
            new_payment.gateway = self.gateways[number % len(self.gateways)]
            if new_payment.gateway != "sandbox":
                # Short enough for every provider's order number (WeChat Pay: 32).
                new_payment.reference = f"s{run}{number:07d}"
            elif self.timeout_every and number % self.timeout_every == 0:
                new_payment.reference += "-timeout"
            payments.append(new_payment)
            new_case = copy.copy(case)
            new_case.pk, new_case.order = None, new_order
            new_case.tracking_number = new_tracking_number()
            cases.append(new_case)
        Payment.objects.bulk_create(payments)
        RefundCase.objects.bulk_create(cases)
        for new_case, new_payment in zip(cases, payments, strict=True):
            new_payout = copy.copy(payout)
            new_payout.pk, new_payout.case, new_payout.payment = None, new_case, new_payment
            new_payout.gateway = new_payment.gateway
            payouts.append(new_payout)
        Payout.objects.bulk_create(payouts)
