"""Every action of cases/actions.py: what it changes, what it records, what it refuses."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from refunddesk.cases import actions
from refunddesk.cases.actors import customer_of
from refunddesk.cases.models import CaseEvent, CaseLine, Document, RefundCase
from refunddesk.cases.states import InvalidTransition
from refunddesk.cases.uploads import UploadRefused
from refunddesk.notifications.models import EmailDelivery
from tests.cases.conftest import AFTER_FIVE_DAYS, INSIDE_FIVE_DAYS
from tests.staff import rejection_reason, staff_member

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_english():
    # The messages these tests match are English source strings; zh-hans is the default.
    with translation.override("en"):
        yield


@pytest.fixture
def customer(order):
    user = get_user_model().objects.create_user("li.lei@example.com", "li.lei@example.com")
    order.account.user = user
    order.account.save()
    return user


def reject(case, actor, message="No."):
    return actions.reject(case, actor=actor, reason=rejection_reason(), message=message)


@pytest.fixture
def agent(db):
    return staff_member("agent", "agent")


@pytest.fixture
def reviewer(db):
    return staff_member("reviewer", "reviewer")


def pdf(name="receipt.pdf"):
    return SimpleUploadedFile(name, b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n",
                              content_type="application/pdf")


def submit(order, customer, when, **kwargs):
    kwargs.setdefault("line_ids", ["1"])
    return actions.submit(account=order.account, order=order, actor=customer,
                          channel="portal", now=when, **kwargs)


def events(case):
    return list(case.events.values_list("action", "from_state", "to_state"))


def test_a_request_inside_the_five_days_is_approved_at_once_with_the_assessed_amount(
        order, customer):
    case = submit(order, customer, INSIDE_FIVE_DAYS)

    assert case.state == "approved"
    assert (case.assessed_total_minor, case.approved_total_minor) == (90000, 90000)
    assert case.policy_ref == "tencent-cloud@1"
    assert case.assessment["rule"] == "five_day_no_reason"
    assert events(case) == [("submitted", "", "submitted"),
                            ("approved", "submitted", "approved")]
    assert list(case.lines.values_list("rule", "assessed_minor", "approved_minor")) == [
        ("five_day_no_reason", 90000, 90000)]
    assert sorted(EmailDelivery.objects.filter(case=case).values_list("kind", flat=True)) == [
        "decided", "submitted"]


def test_a_request_after_the_window_goes_to_review(order, customer):
    case = submit(order, customer, AFTER_FIVE_DAYS)

    assert case.state == "in_review"
    assert case.approved_total_minor is None
    assert events(case)[-1] == ("routed_to_review", "submitted", "in_review")
    assert case.first_response_due > AFTER_FIVE_DAYS
    assert case.review_due >= case.first_response_due


def test_a_second_request_for_the_same_line_is_refused_and_changes_nothing(order, customer):
    submit(order, customer, AFTER_FIVE_DAYS)

    with pytest.raises(actions.LinesAlreadyInCase):
        submit(order, customer, AFTER_FIVE_DAYS)

    assert RefundCase.objects.count() == 1


def test_a_withdrawn_case_lets_the_line_be_applied_for_again(order, customer):
    first = submit(order, customer, AFTER_FIVE_DAYS)
    actions.withdraw(first, actor=customer)

    second = submit(order, customer, AFTER_FIVE_DAYS)

    assert second.pk != first.pk
    assert not CaseLine.objects.get(case=first).holds_line


def test_earlier_refunds_count_against_the_five_day_quota(order, customer, two_line_order):
    # given an approved five-day refund of the cvm on the first order
    submit(order, customer, INSIDE_FIVE_DAYS)

    # when the same account asks for another cvm within its five days
    second = submit(two_line_order, customer, INSIDE_FIVE_DAYS, line_ids=["1"])

    # then the quota (once per product, ever) is used up
    assert second.assessment["rule"] == "normal_refund"


def test_a_refused_upload_leaves_no_case_behind(order, customer):
    executable = SimpleUploadedFile("invoice.pdf", b"\x7fELF\x02\x01\x01" + b"\0" * 64)

    with pytest.raises(UploadRefused):
        submit(order, customer, INSIDE_FIVE_DAYS, uploads=[executable])

    assert not RefundCase.objects.exists()
    assert not EmailDelivery.objects.exists()


def test_documents_submitted_with_the_request_are_stored_under_their_checked_name(
        order, customer, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path

    case = submit(order, customer, AFTER_FIVE_DAYS, uploads=[pdf("../../发票.exe")])

    document = case.documents.get()
    assert (document.name, document.content_type) == ("发票.pdf", "application/pdf")
    assert document.file.name.startswith(f"cases/{case.tracking_number}/")
    assert (tmp_path / document.file.name).read_bytes().startswith(b"%PDF")


def test_a_customer_withdraws_a_case_under_review(order, customer):
    case = submit(order, customer, AFTER_FIVE_DAYS)

    case = actions.withdraw(case, actor=customer)

    assert case.state == "withdrawn"
    assert events(case)[-1] == ("withdrawn", "in_review", "withdrawn")


def test_an_approved_case_cannot_be_withdrawn(order, customer):
    case = submit(order, customer, INSIDE_FIVE_DAYS)

    with pytest.raises(InvalidTransition):
        actions.withdraw(case, actor=customer)

    assert RefundCase.objects.get(pk=case.pk).state == "approved"
    assert CaseEvent.objects.filter(case=case, action="withdrawn").count() == 0


def test_an_agent_asks_for_information_and_the_customer_supplements(order, customer, agent,
                                                                    settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    case = submit(order, customer, AFTER_FIVE_DAYS)

    case = actions.request_info(case, actor=agent, questions="Please send the invoice.",
                                due=AFTER_FIVE_DAYS + timedelta(days=7), now=AFTER_FIVE_DAYS)
    assert (case.state, case.info_due) == ("awaiting_customer", AFTER_FIVE_DAYS +
                                           timedelta(days=7))
    case = actions.supplement(case, actor=customer, message="Here it is.", uploads=[pdf()])

    assert (case.state, case.info_due) == ("in_review", None)
    assert [m.body for m in case.messages.all()] == ["Please send the invoice.", "Here it is."]
    assert case.documents.count() == 1
    assert [e[0] for e in events(case)][-2:] == ["information_requested", "supplemented"]
    assert EmailDelivery.objects.filter(case=case, kind="info_requested").exists()


def test_supplementing_a_case_nobody_asked_about_is_refused(order, customer):
    case = submit(order, customer, AFTER_FIVE_DAYS)

    with pytest.raises(InvalidTransition):
        actions.supplement(case, actor=customer, message="extra")


def test_a_rejected_customer_appeals_with_new_evidence(order, customer, agent, settings,
                                                        tmp_path):
    settings.MEDIA_ROOT = tmp_path
    case = submit(order, customer, AFTER_FIVE_DAYS)
    case = reject(case, agent, "Used for 3 months.")

    case = actions.appeal(case, actor=customer, text="The server never worked.",
                          uploads=[pdf("ticket.pdf")], now=case.decided_at + timedelta(days=1))

    assert case.state == "appealed"
    assert case.appeal_text == "The server never worked."
    assert EmailDelivery.objects.filter(case=case, kind="appeal_received").exists()


def test_an_appeal_without_a_document_is_refused(order, customer, agent):
    case = reject(submit(order, customer, AFTER_FIVE_DAYS), agent)

    with pytest.raises(actions.AppealNotAllowed, match="new evidence"):
        actions.appeal(case, actor=customer, text="Please.", uploads=[])


def test_an_appeal_after_the_policys_window_is_refused(order, customer, agent):
    case = reject(submit(order, customer, AFTER_FIVE_DAYS), agent)

    with pytest.raises(actions.AppealNotAllowed, match="has passed"):
        actions.appeal(case, actor=customer, text="Please.", uploads=[pdf()],
                       now=case.decided_at + timedelta(days=16))  # tencent-cloud: 15 days

    assert RefundCase.objects.get(pk=case.pk).state == "rejected"


def test_an_appeal_decided_in_favour_approves_the_case(order, customer, agent, reviewer,
                                                         settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    case = reject(submit(order, customer, AFTER_FIVE_DAYS), agent)
    case = actions.appeal(case, actor=customer, text="Please.", uploads=[pdf()],
                          now=case.decided_at)

    case = actions.approve(case, actor=reviewer)

    assert (case.state, case.approved_total_minor) == ("approved", case.assessed_total_minor)
    assert EmailDelivery.objects.filter(case=case, kind="appeal_decided").exists()


def test_an_appeal_rejected_again_closes_the_case_and_frees_the_line(order, customer, agent,
                                                                      reviewer, settings,
                                                                      tmp_path):
    settings.MEDIA_ROOT = tmp_path
    case = reject(submit(order, customer, AFTER_FIVE_DAYS), agent)
    case = actions.appeal(case, actor=customer, text="Please.", uploads=[pdf()],
                          now=case.decided_at)

    case = actions.reject(case, actor=reviewer, reason=rejection_reason(),
                          message="Still no.")

    assert case.state == "closed"
    assert not case.lines.filter(holds_line=True).exists()


def test_messages_and_internal_notes(order, customer, agent):
    case = submit(order, customer, AFTER_FIVE_DAYS)

    actions.post_message(case, actor=customer, body="When will I hear back?")
    actions.post_message(case, actor=agent, body="Looks fine.", is_internal=True)

    assert list(case.messages.values_list("author_kind", "is_internal")) == [
        ("customer", False), ("staff", True)]
    assert not case.events.get(action="note_added").is_customer_visible
    with pytest.raises(actions.CaseError):
        actions.post_message(case, actor=customer, body="sneaky", is_internal=True)
    with pytest.raises(actions.CaseError):
        actions.post_message(case, actor=customer, body="   ")


def test_more_documents_can_be_added_while_the_case_is_open(order, customer, settings,
                                                              tmp_path):
    settings.MEDIA_ROOT = tmp_path
    case = submit(order, customer, AFTER_FIVE_DAYS)

    actions.add_documents(case, actor=customer, uploads=[pdf(), pdf("second.pdf")])

    assert case.documents.count() == 2
    assert events(case)[-1] == ("documents_added", "in_review", "in_review")


def test_a_finished_case_takes_no_more_documents(order, customer):
    case = actions.withdraw(submit(order, customer, AFTER_FIVE_DAYS), actor=customer)

    with pytest.raises(actions.CaseError):
        actions.add_documents(case, actor=customer, uploads=[pdf()])
    assert not Document.objects.exists()


def test_an_order_of_another_account_is_refused(order, customer, two_line_order):
    other = type(order.account).objects.create(external_id="acct-2", email="x@example.com",
                                               name="X", created_at=AFTER_FIVE_DAYS)

    with pytest.raises(actions.CaseError, match="does not belong"):
        actions.submit(account=other, order=order, line_ids=["1"], actor=customer_of(other),
                       channel="portal", now=AFTER_FIVE_DAYS)


def test_an_unknown_line_is_refused_with_its_id(order, customer):
    with pytest.raises(actions.CaseError, match="no line 7"):
        submit(order, customer, AFTER_FIVE_DAYS, line_ids=["7"])


def test_case_events_are_append_only(order, customer):
    event = submit(order, customer, AFTER_FIVE_DAYS).events.first()

    event.action = "edited"
    with pytest.raises(ValueError, match="append-only"):
        event.save()


def test_asking_only_for_documents_writes_no_empty_message_nor_repeats_an_older_one(
        order, customer, agent):
    from refunddesk.notifications.compose import compose

    # given a case where the customer already wrote something
    case = submit(order, customer, AFTER_FIVE_DAYS)
    actions.post_message(case, actor=customer, body="When will I hear back?")

    # when the agent only picks the documents they need
    case = actions.request_info(case, actor=agent, questions="", documents=["invoice_return"],
                                due=AFTER_FIVE_DAYS + timedelta(days=7), now=AFTER_FIVE_DAYS)

    # then the thread has no empty message, and the e-mail lists the documents without
    # passing the customer's own words off as the question
    assert [m.body for m in case.messages.all()] == ["When will I hear back?"]
    with translation.override("en"):
        _subject, text, _html = compose(EmailDelivery(case=case, kind="info_requested",
                                                      language="en"))
    assert "When will I hear back?" not in text
    assert "Please send: " in text
