"""Splitting an approved refund into payouts: in proportion to the assessment's shares,
to the cent, never more than a payment has left to refund."""

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from refunddesk.payouts.planning import PlanError, PlannedPayout, Share, plan

ALIPAY = Share("P1", "alipay", "cash", "original", 90000)
VOUCHER = Share("P2", "voucher", "voucher", "voucher", 6000)


def test_a_full_approval_pays_each_share_as_assessed():
    assert plan([ALIPAY, VOUCHER], 96000, {"P1": 90000, "P2": 6000}) == [
        PlannedPayout("P1", "alipay", "cash", "original", 90000),
        PlannedPayout("P2", "voucher", "voucher", "voucher", 6000)]


def test_a_partial_approval_shrinks_every_share_in_proportion_losing_no_cent():
    planned = plan([ALIPAY, VOUCHER], 30001, {"P1": 90000, "P2": 6000})

    assert [p.amount for p in planned] == [28126, 1875]
    assert sum(p.amount for p in planned) == 30001


def test_a_payment_already_partly_refunded_takes_only_what_it_has_left():
    # P1 has 10.00 left after an earlier refund; the rest goes to P2
    cash = Share("P1", "alipay", "cash", "original", 5000)
    card = Share("P2", "card", "cash", "original", 5000)

    planned = plan([cash, card], 8000, {"P1": 1000, "P2": 9000})

    assert [(p.payment, p.amount) for p in planned] == [("P1", 1000), ("P2", 7000)]


def test_more_than_the_payments_have_left_is_refused():
    with pytest.raises(PlanError, match="more than the payments have left"):
        plan([ALIPAY], 90001, {"P1": 90000})


def test_an_override_of_an_assessment_of_nothing_goes_by_what_each_payment_has_left():
    shares = [Share("P1", "alipay", "cash", "original", 0),
              Share("P2", "card", "cash", "original", 0)]

    planned = plan(shares, 3000, {"P1": 1000, "P2": 2000})

    assert [p.amount for p in planned] == [1000, 2000]


def test_zero_payouts_are_left_out():
    assert plan([ALIPAY, VOUCHER], 0, {"P1": 90000, "P2": 6000}) == []


shares_and_left = st.lists(
    st.tuples(st.integers(min_value=0, max_value=10**7), st.integers(min_value=0,
                                                                     max_value=10**7)),
    min_size=1, max_size=6)


@given(shares_and_left, st.data())
def test_the_plan_always_adds_up_and_never_exceeds_what_a_payment_has_left(pairs, data):
    shares = [Share(f"P{n}", "alipay", "cash", "original", amount)
              for n, (amount, _) in enumerate(pairs)]
    left = {f"P{n}": room for n, (_, room) in enumerate(pairs)}
    assume(sum(left.values()) > 0)
    approved = data.draw(st.integers(min_value=0, max_value=sum(left.values())))

    planned = plan(shares, approved, left)

    assert sum(p.amount for p in planned) == approved
    assert all(0 < p.amount <= left[p.payment] for p in planned)


@given(st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=5),
       st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=8))
def test_several_partial_refunds_of_one_order_never_refund_a_payment_twice(paid, refunds):
    # given an order's payments, refunded bit by bit by several approvals
    shares = [Share(f"P{n}", "alipay", "cash", "original", amount)
              for n, amount in enumerate(paid)]
    left = {share.payment: share.amount for share in shares}
    for asked in refunds:
        approved = min(asked, sum(left.values()))
        # when each approval is planned against what is left
        for payout in plan(shares, approved, left):
            left[payout.payment] -= payout.amount
        # then no payment ever goes below zero
        assert all(room >= 0 for room in left.values())
    assert sum(paid) - sum(left.values()) == sum(
        min(asked, total) for asked, total in _running(refunds, sum(paid)))


def _running(refunds, total):
    """(asked, what was still refundable then) for each refund in turn."""
    still = total
    for asked in refunds:
        yield asked, still
        still -= min(asked, still)


FUNDINGS = {"cash": ("alipay", "original"), "balance": ("balance", "balance"),
            "gift": ("gift", "gift"), "voucher": ("voucher", "voucher")}


@given(st.lists(st.tuples(st.sampled_from(sorted(FUNDINGS)),
                          st.integers(min_value=0, max_value=10**6),
                          st.integers(min_value=0, max_value=10**6)), min_size=1, max_size=6),
       st.data())
def test_mixed_funding_adds_up_and_vouchers_and_gift_credit_never_become_cash(rows, data):
    # given an order paid by cash, balance, gift credit and vouchers, some already partly
    # refunded, with the policy's fallback on the cash shares
    shares = [Share(f"P{n}", FUNDINGS[funding][0], funding, FUNDINGS[funding][1], amount,
                    "balance" if funding == "cash" else None)
              for n, (funding, amount, _) in enumerate(rows)]
    left = {f"P{n}": room for n, (_, _, room) in enumerate(rows)}
    assume(sum(left.values()) > 0)
    approved = data.draw(st.integers(min_value=0, max_value=sum(left.values())))

    # when the approved amount is planned
    planned = plan(shares, approved, left)

    # then it adds up, no payment gives more than it has left, and each payout goes where
    # its share goes: in kind for balance, gift and vouchers, with the cash fallback kept
    assert sum(p.amount for p in planned) == approved
    by_payment = {share.payment: share for share in shares}
    for payout in planned:
        share = by_payment[payout.payment]
        assert 0 < payout.amount <= left[payout.payment]
        assert (payout.destination, payout.funding, payout.fallback) == (
            share.destination, share.funding, share.fallback)
        if payout.funding in ("gift", "voucher"):
            assert payout.destination == payout.funding
