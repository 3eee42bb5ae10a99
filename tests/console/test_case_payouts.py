"""The console's case page shows staff every payout of the case — those finance replaced
too, marked — with what the gateway said, and tells the payout events in the audit timeline
in words."""

from __future__ import annotations

import html

import pytest
from django.http import HttpResponse
from django.urls import include, path, reverse
from django.utils import timezone

from refunddesk import urls as site_urls
from refunddesk.console import urls as console_urls
from refunddesk.payouts.actions import redirect_to_balance
from tests.console.case_builders import page_of
from tests.payouts.paid_cases import pay, server_case, vpn_case

pytestmark = pytest.mark.django_db


# The payout's own page is another part of the console; while it does not exist this module
# stands one in, so the link can be followed to the address it will have.
def payout_page_stand_in(request, payout_id):
    return HttpResponse(f"payout {payout_id}")


HAS_PAYOUT_PAGE = any(getattr(pattern, "name", None) == "payout"
                      for pattern in console_urls.urlpatterns)
urlpatterns = [
    path("console/", include(([
        *console_urls.urlpatterns,
        *([] if HAS_PAYOUT_PAGE else [path("payouts/<int:payout_id>/", payout_page_stand_in,
                                           name="payout")]),
    ], "console"))),
    *[pattern for pattern in site_urls.urlpatterns
      if getattr(pattern, "namespace", None) != "console"],
]


def when(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def payouts_section(page):
    return page.split('id="payouts-heading"')[1].split("</section>")[0]


@pytest.fixture
def redirected_case(make_staff):
    """A case whose payout back to Alipay the provider refused (an expired card), which
    finance redirected to the account balance, where it arrived."""
    case = pay(vpn_case(reference="4000-expired_card-0001"))
    failed = case.payouts.get()
    redirect_to_balance(failed, actor=make_staff("finance", "finance-redirect"))
    return pay(case)


def test_every_payout_is_shown_with_what_the_gateway_said_the_replaced_one_marked(
        staff_client, redirected_case):
    # given a case with a refused payout and the one that replaced it
    failed, replacement = redirected_case.payouts.order_by("id")

    # when finance opens the case (whether or not the payout pages exist yet)
    section = html.unescape(payouts_section(page_of(staff_client("finance"),
                                                    redirected_case)))

    # then both payouts are there, the refused one marked as replaced by the other
    assert f'data-payout="{failed.pk}"' in section
    assert f'data-payout="{replacement.pk}"' in section
    assert f"replaced by #{replacement.pk}" in section
    assert f"replaces #{failed.pk}" in section
    # with the refused attempt's gateway, provider's refund id, attempts and error
    assert failed.gateway_refund_id and failed.gateway_refund_id in section
    assert "<code>sandbox</code>" in section and "<code>balance</code>" in section
    assert "expired_card" in section
    assert "The card has expired; the refund cannot reach it." in section
    assert f'<td data-label="Attempts" class="number">{failed.attempts}</td>' in section
    # and where each went, in what state, expected and settled when
    assert "Back by the original payment route" in section
    assert "To the account balance" in section
    assert "not the original route: the payment provider refused the refund" in section
    assert "Failed" in section and "Paid" in section
    assert when(failed.expected_at) in section
    assert when(replacement.settled_at) in section


def test_the_payout_events_are_told_in_words_with_their_details(staff_client,
                                                                redirected_case):
    # given a case whose payout was sent, refused, redirected and paid

    # when a reviewer opens the case
    page = html.unescape(page_of(staff_client("reviewer"), redirected_case))

    # then the timeline names each payout event, and its details by name
    timeline = page.split('id="timeline-heading"')[1]
    for label in ("Payouts sent to the payment providers", "A payout failed",
                  "Failed payout redirected to the account balance", "All payouts arrived"):
        assert label in timeline
    assert "<dt>destination</dt><dd>To the account balance</dd>" in timeline
    assert "<dt>error code</dt><dd>expired_card</dd>" in timeline
    assert "<dt>replaces payout</dt>" in timeline


@pytest.mark.urls(__name__)
def test_finance_gets_a_link_to_each_payouts_page(staff_client, redirected_case):
    # given a case with two payouts, and the console's payout page
    payouts = list(redirected_case.payouts.order_by("id"))

    # when finance opens the case
    section = payouts_section(page_of(staff_client("finance"), redirected_case))

    # then each payout links to its page
    for payout in payouts:
        url = reverse("console:payout", args=[payout.pk])
        assert url == f"/console/payouts/{payout.pk}/"
        assert f'href="{url}"' in section


@pytest.mark.urls(__name__)
def test_an_agent_who_cannot_open_payout_pages_gets_no_link_to_them(staff_client,
                                                                     redirected_case):
    # given a case with payouts, and the console's payout page (finance's)
    payouts = list(redirected_case.payouts.order_by("id"))

    # when an agent opens the case
    section = payouts_section(page_of(staff_client("agent"), redirected_case))

    # then the payouts are listed without links an agent would be refused at
    assert "/console/payouts/" not in section
    assert all(f'data-payout="{payout.pk}"' in section for payout in payouts)


def test_a_case_without_payouts_says_when_they_come(staff_client, case_in_review):
    # given a case still in review

    # when an agent opens it
    section = payouts_section(page_of(staff_client("agent"), case_in_review))

    # then the payouts section says they are planned at approval
    assert "No payouts: they are planned when the case is approved." in section


def test_a_customer_is_refused_the_console_case_page_and_its_payouts(client, db):
    # given a paid case and its customer
    case = pay(server_case(with_login=True))

    # when the customer asks for the console's page of the case
    client.force_login(case.account.user)
    response = client.get(reverse("console:case", args=[case.tracking_number]))

    # then they are refused, and no payout is shown
    assert response.status_code == 403
    assert b"payouts-heading" not in response.content
