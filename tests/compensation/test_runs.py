"""A compensation run from dry run to cases: the run does exactly what its dry run said, opens
approved bulk cases with their payouts, compensates nobody twice, pauses and resumes, and
hands a stalled run to another worker."""

from collections import Counter
from datetime import timedelta

import pytest
from django.db.models import Sum

from refunddesk.billing.models import BalanceEntry, Order
from refunddesk.cases.models import CaseEvent, CaseLine, RefundCase
from refunddesk.compensation import actions, moving, remedies
from refunddesk.compensation.models import CompensationItem, CompensationRun, ItemState
from refunddesk.compensation.remedies import Remedy, Window
from refunddesk.compensation.running import (
    claim_run,
    compensate_customer,
    resume_stalled,
    run_compensation,
)
from refunddesk.notifications.models import EmailDelivery
from refunddesk.payouts.models import Payout
from refunddesk.payouts.runner import run_until_idle
from refunddesk.policy.money import format_amount
from tests.compensation.builders import (
    LATER,
    NOW,
    OUTAGE,
    approved_run,
    order,
    planned_run,
    run_now,
    two_admins,
)


@pytest.fixture
def admins(db):
    return two_admins()


def a_desk_after_an_outage():
    """Customers of servers in two currencies, one with two orders, and lines the outage
    did not reach or that a refund of time cannot give anything."""
    order(1)
    order(2, account="acct-2", lines=2)
    order(3, account="acct-2")  # a second order of the same customer
    order(4, currency="USD", paid="120.00")
    order(5, product="cvm-payg", sku="cvm-payg.s5.small", billing="payg", end=None)
    order(6, start="2026-06-01T00:00:00+08:00")  # bought after the outage
    order(7, product="vpn", sku="vpn.year", policy="vpn-30-day")  # another product


def test_the_dry_run_says_who_gets_what_per_currency_and_what_is_left_out(admins):
    # given the desk after an outage
    a_desk_after_an_outage()

    # when an admin plans a refund of the affected time for servers (both kinds)
    run = planned_run(admins[0], products=("cvm", "cvm-payg"))

    # then three customers, four cases (one per customer and order), five lines; 7.89 per
    # CNY line, 120.00 × 3 / 365 = 0.99 for the USD one; pay-as-you-go left out
    assert run.state == "awaiting_approval"
    figures = {key: value for key, value in run.figures.items() if key != "samples"}
    assert figures == {"customers": 3, "cases": 4, "lines": 5,
                       "totals": {"CNY": "31.56", "USD": "0.99"}, "extended": 0,
                       "capped": 0, "excluded": {"pay_as_you_go": 1}}
    # and a sample explains each line in both languages
    first = run.figures["samples"][0]
    assert "CN¥7.89" in first["en"] and "¥7.89" in first["zh_hans"]
    assert "CN¥" not in first["zh_hans"]
    left_out = [sample for sample in run.figures["samples"] if not sample["included"]]
    assert len(left_out) == 1 and "pay-as-you-go" in left_out[0]["en"]


def test_the_real_run_opens_exactly_the_dry_runs_cases_lines_and_money(admins):
    # given an approved run over the desk after an outage
    a_desk_after_an_outage()
    creator, approver = admins
    run = approved_run(creator, approver, products=("cvm", "cvm-payg"))
    dry = run.figures

    # when it runs
    run = run_now(run, creator)

    # then its cases, lines and money per currency are the dry run's
    assert run.state == "finished"
    cases = RefundCase.objects.filter(channel="bulk")
    assert cases.count() == dry["cases"] == run.cases_opened
    assert len({case.account_id for case in cases}) == dry["customers"]
    lines = CaseLine.objects.filter(case__in=cases)
    assert lines.count() == dry["lines"]
    totals = {row["currency"]: format_amount(row["total"], row["currency"]) for row in
              cases.values("currency").annotate(total=Sum("approved_total_minor"))}
    assert totals == dry["totals"]
    payouts = {row["currency"]: format_amount(row["total"], row["currency"]) for row in
               Payout.objects.filter(case__in=cases).values("currency")
               .annotate(total=Sum("amount_minor"))}
    assert payouts == dry["totals"]
    assert moving.outcome(run)["totals"] == dry["totals"]


def test_the_runs_cases_are_bulk_approved_by_the_run_with_payouts_planned_and_one_mail(admins):
    # given a customer with two affected orders
    order(1, account="acct-9")
    order(2, account="acct-9")
    creator, approver = admins

    # when an approved run compensates them
    run = run_now(approved_run(creator, approver, message_en="Our Shanghai region was down."),
                  creator)

    # then two cases, channel bulk, approved, each with its payout planned and its own
    # tracking number, grouped as one submission
    cases = list(RefundCase.objects.filter(channel="bulk").order_by("pk"))
    assert [case.state for case in cases] == ["approved", "approved"]
    assert [case.approved_total_minor for case in cases] == [789, 789]
    assert len({case.tracking_number for case in cases}) == 2
    assert len({case.submission for case in cases}) == 1
    assert all(case.payouts.count() == 1 for case in cases)
    # opened and approved by the run, naming the run and the approving admin
    events = list(CaseEvent.objects.filter(case=cases[0]).order_by("pk"))
    assert [event.action for event in events] == ["compensation_opened", "approved"]
    assert {event.actor_kind for event in events} == {"system"}
    assert events[0].data["run"] == run.pk
    assert events[1].data["approved_by"] == approver.get_username()
    # the lines stay free for a refund, and count in no policy's quota
    assert not CaseLine.objects.filter(case__in=cases, holds_line=True).exists()
    assert set(CaseLine.objects.filter(case__in=cases).values_list("rule", flat=True)) == {""}
    # one e-mail for the customer, naming both cases
    deliveries = EmailDelivery.objects.filter(case__in=cases)
    assert list(deliveries.values_list("kind", flat=True)) == ["compensated"]
    # and every line of the run is done with its case
    assert set(run.items.values_list("state", flat=True)) == {"done"}


def test_the_compensation_email_names_every_case_and_says_why(admins, mailoutbox):
    from refunddesk.notifications.compose import compose

    order(1, account="acct-9")
    order(2, account="acct-9")
    creator, approver = admins
    run_now(approved_run(creator, approver, message_en="Our Shanghai region was down."),
            creator)
    delivery = EmailDelivery.objects.get(kind="compensated")
    delivery.language = "en"

    subject, text, _html = compose(delivery)

    assert subject == "Compensation for a disruption of our service"
    assert "Our Shanghai region was down." in text
    for case in RefundCase.objects.filter(channel="bulk"):
        assert f"{case.tracking_number} — order {case.order.external_id}: CN¥7.89" in text
    assert "故障占用了 3 天" in text  # each case's note, written in the customer's language


def test_a_second_run_over_the_same_outage_compensates_nobody_twice(admins):
    # given a run that compensated three customers
    for number in range(3):
        order(number)
    creator, approver = admins
    first = run_now(approved_run(creator, approver), creator)
    assert first.cases_opened == 3

    # when a second run is planned over the same outage, and one over an outage that
    # overlaps it
    again = planned_run(approver, window=OUTAGE)
    overlapping = planned_run(approver, window=Window(OUTAGE.start + timedelta(days=1),
                                                      OUTAGE.end + timedelta(days=1)))

    # then their dry runs show every line as already compensated, and nothing to approve
    for run in (again, overlapping):
        assert run.figures["lines"] == 0
        assert run.figures["excluded"] == {"already_compensated": 3}
        assert f"compensation run #{first.pk}" in run.figures["samples"][0]["en"]
        with pytest.raises(actions.RunError):
            actions.approve(run, actor=creator, seen=actions.stamp(run), now=NOW)
    assert RefundCase.objects.count() == 3


def test_an_outage_that_does_not_overlap_an_earlier_one_is_compensated_again(admins):
    order(1)
    creator, approver = admins
    run_now(approved_run(creator, approver), creator)

    later = Window(OUTAGE.end + timedelta(days=1), OUTAGE.end + timedelta(days=2))
    run = planned_run(approver, window=later)

    assert run.figures["lines"] == 1 and run.figures["totals"] == {"CNY": "2.63"}


def test_two_runs_approved_before_either_ran_compensate_each_line_once(admins):
    # given two runs over the same outage, both planned before either was approved (so
    # neither dry run saw the other's lines), then both approved
    for number in range(3):
        order(number)
    creator, approver = admins
    first, second = planned_run(creator), planned_run(approver)
    assert first.figures["lines"] == second.figures["lines"] == 3
    first = actions.approve(first, actor=approver, seen=actions.stamp(first), now=NOW)
    second = actions.approve(second, actor=creator, seen=actions.stamp(second), now=NOW)

    # when both run
    first = run_now(first, creator)
    second = run_now(second, creator)

    # then the first compensated every line, the second skipped them all, saying why
    assert first.cases_opened == 3 and second.cases_opened == 0
    assert Counter(second.items.values_list("state", "reason")) == {
        ("skipped", "already_compensated"): 3}
    assert RefundCase.objects.count() == 3
    assert Payout.objects.count() == 3


def test_a_run_again_after_it_finished_opens_nothing_more(admins):
    for number in range(2):
        order(number)
    creator, approver = admins
    run = run_now(approved_run(creator, approver), creator)

    # when its task runs again (a task is safe to run twice)
    assert run_compensation.call(run.pk) == "not running"

    assert RefundCase.objects.count() == 2


def test_a_paused_run_stops_after_the_customer_at_hand_and_resumes_where_it_stopped(admins):
    # given a started run over four customers, two of them compensated by its worker
    for number in range(4):
        order(number)
    creator, approver = admins
    run = actions.start(approved_run(creator, approver), actor=creator, now=LATER)
    claim = claim_run(run.pk, LATER)
    accounts = sorted(set(run.items.values_list("account_id", flat=True)))
    for account_id in accounts[:2]:
        assert compensate_customer(run.pk, account_id, claim=claim, policies={}, now=LATER)

    # when an admin pauses it
    actions.pause(run, actor=approver, now=LATER)

    # then the worker stops before the next customer, and a task run finds nothing to do
    assert not compensate_customer(run.pk, accounts[2], claim=claim, policies={}, now=LATER)
    assert run_compensation.call(run.pk) == "not running"
    assert RefundCase.objects.count() == 2
    run = CompensationRun.objects.get(pk=run.pk)
    assert (run.state, run.customers_done, run.progress_percent) == ("paused", 2, 50)

    # when it is resumed, it compensates the other two and finishes
    actions.resume(run, actor=creator, now=LATER)
    assert run_compensation.call(run.pk) == "finished"
    run = CompensationRun.objects.get(pk=run.pk)
    assert (run.state, run.customers_done, run.cases_opened) == ("finished", 4, 4)
    assert RefundCase.objects.count() == 4
    assert Counter(RefundCase.objects.values_list("account_id", flat=True)) == {
        account: 1 for account in accounts}


def test_a_worker_that_lost_the_run_to_another_stops_and_nothing_is_done_twice(admins):
    # given a running run taken by a worker that then stalls, and taken again by another
    for number in range(3):
        order(number)
    creator, approver = admins
    run = actions.start(approved_run(creator, approver), actor=creator, now=LATER)
    stalled = claim_run(run.pk, LATER)
    accounts = sorted(set(run.items.values_list("account_id", flat=True)))
    assert compensate_customer(run.pk, accounts[0], claim=stalled, policies={}, now=LATER)
    taken_over = claim_run(run.pk, LATER + timedelta(minutes=5))

    # when the stalled worker wakes up, it is fenced out
    assert not compensate_customer(run.pk, accounts[1], claim=stalled, policies={}, now=LATER)

    # and the new one finishes: each customer once
    assert compensate_customer(run.pk, accounts[1], claim=taken_over, policies={}, now=LATER)
    assert compensate_customer(run.pk, accounts[2], claim=taken_over, policies={}, now=LATER)
    assert RefundCase.objects.count() == 3
    assert Counter(RefundCase.objects.values_list("account_id", flat=True)) == {
        account: 1 for account in accounts}


def test_a_second_task_for_a_run_a_worker_holds_takes_nothing_until_its_lease_runs_out(
        admins):
    # given a running run a worker has taken (as every outbox row is taken: core/leasing)
    order(1)
    creator, approver = admins
    run = actions.start(approved_run(creator, approver), actor=creator, now=LATER)
    first = claim_run(run.pk, LATER)
    assert first is not None and first.attempt == 1

    # when another task for it runs while the worker holds it, it takes nothing
    assert claim_run(run.pk, LATER + timedelta(seconds=10)) is None
    # and once the lease ran out without news, the next one takes it, fencing the first out
    second = claim_run(run.pk, LATER + timedelta(hours=1))
    assert second is not None and second.attempt == 2
    run.refresh_from_db()
    assert run.attempts == 2
    assert run.next_attempt_at > LATER + timedelta(hours=1)


def test_the_sweep_queues_again_a_running_run_whose_lease_ran_out(admins):
    from django_tasks_db.models import DBTaskResult

    order(1)
    creator, approver = admins
    run = actions.start(approved_run(creator, approver), actor=creator, now=LATER)
    claim_run(run.pk, LATER)  # a worker took it, then died
    queued = DBTaskResult.objects.count()

    # a sweep while the lease runs finds nothing; one after it ran out queues the run
    assert resume_stalled(LATER + timedelta(seconds=10)) == 0
    assert resume_stalled(LATER + timedelta(hours=1)) == 1
    assert DBTaskResult.objects.count() == queued + 1
    # and not again until the new worker's lease would have run out too
    assert resume_stalled(LATER + timedelta(hours=1, seconds=10)) == 0


def test_a_gift_credit_is_paid_to_the_accounts_gift_fund_by_the_ledger(admins):
    order(1)
    creator, approver = admins
    run = run_now(approved_run(creator, approver, remedy=Remedy(
        "credit_percent", percent_hundredths=1000, credit_to="gift")), creator)
    case = RefundCase.objects.get(channel="bulk")

    assert run.figures["totals"] == {"CNY": "96.00"}
    payout = case.payouts.get()
    assert (payout.destination, payout.gateway, payout.amount_minor) == ("gift", "balance",
                                                                         9600)
    run_until_idle()
    entry = BalanceEntry.objects.get(account=case.account)
    assert (entry.fund, entry.amount_minor) == ("gift", 9600)
    assert RefundCase.objects.get(pk=case.pk).state == "refunded"


def test_a_fixed_credit_per_currency_leaves_out_lines_in_other_currencies(admins):
    order(1)
    order(2, currency="USD", paid="120.00")
    creator, _approver = admins
    run = planned_run(creator, Remedy("credit_fixed", fixed={"CNY": 2000}))

    assert run.figures["totals"] == {"CNY": "20.00"}
    assert run.figures["excluded"] == {"no_amount_for_currency": 1}


def test_an_extension_moves_the_service_end_records_it_on_the_case_line_and_tells_the_merchant(
        admins):
    from refunddesk.notifications.models import WebhookDelivery
    from tests.notifications.webhook_receiver import subscribe

    subscribe("http://127.0.0.1:9/hooks", ["subscription.extended", "case.decided"])
    order(1)
    creator, approver = admins
    run = approved_run(creator, approver, remedy=Remedy("extension"))
    assert run.figures["extended"] == 1 and run.figures["totals"] == {}

    run_now(run, creator)

    case = RefundCase.objects.get(channel="bulk")
    line = case.lines.get()
    assert (case.state, case.approved_total_minor, case.payouts.count()) == ("approved", 0, 0)
    assert line.service_extended_to == line.order_line.service_end + timedelta(days=3)
    extended = WebhookDelivery.objects.get(event_type="subscription.extended")
    assert '"extended_to":"2027-03-04T02:05:00Z"' in extended.payload
    assert WebhookDelivery.objects.filter(event_type="case.decided").count() == 1


def test_amounts_are_cut_to_what_the_orders_payments_have_left(admins):
    # given an order whose payment was mostly refunded already (955.00 of 960.00 paid out)
    placed = order(1)
    Payout.objects.create(case=_any_case(placed), payment=placed.payments.get(),
                          destination="original", gateway="sandbox", amount_minor=95500,
                          currency="CNY", state="succeeded", created_at=NOW)
    creator, _approver = admins

    # when a refund of the affected time is planned
    run = planned_run(creator)

    # then it gets the 5.00 left, marked as cut, and the sentence says so
    assert run.figures["totals"] == {"CNY": "5.00"} and run.figures["capped"] == 1
    assert "Cut to what the order's payments have left" in run.figures["samples"][0]["en"]


def _any_case(placed):
    from refunddesk.cases import actions as case_actions
    from refunddesk.cases.actors import customer_of

    return case_actions.submit(account=placed.account, order=placed, line_ids=["1"],
                               actor=customer_of(placed.account), channel="portal",
                               now=NOW)


def test_a_line_whose_service_a_refund_ended_before_the_outage_gets_nothing(admins):
    placed = order(1)
    case = _any_case(placed)
    CaseLine.objects.filter(case=case).update(service_ends_at=OUTAGE.start
                                              - timedelta(days=1))
    RefundCase.objects.filter(pk=case.pk).update(state="refunded")

    run = planned_run(admins[0])

    assert run.figures["excluded"] == {"ended_before": 1}


def test_a_refund_leaves_out_app_store_purchases_and_a_credit_reaches_them(admins):
    # given a server bought directly and one bought through the App Store
    order(1)
    store = order(2)
    Order.objects.filter(pk=store.pk).update(channel="app_store")
    creator, _approver = admins

    # when a refund of the affected time is planned, only the direct purchase is refunded:
    # only the store refunds its purchases, a payout to it could never be made
    refund = planned_run(creator)
    assert refund.figures["lines"] == 1 and refund.figures["excluded"] == {"store_purchase": 1}
    left_out = [s for s in refund.figures["samples"] if not s["included"]]
    assert "bought through an app store" in left_out[0]["en"]

    # and a credit to the balance reaches both
    credit = planned_run(creator, Remedy("credit_percent", percent_hundredths=1000))
    assert credit.figures["lines"] == 2 and credit.figures["excluded"] == {}


def test_lines_are_selected_by_sku_prefix_and_by_a_region_flag(admins):
    order(1, sku="cvm.sh.medium", flags=["region:ap-shanghai"])
    order(2, sku="cvm.gz.medium", flags=["region:ap-guangzhou"])
    order(3, sku="cvm.sh.large")

    by_prefix = planned_run(admins[0], products=(), skus=("cvm.sh.*",))
    by_flag = planned_run(admins[0], products=("cvm",), flags=("region:ap-guangzhou",))

    assert by_prefix.figures["lines"] == 2
    assert by_flag.figures["lines"] == 1
    assert set(by_flag.items.filter(state="pending").values_list(
        "order_line__order__external_id", flat=True)) == {"TC-COMP-00002"}


def test_a_case_the_run_cannot_open_is_skipped_with_its_reason_and_the_run_goes_on(admins):
    # given an approved run over two customers, then the first one's order refunded in
    # full before the run starts
    first, _second = order(1), order(2)
    creator, approver = admins
    run = approved_run(creator, approver)
    Payout.objects.create(case=_any_case(first), payment=first.payments.get(),
                          destination="original", gateway="sandbox", amount_minor=96000,
                          currency="CNY", state="succeeded", created_at=NOW)

    run = run_now(run, creator)

    assert run.state == "finished" and run.cases_opened == 1
    skipped = run.items.get(state=ItemState.SKIPPED)
    assert skipped.reason == "refused" and "left to refund" in skipped.reason_ref


# -- four eyes and the audit ----------------------------------------------------------------

def test_the_admin_who_created_a_run_cannot_approve_it(admins):
    order(1)
    creator, _approver = admins
    run = planned_run(creator)

    with pytest.raises(actions.NotPermitted) as refused:
        actions.approve(run, actor=creator, seen=actions.stamp(run), now=NOW)

    assert "another admin must approve it" in str(refused.value)
    assert CompensationRun.objects.get(pk=run.pk).state == "awaiting_approval"


def test_an_approval_of_a_dry_run_worked_out_again_since_is_refused(admins):
    order(1)
    creator, approver = admins
    run = planned_run(creator)
    shown = actions.stamp(run)
    actions.dry_run(run, actor=creator, now=NOW + timedelta(minutes=1))

    with pytest.raises(actions.RunChanged):
        actions.approve(run, actor=approver, seen=shown, now=NOW)


def test_only_admins_plan_and_steer_runs_and_nobody_acts_without_being_someone(admins):
    from refunddesk.cases.actors import COMPENSATION
    from tests.compensation.builders import spec
    from tests.staff import staff_member

    order(1)
    for role in ("agent", "reviewer", "finance"):
        with pytest.raises(actions.NotPermitted):
            actions.create_run(spec(), actor=staff_member(f"{role}-x", role), now=NOW)
    for nobody in (None, COMPENSATION):
        with pytest.raises(actions.NotPermitted):
            actions.create_run(spec(), actor=nobody, now=NOW)
    run = planned_run(admins[0])
    with pytest.raises(actions.NotPermitted):
        moving.finish(run, actor=admins[1], now=NOW)
    assert CompensationRun.objects.count() == 1


def test_a_decline_by_another_admin_needs_a_reason_the_creator_may_withdraw_without(admins):
    order(1)
    creator, approver = admins
    run = planned_run(creator)
    with pytest.raises(actions.RunError):
        actions.decline(run, actor=approver, reason=" ", now=NOW)

    actions.decline(run, actor=creator, now=NOW)

    assert CompensationRun.objects.get(pk=run.pk).state == "declined"
    with pytest.raises(actions.RunError):
        actions.start(run, actor=creator, now=NOW)


def test_bad_choices_are_refused_and_nothing_is_created(admins):
    from tests.compensation.builders import spec

    with pytest.raises(actions.RunError):
        actions.create_run(spec(products=(), skus=(), flags=()), actor=admins[0], now=NOW)
    with pytest.raises(actions.RunError):
        actions.create_run(spec(products=("no-such-product",)), actor=admins[0], now=NOW)
    with pytest.raises(actions.RunError):  # the outage is not over
        actions.create_run(spec(), actor=admins[0], now=OUTAGE.end - timedelta(hours=1))
    assert not CompensationRun.objects.exists()


def test_every_step_is_audited_once_with_its_states_and_who_did_it(admins):
    for number in range(2):
        order(number)
    creator, approver = admins
    run = planned_run(creator)
    actions.approve(run, actor=approver, seen=actions.stamp(run), now=NOW)
    actions.start(run, actor=creator, now=LATER)
    actions.pause(run, actor=approver, now=LATER)
    actions.resume(run, actor=creator, now=LATER)
    run_compensation.call(run.pk)

    steps = list(run.events.order_by("pk").values_list("kind", "from_state", "to_state",
                                                         "actor__username", "actor_name"))
    assert steps == [
        ("created", "", "draft", "admin-plans", ""),
        ("dry_run", "draft", "awaiting_approval", "admin-plans", ""),
        ("approved", "awaiting_approval", "approved", "admin-approves", ""),
        ("started", "approved", "running", "admin-plans", ""),
        ("paused", "running", "paused", "admin-approves", ""),
        ("resumed", "paused", "running", "admin-plans", ""),
        ("finished", "running", "finished", None, "compensation"),
    ]
    finished = run.events.get(kind="finished").details
    assert (finished["lines_done"], finished["totals"]) == (2, {"CNY": "15.78"})


def test_a_run_that_fails_says_why_and_can_be_resumed(admins, monkeypatch):
    from refunddesk.compensation import running

    order(1)
    creator, approver = admins
    run = actions.start(approved_run(creator, approver), actor=creator, now=LATER)

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(running, "_compensate", broken)
    assert run_compensation.call(run.pk) == "failed"
    run = CompensationRun.objects.get(pk=run.pk)
    assert run.state == "failed" and "the database went away" in run.error
    assert run.events.get(kind="failed").actor_name == "compensation"
    assert not RefundCase.objects.exists()

    monkeypatch.undo()
    actions.resume(run, actor=approver, now=LATER)
    assert run_compensation.call(run.pk) == "finished"
    assert RefundCase.objects.count() == 1


def test_a_line_cannot_be_recorded_twice_for_one_run(admins):
    from django.db import IntegrityError, transaction

    order(1)
    run = planned_run(admins[0])
    item = run.items.get()
    with pytest.raises(IntegrityError), transaction.atomic():
        CompensationItem.objects.create(run=run, order_line=item.order_line,
                                        account=item.account, currency="CNY",
                                        affected=timedelta(days=1), state="pending")


def test_the_excluded_reasons_all_have_words():
    from refunddesk.compensation.presenting import REASON_LABELS

    codes = {value for name, value in vars(remedies).items()
             if name.isupper() and isinstance(value, str) and name not in (
                 "REFUND_TIME", "CREDIT_PERCENT", "CREDIT_FIXED", "EXTENSION")}
    assert codes <= set(REASON_LABELS)
