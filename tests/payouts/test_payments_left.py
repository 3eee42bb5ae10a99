"""What each payment of an order has left to refund, read by one fixed statement at every
approval: the same payments the ORM reads, less exactly the payouts `still_owed` counts."""

import pytest
from django.db.models import Count, Q, Sum
from django.utils import timezone

from refunddesk.billing.models import Payment
from refunddesk.payouts.models import Destination, Payout, PayoutState, still_owed
from refunddesk.payouts.planned import payments_left
from tests.payouts.builders import approved_case

pytestmark = pytest.mark.django_db


def payout(case, payment, state, amount, *, destination=Destination.ORIGINAL, replaces=None):
    now = timezone.now()
    return Payout.objects.create(case=case, payment=payment, destination=destination,
                                 gateway="sandbox", amount_minor=amount, currency="CNY",
                                 state=state, created_at=now, replaces=replaces)


def test_each_payment_has_its_amount_left_less_every_payout_still_owed():
    # given an order of two payments, and payouts of the first in every state, one failed
    # payout replaced by finance and one not
    case = approved_case(extra_payments=[{"id": "P2", "method": "voucher",
                                          "funding": "voucher", "amount": "50.00"}])
    first, second = Payment.objects.filter(order=case.order).order_by("position", "pk")
    for state in PayoutState.values:
        payout(case, first, state, 1_00)
    replaced = payout(case, first, PayoutState.FAILED, 2_00)
    payout(case, first, PayoutState.SUCCEEDED, 3_00, destination=Destination.BALANCE,
           replaces=replaced)
    payout(case, second, PayoutState.FAILED, 4_00, destination=Destination.BALANCE)

    found = payments_left(case)

    # then the payments are the ORM's, in order, and what is left is counted as the ORM
    # counts it with still_owed
    assert [f.payment.pk for f in found] == [first.pk, second.pk]
    for f, payment in zip(found, (first, second), strict=True):
        assert {field.attname: getattr(f.payment, field.attname)
                for field in Payment._meta.concrete_fields} == {
            field.attname: getattr(payment, field.attname)
            for field in Payment._meta.concrete_fields}
        owed = Payout.objects.filter(still_owed(), payment=payment).aggregate(
            total=Sum("amount_minor"),
            refunds=Count("pk", filter=Q(destination=Destination.ORIGINAL)))
        assert (f.left, f.refunds) == (payment.amount_minor - (owed["total"] or 0),
                                       owed["refunds"])
    # the approval's own payout (all of P1's 900.00, by the original route) among them;
    # of the payouts added, the replaced 2.00 alone does not count
    assert [(f.left, f.refunds) for f in found] == [
        (900_00 - 900_00 - 6 * 1_00 - 3_00, 1 + 6), (50_00 - 4_00, 0)]
    assert all(type(f.left) is int for f in found)


def test_a_payment_without_payouts_has_all_of_its_amount_left():
    case = approved_case(extra_payments=[{"id": "P2", "method": "voucher",
                                          "funding": "voucher", "amount": "50.00"}])

    found = payments_left(case)

    assert [(f.payment.payment_id, f.refunds) for f in found][1] == ("P2", 0)
    assert found[1].left == 50_00
