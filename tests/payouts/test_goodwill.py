"""Staff may grant more than the assessment gave (a goodwill or appeal amount on a case the
policy assessed at 0.00): the grant is planned over what the order's payments still have
left, by the same routing rules as the assessment — original route first with the policy's
fallback, vouchers returned in kind, never as cash."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from refunddesk.cases import actions
from refunddesk.cases.actors import customer_of
from refunddesk.cases.models import RefundCase
from refunddesk.payouts.models import Payout
from tests.cases.conftest import AFTER_FIVE_DAYS, INSIDE_FIVE_DAYS
from tests.payouts.builders import order_paid_with
from tests.staff import rejection_reason, staff_member

pytestmark = pytest.mark.django_db


def excluded_case(**payment):
    """A case whose only line the policy excludes (a non-refundable promotion): assessed at
    0.00 and waiting for review."""
    order = order_paid_with(**payment)
    line = order.lines.get(line_id="1")
    line.flags = ["promotion_non_refundable"]
    line.save(update_fields=["flags"])
    case = actions.submit(account=order.account, order=order, line_ids=["1"],
                          actor=customer_of(order.account), channel="portal",
                          now=AFTER_FIVE_DAYS)
    assert case.assessed_total_minor == 0
    return case


def appealed(case):
    agent = staff_member(f"agent-{case.pk}", "agent")
    case = actions.reject(case, actor=agent, reason=rejection_reason(), message="Excluded.")
    evidence = SimpleUploadedFile("ticket.pdf", b"%PDF-1.4\n%%EOF\n",
                                  content_type="application/pdf")
    return actions.appeal(case, actor=customer_of(case.account), text="It never worked.",
                          uploads=[evidence], now=case.decided_at + timedelta(days=1))


def planned(case):
    return sorted((p.payment.payment_id, p.destination, p.amount_minor)
                  for p in Payout.objects.filter(case=case).select_related("payment"))


def test_an_appeal_of_a_case_assessed_at_nothing_can_be_granted_by_the_original_route(
        settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    case = appealed(excluded_case())
    reviewer = staff_member("reviewer-goodwill", "reviewer")

    case = actions.approve(case, actor=reviewer, amounts={"1": 3900},
                           justification="Outage confirmed by operations.",
                           now=AFTER_FIVE_DAYS + timedelta(days=2))

    assert (case.state, case.approved_total_minor) == ("approved", 3900)
    # alibaba-cloud sends cash back where it came from, the balance as its fallback
    assert planned(case) == [("P1", "original", 3900)]


def test_a_goodwill_grant_returns_a_voucher_in_kind_never_as_cash(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    case = appealed(excluded_case(amount="20.00", extra_payments=[
        {"id": "P2", "method": "voucher", "funding": "voucher", "amount": "60.00"}]))
    reviewer = staff_member("reviewer-voucher", "reviewer")

    case = actions.approve(case, actor=reviewer, amounts={"1": 5000},
                           justification="Goodwill for the outage.",
                           now=AFTER_FIVE_DAYS + timedelta(days=2))

    rows = planned(case)
    assert sum(amount for _, _, amount in rows) == 5000
    assert {payment: destination for payment, destination, _ in rows} == {
        "P1": "original", "P2": "voucher"}
    assert dict((payment, amount) for payment, _, amount in rows)["P1"] <= 2000


def test_a_grant_beyond_what_the_orders_payments_have_left_is_refused(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    case = appealed(excluded_case(amount="30.00"))
    reviewer = staff_member("reviewer-too-much", "reviewer")

    with pytest.raises(actions.CaseError, match=r"30\.00"):
        actions.approve(case, actor=reviewer, amounts={"1": 3900},
                        justification="Goodwill.", now=AFTER_FIVE_DAYS + timedelta(days=2))

    assert RefundCase.objects.get(pk=case.pk).state == "appealed"
    assert not Payout.objects.filter(case=case).exists()


def test_an_approval_at_once_still_follows_the_assessment_alone():
    order = order_paid_with()
    case = actions.submit(account=order.account, order=order, line_ids=["1"],
                          actor=customer_of(order.account), channel="portal",
                          now=INSIDE_FIVE_DAYS)

    assert planned(case) == [("P1", "original", case.approved_total_minor)]
