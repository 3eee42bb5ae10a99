"""One application for lines under different refund policies opens one case per policy
(cases/actions/submission.py): each with its own tracking number and assessment, all in one
transaction, one "received" e-mail for them all; lines under no policy are refused."""

from __future__ import annotations

import pytest
from django.utils import translation

from refunddesk.billing.models import Product
from refunddesk.cases import actions
from refunddesk.cases.actions import submission
from refunddesk.cases.actors import customer_of
from refunddesk.cases.events import CaseEventType
from refunddesk.cases.models import CaseEvent, CaseLine, Document, RefundCase
from refunddesk.cases.states import State
from refunddesk.notifications.models import EmailDelivery
from tests.cases.test_actions import pdf
from tests.portal.builders import mixed_order, server_order

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def in_english():
    with translation.override("en"):
        yield


@pytest.fixture
def order():
    """Line 1 a server (Tencent Cloud), line 2 a VPN (the 30-day guarantee), both in their
    windows."""
    return mixed_order("MIX-CASES-1", "acct-mix", "mix@example.com")


def open_cases(order, line_ids=("1", "2"), **kwargs):
    return actions.open_cases(account=order.account, order=order, line_ids=list(line_ids),
                              actor=customer_of(order.account), channel="portal", **kwargs)


def lines_of(case):
    return list(case.lines.order_by("order_line__position", "pk")
                .values_list("order_line__line_id", flat=True))


def test_lines_under_two_policies_open_two_cases_each_assessed_under_its_own_policy(order):
    # When the customer applies for both lines at once
    cases = open_cases(order)

    # Then one case per policy is opened, in the order of the lines, each with its own
    # tracking number, lines, policy and assessment
    assert len(cases) == 2 and RefundCase.objects.count() == 2
    server, vpn = cases
    assert server.tracking_number != vpn.tracking_number
    assert (lines_of(server), lines_of(vpn)) == (["1"], ["2"])
    assert server.policy_ref == "tencent-cloud@1" and vpn.policy_ref == "vpn-30-day@1"
    assert server.assessment["rule"] == "five_day_no_reason"
    assert vpn.assessment["rule"] == "money_back"
    assert (server.assessed_total_minor, vpn.assessed_total_minor) == (914_29, 300_00)
    # And each was decided as its own policy says: both windows are open, both approved
    assert {server.state, vpn.state} == {State.APPROVED}
    # And they are known to belong together
    assert server.submission is not None and server.submission == vpn.submission
    assert server.submitted_together() == [server, vpn]


def test_each_case_of_a_submission_has_its_own_received_and_decision_events(order):
    cases = open_cases(order)

    for case in cases:
        actions_written = list(case.events.values_list("action", flat=True))
        assert actions_written == [CaseEventType.SUBMITTED, CaseEventType.APPROVED]
    submitted = CaseEvent.objects.filter(action=CaseEventType.SUBMITTED)
    assert sorted(event.data["lines"] for event in submitted) == [["1"], ["2"]]


def test_a_submission_queues_one_received_email_on_its_first_case_and_each_decision(order):
    server, vpn = open_cases(order)

    received = EmailDelivery.objects.filter(kind="submitted")
    assert [delivery.case for delivery in received] == [server]
    decided = EmailDelivery.objects.filter(kind="decided").values_list("case", flat=True)
    assert sorted(decided) == sorted([server.pk, vpn.pk])


def test_lines_under_one_policy_open_one_case_as_before(order):
    # When the customer applies for the server line alone
    cases = open_cases(order, ["1"])

    # Then it is one case, on its own, with its own e-mails
    assert len(cases) == 1
    case = cases[0]
    assert case.submission is None and case.submitted_together() == [case]
    kinds = sorted(EmailDelivery.objects.filter(case=case).values_list("kind", flat=True))
    assert kinds == ["decided", "submitted"]


def test_a_second_line_under_the_same_policy_stays_in_the_same_case(db):
    # Given a server order with two lines under one policy
    order = mixed_order("MIX-CASES-2", "acct-one", "one@example.com")
    Product.objects.filter(code="vpn").update(policy_id="tencent-cloud")

    # When both are applied for
    cases = open_cases(order)

    # Then one case holds both
    assert len(cases) == 1 and lines_of(cases[0]) == ["1", "2"]


def test_the_reason_and_the_documents_go_with_every_case_of_the_submission(order):
    cases = open_cases(order, reason_text="Bought by mistake.", uploads=[pdf("bill.pdf")])

    assert [case.reason_text for case in cases] == ["Bought by mistake."] * 2
    for case in cases:
        assert list(case.documents.values_list("name", flat=True)) == ["bill.pdf"]
    assert Document.objects.count() == 2


def test_applying_again_for_lines_already_in_cases_is_refused_and_opens_nothing(order):
    # Given a submission that opened two cases
    open_cases(order)

    # When the same lines are submitted again (a second click, a resent form)
    with pytest.raises(actions.LinesAlreadyInCase):
        open_cases(order)

    # Then nothing more is opened and no second e-mail is queued
    assert RefundCase.objects.count() == 2
    assert EmailDelivery.objects.filter(kind="submitted").count() == 1


def test_a_line_of_one_group_already_in_a_case_refuses_the_whole_submission(order):
    # Given the VPN line already in a case of its own
    actions.submit(account=order.account, order=order, line_ids=["2"],
                   actor=customer_of(order.account), channel="portal")

    # When both lines are applied for
    with pytest.raises(actions.LinesAlreadyInCase):
        open_cases(order)

    # Then no case is opened for the server line either
    assert RefundCase.objects.count() == 1
    assert not CaseLine.objects.filter(order_line__line_id="1").exists()


def test_when_a_later_case_cannot_be_opened_the_earlier_ones_are_not_opened_either(
        order, monkeypatch):
    # Given opening the second case fails, after the first has been written
    real_submit = submission.submit_written
    opened = []

    def failing_second(**kwargs):
        if opened:
            raise actions.CaseError("the second case failed")
        opened.append(real_submit(**kwargs))
        return opened[-1]

    monkeypatch.setattr(submission, "submit_written", failing_second)

    # When both lines are applied for
    with pytest.raises(actions.CaseError, match="the second case failed"):
        open_cases(order)

    # Then the first case was rolled back with it: nothing opened, nothing queued
    assert len(opened) == 1
    assert not RefundCase.objects.exists()
    assert not EmailDelivery.objects.exists()


def test_a_line_under_no_policy_is_refused_naming_it_and_nothing_is_opened(order):
    # Given the VPN product has no refund policy
    Product.objects.filter(code="vpn").update(policy_id="")

    # When both lines are applied for
    with pytest.raises(actions.NoRefundPolicy) as refused:
        open_cases(order)

    # Then the refusal names the line and says what to do, and nothing is opened
    assert refused.value.code == "no_policy"
    assert "Line 2 is not covered by any refund policy" in str(refused.value.message)
    assert "Leave it out" in str(refused.value.message)
    assert not RefundCase.objects.exists()


def test_lines_under_no_policy_are_named_together(db):
    order = mixed_order("MIX-CASES-3", "acct-none", "none@example.com")
    Product.objects.all().update(policy_id="")

    with pytest.raises(actions.NoRefundPolicy, match="Lines 1, 2 are not covered"):
        open_cases(order)


def test_someone_elses_order_is_refused(order):
    other = server_order("TC-OTHER-1", "acct-other", "other@example.com")

    with pytest.raises(actions.CaseError, match="does not belong"):
        actions.open_cases(account=other.account, order=order, line_ids=["1", "2"],
                           actor=customer_of(other.account), channel="portal")
    assert not RefundCase.objects.exists()


def test_a_line_the_order_does_not_have_is_refused(order):
    with pytest.raises(actions.CaseError, match="no line 9"):
        open_cases(order, ["1", "9"])
    assert not RefundCase.objects.exists()
