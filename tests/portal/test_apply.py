"""Applying for a refund: the live quote, submitting, the confirmation with the tracking
number, and refusals that change nothing."""

import re

import pytest
from django.urls import reverse

from refunddesk.cases.models import Document, RefundCase
from tests.portal.builders import customer_for, executable_named_pdf, pdf, server_order, vpn_order

pytestmark = pytest.mark.django_db


def apply_url(order):
    return reverse("portal:apply", args=[order.external_id])


def quote_url(order):
    return reverse("portal:quote", args=[order.external_id])


def test_the_apply_page_lists_the_lines_of_the_order_with_a_live_quote_panel(
        alice_client, alice_order):
    response = alice_client.get(apply_url(alice_order))

    page = response.content.decode()
    assert response.status_code == 200
    assert "云服务器 CVM" in page
    assert 'name="lines" value="1"' in page
    assert f'hx-post="{quote_url(alice_order)}"' in page
    assert 'id="quote-panel"' in page and 'aria-live="polite"' in page


def test_the_quote_shows_the_amount_destination_and_explanation_in_chinese(
        alice_client, alice_order):
    response = alice_client.post(quote_url(alice_order), {"lines": ["1"]})

    page = response.content.decode()
    assert response.status_code == 200
    assert "900.00 CNY" in page
    assert "账户余额" in page  # Tencent Cloud refunds to the account balance
    assert "五天无理由退款" in page
    assert "提交后立即批准" in page


def test_the_quote_speaks_english_when_the_viewer_does(alice_client, alice_order):
    response = alice_client.post(quote_url(alice_order), {"lines": ["1"]},
                                 headers={"Accept-Language": "en"})

    page = response.content.decode()
    assert "900.00 CNY" in page
    assert "to your account balance" in page
    assert "Line 1: the five-day no-reason refund applies." in page
    assert "Approved at once when you submit." in page


def test_a_quote_without_lines_asks_to_choose_some(alice_client, alice_order):
    response = alice_client.post(quote_url(alice_order), {},
                                 headers={"Accept-Language": "en"})

    assert "Choose the lines you want refunded" in response.content.decode()


def test_applying_inside_the_five_day_window_is_approved_at_once_with_the_tracking_number(
        alice_client, alice_order):
    response = alice_client.post(apply_url(alice_order), {"lines": ["1"]})

    case = RefundCase.objects.get(order=alice_order)
    assert response.status_code == 302
    assert response.headers["Location"] == reverse("portal:received",
                                                   args=[case.tracking_number])
    assert case.state == "approved"
    assert case.approved_total_minor == 900_00
    assert case.channel == "portal"
    confirmation = alice_client.get(response.headers["Location"]).content.decode()
    assert case.tracking_number in confirmation
    assert "¥900.00" in confirmation
    assert "已批准" in confirmation


def test_applying_after_the_money_back_window_goes_to_review(client, db):
    order = vpn_order("VPN-LATE-1", "acct-late", "late@example.com", placed_days_ago=45)
    client.force_login(customer_for(order.account))

    quote = client.post(quote_url(order), {"lines": ["1"]}, headers={"Accept-Language": "en"})
    response = client.post(apply_url(order), {"lines": ["1"]})

    assert "An agent reviews your request" in quote.content.decode()
    case = RefundCase.objects.get(order=order)
    assert response.status_code == 302
    assert case.state == "in_review"
    assert case.approved_total_minor is None
    confirmation = client.get(response.headers["Location"]).content.decode()
    assert case.tracking_number in confirmation
    assert "审核中" in confirmation


def test_a_reason_and_an_attachment_are_kept_with_the_case(alice_client, alice_order):
    from refunddesk.cases.models import ReasonCategory

    reason = ReasonCategory.objects.create(code="changed_mind", name_zh="不想要了",
                                           name_en="Changed my mind")

    alice_client.post(apply_url(alice_order), {
        "lines": ["1"], "reason_category": reason.pk, "reason_text": "用不上了",
        "attachments": [pdf("付款截图.pdf")]})

    case = RefundCase.objects.get(order=alice_order)
    assert case.reason_category == reason
    assert case.reason_text == "用不上了"
    assert [d.name for d in case.documents.all()] == ["付款截图.pdf"]


def test_an_executable_renamed_pdf_is_refused_with_a_message_and_no_case_is_created(
        alice_client, alice_order):
    response = alice_client.post(apply_url(alice_order), {
        "lines": ["1"], "attachments": [executable_named_pdf()]},
        headers={"Accept-Language": "en"})

    assert response.status_code == 400
    assert "This type of file is not accepted" in response.content.decode()
    assert not RefundCase.objects.exists()
    assert not Document.objects.exists()


def test_applying_twice_for_the_same_line_is_refused_with_a_clear_message(
        alice_client, alice_order):
    alice_client.post(apply_url(alice_order), {"lines": ["1"]})
    first = RefundCase.objects.get()

    response = alice_client.post(apply_url(alice_order), {"lines": ["1"]},
                                 headers={"Accept-Language": "en"})

    page = response.content.decode()
    assert response.status_code == 400
    assert "A refund case is already open for line 1" in page
    assert first.tracking_number in page
    assert RefundCase.objects.count() == 1


def test_a_line_already_in_a_case_is_shown_but_cannot_be_chosen(alice_client, alice_order):
    alice_client.post(apply_url(alice_order), {"lines": ["1"]})
    case = RefundCase.objects.get()

    page = alice_client.get(apply_url(alice_order)).content.decode()

    assert re.search(r'<input type="checkbox" name="lines" value="1" id="line-1"\s+disabled', page)
    assert reverse("portal:case", args=[case.tracking_number]) in page


def test_choosing_no_line_is_refused(alice_client, alice_order):
    response = alice_client.post(apply_url(alice_order), {}, headers={"Accept-Language": "en"})

    assert response.status_code == 400
    assert "Choose at least one line of the order." in response.content.decode()
    assert not RefundCase.objects.exists()


def test_a_second_line_of_the_same_order_can_be_applied_for_on_its_own(client, db):
    order = vpn_order("VPN-TWO-1", "acct-two", "two@example.com", lines=2)
    client.force_login(customer_for(order.account))

    client.post(apply_url(order), {"lines": ["1"]})
    response = client.post(apply_url(order), {"lines": ["2"]})

    assert response.status_code == 302
    assert RefundCase.objects.filter(order=order).count() == 2


def test_the_five_day_refund_is_not_offered_a_second_time_for_the_product(client, db):
    first = server_order("TC-Q-1", "acct-q", "q@example.com", started_days_ago=1)
    second = server_order("TC-Q-2", "acct-q", "q@example.com", started_days_ago=1)
    client.force_login(customer_for(first.account))
    client.post(apply_url(first), {"lines": ["1"]})

    quote = client.post(quote_url(second), {"lines": ["1"]}, headers={"Accept-Language": "en"})

    assert "five-day no-reason refund does not apply" in quote.content.decode()


@pytest.mark.parametrize(("language", "sentence"), [
    ("en", "If the refund is approved, Cloud Virtual Machine stops then and no longer "
           "renews."),
    ("zh-hans", "退款一经批准，云服务器 CVM 即停止服务，不再续费。"),
])
def test_the_quote_says_the_service_stops_before_the_customer_submits(
        alice_client, alice_order, language, sentence):
    response = alice_client.post(quote_url(alice_order), {"lines": ["1"]},
                                 headers={"Accept-Language": language})

    assert sentence in response.content.decode()
