"""The console's case page: everything staff need to decide, the forms their role and the
case's state allow, and the inline preview of the documents."""

import html
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from refunddesk.cases import actions
from refunddesk.cases.actions import IdentityCheck
from refunddesk.cases.actors import customer_of
from tests.console.case_builders import (
    PNG,
    case_url,
    cloud_order,
    large_case,
    page_of,
    png,
    reviewed_case,
    text_file,
)
from tests.portal.builders import PDF, pdf
from tests.staff import approval_limit, rejection_reason

pytestmark = pytest.mark.django_db


ACTIONS = ("claim", "assign", "note", "message", "request_info", "approve", "confirm",
           "decline", "reject", "escalate")


def form_action(case, name):
    return f'action="{case_url(case, name)}"'


def body(response):
    return b"".join(response.streaming_content)


# -- what the page shows --------------------------------------------------------------------

def test_the_page_shows_the_customer_and_the_accounts_other_cases(staff_client):
    # given a customer with two cases
    case = reviewed_case("TC-CASE-0001")
    other_order = cloud_order("TC-CASE-0002", case.account.external_id)
    other = actions.submit(account=case.account, order=other_order, line_ids=["1"],
                           actor=customer_of(case.account), channel="email")

    # when an agent opens the first
    page = page_of(staff_client("agent"), case)

    # then the account and the other case are shown
    assert case.account.name in page
    assert case.account.email in page
    assert case.account.external_id in page
    assert case_url(other) in page
    assert "TC-CASE-0002" in page


def test_the_page_shows_the_order_its_lines_payments_and_usage(staff_client):
    case = reviewed_case(lines=("1200.00", "300.00"), usage=True)

    page = page_of(staff_client("agent"), case)

    assert "TC-CASE-0001" in page and "New purchase" in page and "Direct" in page
    assert "cvm.s1.large" in page and "cvm.s2.large" in page
    assert "1 × year" in page
    assert "1200.00 CNY" in page and "300.00 CNY" in page
    for line in case.lines.all():
        assert f"{line.assessed_minor // 100}.{line.assessed_minor % 100:02d} CNY" in page
    assert "the standard refund of unused time" in page
    assert "Alipay" in page and "Cash" in page and "CN¥1,500.00" in page
    assert "202600018812" in page
    assert "cpu_hours" in page and "712.5 h" in page


def test_the_assessment_is_explained_in_the_readers_language(staff_client):
    case = reviewed_case()
    client = staff_client("agent")

    english = page_of(client, case)
    chinese = client.get(case_url(case), headers={"Accept-Language": "zh-hans"})

    assert f"Total refund: {case.assessment['total']} CNY." in english
    assert f"退款合计：{case.assessment['total']} CNY。" in chinese.content.decode()


def test_documents_are_previewed_inline_by_their_type(staff_client):
    # given a case with an image, a PDF and a text file (with markup in it)
    case = reviewed_case(uploads=(png("screen.png"), pdf("receipt.pdf"),
                                  text_file("log.txt", "boot failed: x<1 & <b>y</b>\n")))
    image, document, text = case.documents.order_by("pk")

    page = page_of(staff_client("agent"), case)

    # then the image is an <img>, the PDF an <iframe>, the text a <pre>, escaped
    image_url = case_url(case, "console:case_document", image.pk)
    pdf_url = case_url(case, "console:case_document", document.pk)
    assert f'<img class="document-preview" src="{image_url}"' in page
    assert f'<iframe class="document-preview document-pdf" src="{pdf_url}"' in page
    assert '<pre class="document-preview document-text">boot failed: x&lt;1 &amp; ' \
           '&lt;b&gt;y&lt;/b&gt;' in page
    assert text.name in page


def test_the_thread_marks_internal_notes(staff_client, agent):
    case = reviewed_case()
    actions.post_message(case, actor=agent, body="Customer sounds upset", is_internal=True)
    actions.post_message(case, actor=agent, body="We are looking at it")

    page = page_of(staff_client("agent"), case)

    assert "Customer sounds upset" in page and "We are looking at it" in page
    assert page.count("message-internal") == 1
    assert "Internal note: staff only" in page


def test_the_timeline_shows_every_event_with_actor_states_and_details(staff_client, agent,
                                                                      reviewer):
    # given a case claimed (an internal event) and escalated with a reason
    case = reviewed_case()
    actions.claim(case, actor=agent)
    actions.escalate(case, actor=agent, reason="Large customer", assignee=reviewer)

    page = page_of(staff_client("agent"), case)

    # then the customer's, the system's and the staff's events are all there
    assert "Request received" in page and "Sent to review" in page
    assert "Assigned" in page and "Escalated to a reviewer" in page
    assert "agent (staff)" in page
    assert "RefundDesk (automatic decision)" in page  # the system, named for what it did
    assert "Submitted → In review" in page
    assert "Large customer" in page
    assert "staff only" in page


def test_the_timeline_names_what_the_desk_stores_as_codes(staff_client, agent):
    # given a portal case the policy sent to review, rejected for a reason from the list
    case = reviewed_case()
    actions.reject(case, actor=agent, reason=rejection_reason("not_eligible"),
                   message="Outside the policy.")

    page = page_of(staff_client("agent"), case)

    # then the handling, the channel and the reason read as words, not as stored codes
    assert "<dd>an agent reviews it</dd>" in page
    assert "<dd>Customer portal</dd>" in page
    assert "<dd>Not eligible</dd>" in page
    assert "<dd>review</dd>" not in page and "<dd>portal</dd>" not in page
    assert "<dd>not_eligible</dd>" not in page


def test_the_clocks_show_when_the_response_is_due_and_flag_it_overdue(staff_client):
    # given a case submitted three days ago that nobody answered
    order = cloud_order("TC-OLD-0001", "acct-old", started_days_ago=40)
    case = actions.submit(account=order.account, order=order, line_ids=["1"],
                          actor=customer_of(order.account),
                          channel="portal", now=timezone.now() - timedelta(days=3))

    page = page_of(staff_client("agent"), case)

    assert "First response" in page and "Decision" in page
    assert timezone.localtime(case.first_response_due).strftime("%Y-%m-%d %H:%M") in page
    assert "sla-overdue" in page
    assert "Overdue" in page


def test_a_case_waiting_for_the_customer_shows_the_paused_clock_and_the_deadline(
        staff_client, agent):
    case = reviewed_case()
    due = timezone.now() + timedelta(days=5)
    actions.request_info(case, actor=agent, questions="Send the invoice", due=due,
                         documents=["payment_proof"])

    page = page_of(staff_client("agent"), case)

    assert "Waiting for the customer" in page
    assert "Paused since" in page
    assert "Customer&#x27;s answer" in page
    assert timezone.localtime(due).strftime("%Y-%m-%d %H:%M") in page
    assert "Proof of payment (receipt or bank statement)" in page


def test_a_case_opened_by_an_agent_shows_the_identity_check(staff_client, agent):
    order = cloud_order("TC-CALL-0001", "acct-call")
    [case] = actions.open_for_customer(
        account=order.account, order=order, line_ids=["1"], actor=agent,
        identity=IdentityCheck(contact=order.account.email, order_number="TC-CALL-0001",
                               payment_reference="8812"), language="en")

    page = page_of(staff_client("reviewer"), case)

    assert "Identity check" in page
    assert "the e-mail address matches the account" in page
    assert "given correctly" in page
    assert "the caller read out the end of a payment reference" in page
    assert "opened by agent" in page


def test_a_waiting_four_eyes_approval_shows_who_proposed_it(staff_client, reviewer):
    case = large_case()
    actions.approve(case, actor=reviewer)

    page = page_of(staff_client("reviewer", "reviewer-3"), case)

    assert "Approval waits for a second person" in page
    assert "reviewer proposes to approve" in page
    assert "50000.00 CNY" in page  # the policy's threshold


def test_an_appeal_shows_the_customers_text_and_whose_decision_it_contests(staff_client,
                                                                           reviewer):
    case = reviewed_case()
    actions.reject(case, actor=reviewer, reason=rejection_reason(),
                   message="Used too long")
    actions.appeal(case, actor=customer_of(case.account), text="The server never booted",
                   uploads=[pdf()])

    page = page_of(staff_client("reviewer", "reviewer-3"), case)

    assert "The server never booted" in page
    assert "against the decision of reviewer" in page
    assert "Appealed" in page


# -- which forms are shown --------------------------------------------------------------------

def test_an_agent_sees_the_forms_of_a_case_in_review(staff_client):
    case = reviewed_case()

    page = page_of(staff_client("agent"), case)

    for name in ACTIONS:
        if name in ("confirm", "decline"):
            continue
        assert form_action(case, f"console:case_{name}") in page, name
    assert form_action(case, "console:case_confirm") not in page


def test_finance_reads_the_case_without_any_form(staff_client):
    case = reviewed_case()

    page = page_of(staff_client("finance"), case)

    assert case.tracking_number in page and "Assessment" in page
    assert "your role does not act on it" in page
    assert not [name for name in ACTIONS if form_action(case, f"console:case_{name}") in page]


def test_the_proposer_may_take_back_but_not_confirm_and_a_second_reviewer_may_confirm(
        client, reviewer, second_reviewer):
    case = large_case()
    actions.approve(case, actor=reviewer)

    client.force_login(reviewer)
    own = page_of(client, case)
    client.force_login(second_reviewer)
    other = page_of(client, case)

    assert form_action(case, "console:case_confirm") not in own
    assert "Take back your proposal" in own
    assert form_action(case, "console:case_approve") not in own
    assert form_action(case, "console:case_confirm") in other
    assert "Decline the approval" in other


def test_an_appeal_offers_no_decision_to_agents_or_to_the_reviewer_who_decided(
        client, agent, reviewer, second_reviewer):
    case = reviewed_case()
    actions.reject(case, actor=reviewer, reason=rejection_reason(), message="No")
    actions.appeal(case, actor=customer_of(case.account), text="Please look again", uploads=[pdf()])

    pages = {}
    for user in (agent, reviewer, second_reviewer):
        client.force_login(user)
        pages[user.username] = page_of(client, case)

    assert form_action(case, "console:case_approve") not in pages["agent"]
    assert form_action(case, "console:case_approve") not in pages["reviewer"]
    assert form_action(case, "console:case_approve") in pages["reviewer-2"]
    assert form_action(case, "console:case_reject") in pages["reviewer-2"]


def test_the_approve_form_is_prefilled_per_line_and_shows_the_agents_limit(staff_client):
    approval_limit("agent", "CNY", 2000_00)
    case = reviewed_case(lines=("1200.00", "300.00"))
    first, second = case.lines.order_by("order_line__position")

    page = page_of(staff_client("agent"), case)

    assert f'name="amount_0" value="{first.assessed_minor / 100:.2f}"' in page
    assert f'name="amount_1" value="{second.assessed_minor / 100:.2f}"' in page
    assert "Your approval limit: CN¥2,000.00." in page
    assert 'name="justification"' not in page  # agents cannot override


def test_the_request_form_proposes_a_deadline_five_days_ahead(staff_client):
    case = reviewed_case()

    page = page_of(staff_client("agent"), case)

    expected = timezone.localdate() + timedelta(days=5)
    assert f'name="due_day" value="{expected:%Y-%m-%d}"' in page


# -- who gets the page ----------------------------------------------------------------------

def test_a_stranger_is_sent_to_log_in(client):
    case = reviewed_case()

    response = client.get(case_url(case))

    assert response.status_code == 302
    assert response.headers["Location"].startswith(reverse("account_login"))


def test_a_customer_is_refused_even_their_own_case(client):
    case = reviewed_case()
    client.force_login(case.account.user)

    assert client.get(case_url(case)).status_code == 403


def test_an_unknown_or_malformed_tracking_number_is_not_found(staff_client):
    client = staff_client("agent")

    assert client.get(reverse("console:case", args=["2222-2222-222"])).status_code == 404
    assert client.get(reverse("console:case", args=["nonsense"])).status_code == 404


# -- the document preview ---------------------------------------------------------------------

@pytest.fixture
def documents(db):
    case = reviewed_case(uploads=(png(), pdf("收据.pdf"), text_file()))
    return dict(zip(("image", "pdf", "text"), case.documents.order_by("pk"), strict=True))


def preview_url(document, query=""):
    return case_url(document.case, "console:case_document", document.pk) + query


def test_a_pdf_is_served_inline_sandboxed_and_framable_only_by_the_console(staff_client,
                                                                          documents):
    response = staff_client("agent").get(preview_url(documents["pdf"]))

    assert response.status_code == 200
    assert body(response) == PDF
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("inline;")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"].split(";")[0] == "sandbox"
    assert "frame-ancestors 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.headers["Cache-Control"] == "private, no-store"


def test_images_and_text_keep_their_checked_type(staff_client, documents):
    client = staff_client("finance")

    image = client.get(preview_url(documents["image"]))
    text = client.get(preview_url(documents["text"]))

    assert image.headers["Content-Type"] == "image/png" and body(image) == PNG
    assert text.headers["Content-Type"] == "text/plain; charset=utf-8"
    assert text.headers["Content-Security-Policy"].startswith("sandbox")


def test_a_document_can_be_downloaded_as_an_attachment(staff_client, documents):
    response = staff_client("agent").get(preview_url(documents["pdf"], "?download"))

    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''%E6%94%B6%E6%8D%AE.pdf" in response.headers["Content-Disposition"]


def test_a_document_of_another_case_is_not_found_under_this_case(staff_client, documents):
    other = reviewed_case("TC-CASE-0009", uploads=(pdf(),))
    wrong = case_url(documents["pdf"].case, "console:case_document", other.documents.get().pk)

    assert staff_client("agent").get(wrong).status_code == 404


def test_a_stored_type_outside_the_checked_ones_is_never_served(staff_client, documents):
    # given a row whose type the upload check would not have let in (tampered data)
    documents["text"].__class__.objects.filter(pk=documents["text"].pk).update(
        content_type="text/html")

    assert staff_client("agent").get(preview_url(documents["text"])).status_code == 404


def test_strangers_and_customers_get_no_document(client, documents):
    url = preview_url(documents["pdf"])

    assert client.get(url).status_code == 302
    client.force_login(documents["pdf"].case.account.user)
    assert client.get(url).status_code == 403


def test_the_page_escapes_what_customers_wrote(staff_client):
    case = reviewed_case()
    actions.post_message(case, actor=case.account.user, body="<b>bold</b>")

    page = page_of(staff_client("agent"), case)

    assert html.escape("<b>bold</b>") in page
    assert "<b>bold</b>" not in page
