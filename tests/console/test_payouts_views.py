"""Finance's payout pages in the console: the list and its filters, one payout with its
history, the three things finance does with a refused payout, and settlement files. Every
page refuses strangers, customers and staff of other roles."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.db import OperationalError
from django.urls import reverse
from django.utils import timezone

from refunddesk.cases.states import InvalidTransition
from refunddesk.payouts import actions as payout_actions
from refunddesk.payouts.models import Payout, PayoutState, Settlement, SettlementLine
from refunddesk.payouts.reconcile import import_settlement
from tests.console.case_builders import EN
from tests.payouts.settlement_builders import (
    failed_payout,
    row_for,
    settlement_csv,
    snapshot,
    succeeded_payout,
    text_file,
)
from tests.portal.builders import customer_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def finance_client(staff_client):
    return staff_client("finance")


def payouts_url(**query: str) -> str:
    base = reverse("console:payouts")
    if not query:
        return base
    return base + "?" + "&".join(f"{name}={value}" for name, value in query.items())


def payout_url(payout: Payout, name: str = "console:payout") -> str:
    return reverse(name, args=[payout.pk])


def text_of(response) -> str:
    return response.content.decode()


def flash(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def page_urls(payout: Payout, settlement: Settlement) -> list[str]:
    return [payouts_url(), payout_url(payout), payout_url(payout, "console:payout_retry"),
            payout_url(payout, "console:payout_redirect"),
            payout_url(payout, "console:payout_paid_outside"),
            reverse("console:reconcile"), reverse("console:settlement", args=[settlement.pk])]


@pytest.fixture
def some_pages(make_staff):
    """Every payout page, for a refused payout and an imported settlement file."""
    payout = failed_payout()
    settlement = import_settlement(settlement_csv([row_for(succeeded_payout())]),
                                   gateway="sandbox", actor=make_staff("finance", "money"))
    return payout, page_urls(payout, settlement)


# -- who may see the pages --------------------------------------------------------------------

def test_a_stranger_is_sent_to_log_in_from_every_payout_page(client, some_pages):
    _, urls = some_pages
    before = snapshot()

    for url in urls:
        # when an anonymous visitor asks for the page, or posts to it
        for response in (client.get(url), client.post(url, {"reference": "X-1"})):
            # then they are sent to log in, and nothing changes
            assert response.status_code == 302, url
            assert "/login" in response["Location"], url
    assert snapshot() == before


def test_a_customer_is_refused_every_payout_page(client, some_pages):
    payout, urls = some_pages
    client.force_login(customer_for(payout.case.account))
    before = snapshot()

    for url in urls:
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"reference": "X-1"}).status_code == 403, url
    assert snapshot() == before


@pytest.mark.parametrize("role", ["agent", "reviewer", "admin"])
def test_staff_of_other_roles_are_refused_every_payout_page(staff_client, some_pages, role):
    payout, urls = some_pages
    client = staff_client(role)
    before = snapshot()

    for url in urls:
        assert client.get(url, headers=EN).status_code == 403, url
        assert client.post(url, {"reference": "X-1"}, headers=EN).status_code == 403, url
    assert snapshot() == before
    assert not Payout.objects.filter(replaces=payout).exists()


def test_the_payouts_link_is_in_the_navigation_of_finance_only(staff_client, make_staff):
    # given finance and an agent
    finance = staff_client("finance")
    link = f'href="{reverse("console:payouts")}"'

    # then finance sees the link in the console's navigation, the agent does not
    assert link in text_of(finance.get(reverse("console:queue"), headers=EN))
    finance.force_login(make_staff("agent", "an-agent"))
    assert link not in text_of(finance.get(reverse("console:queue"), headers=EN))


# -- the list ---------------------------------------------------------------------------------

def test_the_list_says_so_when_there_are_no_payouts(finance_client):
    response = finance_client.get(payouts_url(), headers=EN)

    assert response.status_code == 200
    assert "No payouts yet" in text_of(response)


def test_finance_sees_the_payouts_newest_first_with_what_each_is(finance_client):
    # given a paid payout and, later, a refused one
    paid = succeeded_payout()
    refused = failed_payout()

    # when finance opens the payouts
    page = text_of(finance_client.get(payouts_url(), headers=EN))

    # then both are listed, the newest first, with their facts
    assert page.index(f'id="payout-{refused.pk}"') < page.index(f'id="payout-{paid.pk}"')
    for expected in (refused.case.tracking_number,
                     reverse("console:case", args=[refused.case.tracking_number]),
                     "CN¥300.00", "Back by the original payment route", "sandbox",
                     "Failed", "expired_card", "The card has expired",
                     refused.gateway_refund_id, paid.gateway_refund_id,
                     timezone.localtime(refused.expected_at).strftime("%Y-%m-%d")):
        assert expected in page


def test_the_list_filters_by_state_and_gateway(finance_client):
    paid = succeeded_payout()
    refused = failed_payout()

    failed_page = text_of(finance_client.get(payouts_url(state="failed"), headers=EN))
    stripe_page = text_of(finance_client.get(payouts_url(gateway="stripe"), headers=EN))

    assert f'id="payout-{refused.pk}"' in failed_page
    assert f'id="payout-{paid.pk}"' not in failed_page
    assert "No payouts match these filters." in stripe_page


def test_needs_attention_lists_refused_waiting_and_late_payouts_only(finance_client):
    # given payouts in every situation
    refused = failed_payout("VPN-expired_card-1")
    replaced = failed_payout("VPN-expired_card-2")
    payout_actions.retry_payout(replaced, actor=finance_client.user)
    paid = succeeded_payout("VPN-PAID-1")
    late = succeeded_payout("VPN-PAID-2")
    Payout.objects.filter(pk=late.pk).update(state=PayoutState.SUBMITTED, settled_at=None,
                                             expected_at=timezone.now() - timedelta(days=1))
    on_time = succeeded_payout("VPN-PAID-3")
    Payout.objects.filter(pk=on_time.pk).update(
        state=PayoutState.SUBMITTED, settled_at=None,
        expected_at=timezone.now() + timedelta(days=1))
    unknown = succeeded_payout("VPN-PAID-4")
    Payout.objects.filter(pk=unknown.pk).update(state=PayoutState.UNKNOWN, settled_at=None)

    # when finance asks for what needs attention
    response = finance_client.get(payouts_url(attention="1"), headers=EN)

    # then the refused one not yet replaced, the late one and the unknown one are listed
    page = text_of(response)
    listed = {payout.pk for payout in (refused, replaced, paid, late, on_time, unknown)
              if f'id="payout-{payout.pk}"' in page}
    assert listed == {refused.pk, late.pk, unknown.pk}
    assert "Late: should have arrived" in page
    assert "Refused: retry, redirect or record it" in page
    unfiltered = text_of(finance_client.get(payouts_url(), headers=EN))
    assert "3 payouts need attention." in unfiltered


def test_a_filter_that_is_not_one_is_a_form_error(finance_client):
    response = finance_client.get(payouts_url(state="lost"), headers=EN)

    assert response.status_code == 400
    assert "Select a valid choice" in text_of(response)


def test_the_list_shows_fifty_payouts_a_page_and_pages_both_ways(finance_client):
    # given 55 payouts
    first = succeeded_payout()
    Payout.objects.bulk_create([
        Payout(case=first.case, payment=first.payment, destination=first.destination,
               gateway="sandbox", amount_minor=100 + n, currency="CNY",
               state=PayoutState.SUCCEEDED, created_at=first.created_at) for n in range(54)])
    ids = list(Payout.objects.order_by("-pk").values_list("pk", flat=True))

    # when finance reads the first page, then the next, then goes back
    first_page = finance_client.get(payouts_url(), headers=EN)
    second_page = finance_client.get(payouts_url(after=str(ids[49])), headers=EN)
    back = finance_client.get(payouts_url(before=str(ids[50])), headers=EN)

    # then the pages hold 50 and 5, newest first, and going back shows the first again
    def shown(response):
        return [pk for pk in ids if f'id="payout-{pk}"' in text_of(response)]

    assert shown(first_page) == ids[:50]
    assert f"after={ids[49]}" in text_of(first_page)
    assert shown(second_page) == ids[50:]
    assert f"before={ids[50]}" in text_of(second_page)
    assert shown(back) == ids[:50]


# -- one payout -------------------------------------------------------------------------------

def test_an_unknown_payout_is_not_found(finance_client):
    assert finance_client.get(reverse("console:payout", args=[999999])).status_code == 404


def test_the_payout_page_shows_the_payout_and_its_history_both_ways(finance_client):
    # given a refused payout, retried, and the retry redirected to the balance
    refused = failed_payout()
    retried = payout_actions.retry_payout(refused, actor=finance_client.user)
    Payout.objects.filter(pk=retried.pk).update(state=PayoutState.FAILED,
                                                next_attempt_at=None)
    redirected = payout_actions.redirect_to_balance(retried, actor=finance_client.user)

    # when finance opens the middle one
    page = text_of(finance_client.get(payout_url(retried), headers=EN))

    # then its history shows the payout it replaced and the one that replaced it
    assert f'href="{payout_url(refused)}"' in page
    assert f'href="{payout_url(redirected)}"' in page
    assert "This payout was replaced by" in page
    assert f"made by {finance_client.user.username}" in page
    assert retried.idempotency_key in page
    # and the payment it goes back to is named by its method, not by a stored code
    payment = retried.payment
    assert f"{payment.payment_id} · {payment.get_method_display()}" in page


def test_actions_are_offered_for_a_refused_payout_not_yet_replaced_only(finance_client):
    refused = failed_payout()
    paid = succeeded_payout()

    refused_page = text_of(finance_client.get(payout_url(refused), headers=EN))
    paid_page = text_of(finance_client.get(payout_url(paid), headers=EN))

    assert payout_url(refused, "console:payout_retry") in refused_page
    assert payout_url(refused, "console:payout_paid_outside") in refused_page
    assert payout_url(paid, "console:payout_retry") not in paid_page


# -- what finance does with a refused payout --------------------------------------------------

def test_finance_retries_a_refused_payout_after_confirming(finance_client):
    # given a refused payout
    refused = failed_payout()
    url = payout_url(refused, "console:payout_retry")

    # when finance opens the confirmation and confirms
    confirmation = finance_client.get(url, headers=EN)
    response = finance_client.post(url, headers=EN)

    # then a new payout by the same route replaces it, and the case is paying again
    assert confirmation.status_code == 200
    assert "The same amount is sent again by the same route" in text_of(confirmation)
    new = Payout.objects.get(replaces=refused)
    assert (new.state, new.gateway, new.destination) == ("pending", "sandbox", "original")
    assert response.status_code == 302 and response["Location"] == payout_url(new)
    assert flash(response) == [f"Payout {refused.pk} is sent again as payout {new.pk}."]
    assert new.case.state == "paying"


def test_finance_redirects_a_refused_payout_to_the_account_balance(finance_client):
    refused = failed_payout()

    response = finance_client.post(payout_url(refused, "console:payout_redirect"),
                                   headers=EN)

    new = Payout.objects.get(replaces=refused)
    assert (new.destination, new.gateway) == ("balance", "balance")
    assert response.status_code == 302 and response["Location"] == payout_url(new)
    assert "goes to the account balance instead" in flash(response)[0]


def test_finance_records_a_refused_payout_as_paid_outside(finance_client):
    refused = failed_payout()

    response = finance_client.post(payout_url(refused, "console:payout_paid_outside"),
                                   {"reference": "  BANK 2026-0042 "}, headers=EN)

    new = Payout.objects.get(replaces=refused)
    assert (new.state, new.gateway, new.gateway_refund_id) == (
        "succeeded", "outside", "BANK 2026-0042")
    assert response.status_code == 302
    assert "(reference BANK 2026-0042)" in flash(response)[0]


@pytest.mark.parametrize("reference", ["", "   ", "x" * 129])
def test_recording_as_paid_outside_without_a_proper_reference_is_a_form_error(
        finance_client, reference):
    refused = failed_payout()
    before = snapshot()

    response = finance_client.post(payout_url(refused, "console:payout_paid_outside"),
                                   {"reference": reference}, headers=EN)

    assert response.status_code == 400
    assert 'class="field-errors"' in text_of(response)
    assert snapshot() == before


@pytest.mark.parametrize("name", ["console:payout_retry", "console:payout_redirect",
                                  "console:payout_paid_outside"])
def test_an_action_on_a_payout_that_did_not_fail_is_a_conflict(finance_client, name):
    # given a paid payout
    paid = succeeded_payout()
    before = snapshot()

    # when finance posts an action for it anyway (an old page)
    response = finance_client.post(payout_url(paid, name), {"reference": "BANK-1"},
                                   headers=EN)

    # then it is refused with the reason, and nothing changes
    assert response.status_code == 409
    assert "Only a failed payout can be retried" in text_of(response)
    assert snapshot() == before


def test_an_action_on_a_payout_a_colleague_already_replaced_is_a_conflict(finance_client,
                                                                          make_staff):
    # given a refused payout a colleague has just retried
    refused = failed_payout()
    retried = payout_actions.retry_payout(refused, actor=make_staff("finance", "colleague"))
    before = snapshot()

    # when finance redirects it from the page they still had open
    response = finance_client.post(payout_url(refused, "console:payout_redirect"),
                                   headers=EN)

    # then the conflict names the replacement, and nothing changes
    assert response.status_code == 409
    assert f"already replaced by payout {retried.pk}" in text_of(response)
    assert snapshot() == before


def test_a_reference_recorded_already_is_a_conflict(finance_client):
    first, second = failed_payout("VPN-expired_card-1"), failed_payout("VPN-expired_card-2")
    payout_actions.record_paid_outside(first, actor=finance_client.user, reference="BANK-7")
    before = snapshot()

    response = finance_client.post(payout_url(second, "console:payout_paid_outside"),
                                   {"reference": "BANK-7"}, headers=EN)

    assert response.status_code == 409
    assert "The reference BANK-7 is already recorded" in text_of(response)
    assert snapshot() == before


def test_a_case_that_changed_at_the_same_moment_is_a_conflict(finance_client, monkeypatch):
    # given a case whose state moved on while finance confirmed (no real path leads there
    # today, so the action is made to answer as it would)
    refused = failed_payout()

    def moved_on(payout, *, actor, now=None):
        raise InvalidTransition("refunded", "retry")

    monkeypatch.setattr(payout_actions, "retry_payout", moved_on)

    response = finance_client.post(payout_url(refused, "console:payout_retry"), headers=EN)

    assert response.status_code == 409
    assert "This case is now “Refunded”" in text_of(response)


def test_a_payout_locked_by_the_worker_too_long_is_a_conflict(finance_client, monkeypatch):
    refused = failed_payout()

    def lock_timeout(payout, *, actor, now=None):
        raise OperationalError("database is locked")

    monkeypatch.setattr(payout_actions, "redirect_to_balance", lock_timeout)

    response = finance_client.post(payout_url(refused, "console:payout_redirect"),
                                   headers=EN)

    assert response.status_code == 409
    assert "Someone else was changing this payout at the same moment." in text_of(response)


def test_the_confirmation_of_a_payout_that_cannot_be_changed_says_why(finance_client):
    paid = succeeded_payout()

    response = finance_client.get(payout_url(paid, "console:payout_retry"), headers=EN)

    assert response.status_code == 200
    assert "Only a refused payout that has not been replaced" in text_of(response)
    assert "<form method=\"post\" class=\"stacked-form\">" not in text_of(response)


# -- settlement files -------------------------------------------------------------------------

def test_finance_imports_a_settlement_file_and_sees_what_needs_looking_into(finance_client):
    # given a paid payout, another left out of the file, and a row that is not ours
    paid = succeeded_payout("VPN-PAID-1")
    left_out = succeeded_payout("VPN-PAID-2")
    Payout.objects.filter(pk=left_out.pk).update(settled_at=paid.settled_at)
    stranger = row_for(paid, refund_id="sbre_stranger", amount="9.99")
    upload = settlement_csv([row_for(paid), stranger], name="sandbox-2026-11.csv")

    # when finance uploads the file
    response = finance_client.post(reverse("console:reconcile"),
                                   {"gateway": "sandbox", "file": upload}, headers=EN)

    # then the result page opens with the lines grouped, what needs a look first
    settlement = Settlement.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("console:settlement", args=[settlement.pk])
    assert flash(response) == ["Settlement file sandbox-2026-11.csv is imported: 1 match, "
                               "0 differ, 1 missing from the file, 1 not ours."]
    page = text_of(finance_client.get(response["Location"], headers=EN))
    assert page.index('id="missing"') < page.index('id="unknown"') < page.index('id="matched"')
    assert "sbre_stranger" in page and "CN¥9.99" in page
    assert f'href="{payout_url(left_out)}"' in page
    assert "2 lines need looking into." in page


def test_differences_are_shown_in_words_on_the_result(finance_client):
    paid = succeeded_payout()
    settlement = import_settlement(settlement_csv([row_for(paid, amount="250.00")]),
                                   gateway="sandbox", actor=finance_client.user)

    page = text_of(finance_client.get(reverse("console:settlement", args=[settlement.pk]),
                                      headers=EN))

    assert "Amount: the file says CN¥250.00, ours is CN¥300.00." in page


def test_one_outcome_can_be_read_in_full(finance_client):
    paid = succeeded_payout()
    settlement = import_settlement(settlement_csv([row_for(paid)]), gateway="sandbox",
                                   actor=finance_client.user)

    response = finance_client.get(reverse("console:settlement", args=[settlement.pk])
                                  + "?outcome=matched", headers=EN)

    assert response.status_code == 200
    assert paid.gateway_refund_id in text_of(response)


def test_a_bad_settlement_file_is_shown_with_its_problems_and_stores_nothing(finance_client):
    text = ("refund_id,amount,currency,settled_at,status\n"
            "sbre_1,\"12,5\",CNY,2026-03-01T10:00:00+08:00,settled\n"
            "sbre_2,1.00,CNY,yesterday,settled\n")

    response = finance_client.post(reverse("console:reconcile"),
                                   {"gateway": "sandbox", "file": text_file(text)},
                                   headers=EN)

    assert response.status_code == 400
    page = text_of(response)
    assert "The file was not imported: Line 2, column amount: “12,5” is not an amount." in page
    assert "Line 3, column settled_at:" in page
    assert not Settlement.objects.exists() and not SettlementLine.objects.exists()


def test_the_same_file_twice_is_refused_on_the_page(finance_client):
    paid = succeeded_payout()
    import_settlement(settlement_csv([row_for(paid)]), gateway="sandbox",
                      actor=finance_client.user)

    response = finance_client.post(reverse("console:reconcile"),
                                   {"gateway": "sandbox",
                                    "file": settlement_csv([row_for(paid)])}, headers=EN)

    assert response.status_code == 400
    assert "This file was imported already" in text_of(response)
    assert Settlement.objects.count() == 1


@pytest.mark.parametrize("data", [{"gateway": "sandbox"}, {"gateway": "klarna"}],
                         ids=["no-file", "unknown-gateway"])
def test_the_upload_needs_a_known_gateway_and_a_file(finance_client, data):
    if data["gateway"] != "sandbox":
        data = {**data, "file": text_file("refund_id\n")}

    response = finance_client.post(reverse("console:reconcile"), data, headers=EN)

    assert response.status_code == 400
    assert 'class="field-errors"' in text_of(response)
    assert not Settlement.objects.exists()


def test_earlier_imports_are_listed_with_their_counts(finance_client):
    empty = finance_client.get(reverse("console:reconcile"), headers=EN)
    assert "No settlement file has been imported yet." in text_of(empty)
    paid = succeeded_payout()
    settlement = import_settlement(settlement_csv([row_for(paid)], name="march.csv"),
                                   gateway="sandbox", actor=finance_client.user)

    page = text_of(finance_client.get(reverse("console:reconcile"), headers=EN))

    assert f'id="settlement-{settlement.pk}"' in page and "march.csv" in page
    assert f"by {finance_client.user.username}" in page
