"""Applying for lines of one order that fall under different refund policies: the live quote
shows one block per policy, one submission opens one case per policy, and the confirmation
lists every tracking number. Lines under no policy are refused with a clear message."""

import re

import pytest
from django.urls import reverse

from refunddesk.billing.models import Product
from refunddesk.cases.models import RefundCase
from tests.portal.builders import customer_for, mixed_order, server_order

pytestmark = pytest.mark.django_db

ENGLISH = {"Accept-Language": "en"}


@pytest.fixture
def order():
    """Line 1 a server (Tencent Cloud, 914.29 back at once), line 2 a VPN (the 30-day
    guarantee, 300.00 back at once)."""
    return mixed_order("MIX-PORTAL-1", "acct-mix", "mix@example.com")


@pytest.fixture
def customer_client(client, order):
    client.force_login(customer_for(order.account))
    return client


def apply_url(order):
    return reverse("portal:apply", args=[order.external_id])


def quote_url(order):
    return reverse("portal:quote", args=[order.external_id])


def groups_of(page):
    """The quote's blocks, one per refund policy: the HTML of each <section>."""
    return re.findall(r'<section class="quote-group".*?</section>', page, flags=re.S)


def test_the_quote_of_lines_under_two_policies_shows_one_block_per_policy_in_english(
        customer_client, order):
    response = customer_client.post(quote_url(order), {"lines": ["1", "2"]}, headers=ENGLISH)

    page = response.content.decode()
    assert response.status_code == 200
    # Then the customer is told the lines become two requests, each with its own number
    assert ("These lines fall under 2 different refund policies, so they become 2 separate "
            "requests, each with its own tracking number") in page
    assert "CN¥1,214.29" in page  # in all
    # And each policy's block has its lines, amount, route and reasoning
    server, vpn = groups_of(page)
    assert "Request 1 of 2 · Tencent Cloud" in server
    assert "Line 1</span>" not in server and "Line 1: Cloud Virtual Machine" in server
    assert "CN¥914.29" in server and "to your account balance" in server
    assert "Line 1: the five-day no-reason refund applies." in server
    assert "Request 2 of 2 · VPN 30-day money-back guarantee" in vpn
    assert "Line 2: Harbor VPN" in vpn
    assert "CN¥300.00" in vpn and "back to Alipay" in vpn
    assert "Approved at once when you submit." in server and vpn
    assert "Refund policy: VPN 30-day money-back guarantee" in vpn


def test_the_quote_of_lines_under_two_policies_speaks_chinese_by_default(
        customer_client, order):
    response = customer_client.post(quote_url(order), {"lines": ["1", "2"]})

    page = response.content.decode()
    assert "这些明细分属 2 个不同的退款政策" in page
    server, vpn = groups_of(page)
    assert "申请 1 / 2" in server and "¥914.29" in server and "五天无理由退款" in server
    assert "申请 2 / 2" in vpn and "¥300.00" in vpn and "支付宝" in vpn
    assert "CN¥" not in server + vpn


def test_the_quote_of_lines_under_one_policy_is_one_block_without_the_split_notice(
        customer_client, order):
    response = customer_client.post(quote_url(order), {"lines": ["2"]}, headers=ENGLISH)

    page = response.content.decode()
    assert "CN¥300.00" in page and "Approved at once when you submit." in page
    assert "separate requests" not in page and not groups_of(page)


def test_the_quote_without_javascript_shows_the_blocks_too(customer_client, order):
    response = customer_client.post(apply_url(order), {"lines": ["1", "2"], "action": "quote"},
                                    headers=ENGLISH)

    assert response.status_code == 200
    assert len(groups_of(response.content.decode())) == 2
    assert not RefundCase.objects.exists()


def test_the_quote_names_a_line_under_no_policy_and_says_what_to_do(customer_client, order):
    Product.objects.filter(code="vpn").update(policy_id="")

    response = customer_client.post(quote_url(order), {"lines": ["1", "2"]}, headers=ENGLISH)

    page = response.content.decode()
    assert "Line 2 is not covered by any refund policy" in page
    assert "Leave it out to apply for the other lines" in page
    assert not groups_of(page)


def test_submitting_lines_under_two_policies_opens_two_cases_and_lists_both(
        customer_client, order):
    # When the customer submits both lines
    response = customer_client.post(apply_url(order), {"lines": ["1", "2"]})

    # Then two cases are opened, and the confirmation of the first is shown
    server, vpn = RefundCase.objects.order_by("pk")
    assert response.status_code == 302
    assert response.headers["Location"] == reverse("portal:received",
                                                   args=[server.tracking_number])
    assert server.submission == vpn.submission is not None
    # And it lists both tracking numbers, each with its links
    page = customer_client.get(response.headers["Location"], headers=ENGLISH
                               ).content.decode()
    assert "We have received your refund requests" in page
    assert "they became 2 separate requests" in page
    for number, case in enumerate((server, vpn), start=1):
        assert f'id="tracking-number-{number}">{case.tracking_number}<' in page
        assert f'href="{reverse("portal:case", args=[case.tracking_number])}"' in page
        assert f"/track?number={case.tracking_number}" in page
    assert "CN¥914.29" in page and "CN¥300.00" in page
    assert "Cloud Virtual Machine" in page and "Harbor VPN" in page


def test_the_confirmation_of_the_second_case_lists_the_whole_submission_in_chinese(
        customer_client, order):
    customer_client.post(apply_url(order), {"lines": ["1", "2"]})
    server, vpn = RefundCase.objects.order_by("pk")

    page = customer_client.get(reverse("portal:received", args=[vpn.tracking_number])
                               ).content.decode()

    assert "我们已收到您的退款申请" in page
    assert "分属 2 个不同的退款政策" in page
    assert server.tracking_number in page and vpn.tracking_number in page


def test_submitting_the_same_lines_again_is_refused_and_opens_nothing_more(
        customer_client, order):
    customer_client.post(apply_url(order), {"lines": ["1", "2"]})

    response = customer_client.post(apply_url(order), {"lines": ["1", "2"]}, headers=ENGLISH)

    assert response.status_code == 400
    assert "A refund case is already open for line 1" in response.content.decode()
    assert RefundCase.objects.count() == 2


def test_submitting_a_line_under_no_policy_is_refused_clearly_and_opens_nothing(
        customer_client, order):
    Product.objects.filter(code="vpn").update(policy_id="")

    response = customer_client.post(apply_url(order), {"lines": ["1", "2"]}, headers=ENGLISH)

    page = response.content.decode()
    assert response.status_code == 409
    assert "Line 2 is not covered by any refund policy" in page
    assert not RefundCase.objects.exists()


def test_a_single_case_confirmation_is_unchanged(customer_client, order):
    response = customer_client.post(apply_url(order), {"lines": ["2"]})

    page = customer_client.get(response.headers["Location"], headers=ENGLISH).content.decode()
    case = RefundCase.objects.get()
    assert "We have received your refund request<" in page
    assert f'id="tracking-number">{case.tracking_number}<' in page
    assert "separate requests" not in page


def test_another_customer_cannot_see_the_confirmation_of_a_submission(
        customer_client, order, client):
    customer_client.post(apply_url(order), {"lines": ["1", "2"]})
    first = RefundCase.objects.order_by("pk").first()
    customer_client.logout()
    stranger_order = server_order("TC-STRANGER-1", "acct-stranger", "stranger@example.com")
    client.force_login(customer_for(stranger_order.account))

    response = client.get(reverse("portal:received", args=[first.tracking_number]))

    assert response.status_code == 404
