"""Payout rows: positive amounts, one row per provider refund, our id as the idempotency
key, and finance's permissions on them."""

import pytest
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.utils import timezone

from refunddesk.cases.actors import customer_of
from refunddesk.payouts.models import Payout
from tests.cases.conftest import INSIDE_FIVE_DAYS, import_order
from tests.conftest import EXAMPLE_ORDER

pytestmark = pytest.mark.django_db


@pytest.fixture
def approved_case():
    import copy

    from refunddesk.cases import actions

    order = import_order(copy.deepcopy(EXAMPLE_ORDER))
    return actions.submit(account=order.account, order=order, line_ids=["1"],
                          actor=customer_of(order.account),
                          channel="portal", now=INSIDE_FIVE_DAYS)


def payout(case, **fields):
    values = {"case": case, "payment": case.order.payments.get(payment_id="P1"),
              "destination": "balance", "gateway": "balance", "amount_minor": 90000,
              "currency": case.currency, "created_at": timezone.now(), **fields}
    return Payout.objects.create(**values)


def test_a_payouts_idempotency_key_is_its_own_id(approved_case):
    planned = payout(approved_case)

    assert planned.idempotency_key == f"refunddesk-payout-{planned.pk}"
    assert planned.state == "pending"
    assert str(planned.amount) == "900.00"


@pytest.mark.parametrize("amount", [0, -1])
def test_a_payout_of_nothing_or_less_is_refused_by_the_database(approved_case, amount):
    with pytest.raises(IntegrityError), transaction.atomic():
        payout(approved_case, amount_minor=amount)


def test_one_provider_refund_belongs_to_one_payout(approved_case):
    payout(approved_case, gateway="sandbox", gateway_refund_id="re_1")
    payout(approved_case, gateway="sandbox")  # not yet submitted: no id, no clash

    with pytest.raises(IntegrityError), transaction.atomic():
        payout(approved_case, gateway="sandbox", gateway_refund_id="re_1")


def test_finance_holds_the_payout_permissions():
    finance = set(Group.objects.get(name="finance").permissions
                  .values_list("codename", flat=True))

    assert {"view_payout", "manage_payouts", "reconcile"} <= finance
