"""Apply for a caller: an agent finds the customer, checks who is calling, and opens a case
on their behalf (channel `agent`); wrong answers are reported at their field and open
nothing; roles without the permission are refused."""


import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from refunddesk.billing.models import Account, Product
from refunddesk.cases import actions
from refunddesk.cases.actors import customer_of
from refunddesk.cases.models import CaseEvent, Document, ReasonCategory, RefundCase
from refunddesk.notifications.models import EmailDelivery
from refunddesk.notifications.sending import send_waiting
from tests.portal.builders import customer_for, mixed_order, pdf, vpn_order

pytestmark = pytest.mark.django_db

SEARCH = reverse("console:assist")
ENGLISH = {"Accept-Language": "en"}
# The DESIGN example's Alipay payment, which alice_order copies: reference 2026030122001.
REFERENCE_END = "2001"


def account_url(order_or_account, order=None):
    account = getattr(order_or_account, "account", order_or_account)
    url = reverse("console:assist_account", args=[account.external_id])
    return f"{url}?order={order.external_id}" if order else url


def quote_url(order):
    return reverse("console:assist_quote", args=[order.account.external_id])


def answers(order, **changes):
    """What a caller who is who they say they are answers, for alice_order."""
    data = {"order": order.external_id, "lines": ["1"], "contact": order.account.email,
            "order_number": order.external_id, "payment_reference": REFERENCE_END,
            "language": "zh-hans"}
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def nothing_was_opened():
    return (not RefundCase.objects.exists() and not CaseEvent.objects.exists()
            and not Document.objects.exists() and not EmailDelivery.objects.exists())


def field_errors(response, field):
    return [str(error) for error in response.context["form"].errors.get(field, [])]


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


@pytest.fixture
def alice_phone(alice_order):
    Account.objects.filter(pk=alice_order.account_id).update(phone="+86 138 0013 8000")
    return "+86 138 0013 8000"


# Finding the customer


def test_the_search_page_says_what_to_search_by_before_anything_is_typed(agent_client):
    response = agent_client.get(SEARCH, headers=ENGLISH)

    page = response.content.decode()
    assert response.status_code == 200
    assert "Search by the e-mail address, phone number, account id or name" in page
    assert 'name="q"' in page


def found(client, query, **params):
    response = client.get(SEARCH, {"q": query, **params}, headers=ENGLISH)
    assert response.status_code == 200
    return [row["account"].external_id for row in response.context["results"]]


def test_an_agent_finds_the_customer_by_e_mail_and_not_the_others(
        agent_client, alice_order, bob_order):
    assert found(agent_client, "alice@example.com") == ["acct-alice"]
    assert found(agent_client, "BOB@example.com") == ["acct-bob"]


@pytest.mark.parametrize("typed", ["+86 138 0013 8000", "13800138000", "138-0013-8000",
                                   "8613800138000"])
def test_an_agent_finds_the_customer_by_phone_with_or_without_the_country_code(
        agent_client, alice_phone, bob_order, typed):
    assert found(agent_client, typed) == ["acct-alice"]


def test_a_phone_number_that_is_not_the_customers_finds_nobody(
        agent_client, alice_phone, bob_order):
    assert found(agent_client, "139 0013 8000") == []


def test_an_agent_finds_the_customer_by_account_id(agent_client, alice_order, bob_order):
    assert found(agent_client, "acct-bob") == ["acct-bob"]


def test_an_agent_finds_the_customer_by_name(agent_client, alice_order, bob_order):
    # alice_order is the DESIGN example's account, 李雷; bob_order's is 韩梅梅.
    assert found(agent_client, "韩梅梅") == ["acct-bob"]
    assert found(agent_client, "李雷") == ["acct-alice"]


def test_an_agent_finds_the_customer_by_order_id_and_the_result_opens_that_order(
        agent_client, alice_order, bob_order):
    response = agent_client.get(SEARCH, {"q": "tc-alice-1"}, headers=ENGLISH)

    assert [row["account"].external_id for row in response.context["results"]] == [
        "acct-alice"]
    assert f'href="{account_url(alice_order, alice_order)}"' in response.content.decode()


def test_a_payment_reference_is_not_a_search_key_because_the_caller_must_prove_it(
        agent_client, alice_order):
    response = agent_client.get(SEARCH, {"q": "2026030122001"}, headers=ENGLISH)

    assert response.context["results"] == []
    assert "No customer matches “2026030122001”." in response.content.decode()


def test_the_results_show_the_contact_details_masked_so_the_agent_cannot_read_them_out(
        agent_client, alice_phone):
    page = agent_client.get(SEARCH, {"q": "acct-alice"}, headers=ENGLISH).content.decode()

    assert "a•••@example.com" in page and "••• 8000" in page
    assert "alice@example.com" not in page and "0013" not in page


def test_a_query_of_one_character_is_refused_with_a_message(agent_client, alice_order):
    response = agent_client.get(SEARCH, {"q": " a "}, headers=ENGLISH)

    assert response.status_code == 400
    assert "Type at least 2 characters." in response.content.decode()


def test_many_results_are_paginated_and_the_pages_keep_the_query(agent_client):
    for n in range(25):
        Account.objects.create(external_id=f"acct-many-{n:02}", email=f"many{n}@example.com",
                               name=f"Many {n:02}", created_at=timezone.now())

    first = agent_client.get(SEARCH, {"q": "acct-many"}, headers=ENGLISH)
    second = agent_client.get(SEARCH, {"q": "acct-many", "page": 2}, headers=ENGLISH)

    assert len(first.context["results"]) == 20 and len(second.context["results"]) == 5
    assert "25 customers match" in first.content.decode()
    assert "?q=acct-many&amp;page=2" in first.content.decode()


# The account page and the live quote


def test_an_account_with_one_order_opens_straight_on_its_lines_and_the_checklist(
        agent_client, alice_order):
    response = agent_client.get(account_url(alice_order), headers=ENGLISH)

    page = response.content.decode()
    assert response.status_code == 200
    assert 'name="lines" value="1"' in page
    assert f'hx-post="{quote_url(alice_order)}"' in page
    assert 'name="contact"' in page and 'name="order_number"' in page
    assert 'name="payment_reference"' in page and 'name="has_payment_receipt"' in page
    # Nothing the caller has to prove is shown, nor the order number filled in for them.
    assert "2026030122001" not in page and "alice@example.com" not in page
    assert 'name="order_number" value' not in page


def test_an_account_with_several_orders_lists_them_to_choose_from(agent_client, bob_order):
    second = vpn_order("VPN-BOB-2", "acct-bob", "bob@example.com", placed_days_ago=1)

    response = agent_client.get(account_url(bob_order), headers=ENGLISH)

    page = response.content.decode()
    assert "VPN-BOB-1" in page and "VPN-BOB-2" in page
    assert f'href="{account_url(bob_order, second)}"' in page
    assert 'name="contact"' not in page


def test_a_line_already_in_an_open_case_is_shown_with_its_case_and_cannot_be_chosen(
        agent_client, bob_order):
    vpn_order("VPN-BOB-2", "acct-bob", "bob@example.com", placed_days_ago=1)
    case = actions.submit(account=bob_order.account, order=bob_order, line_ids=["1"],
                          actor=customer_of(bob_order.account), channel="portal")

    listing = agent_client.get(account_url(bob_order), headers=ENGLISH).content.decode()
    form = agent_client.get(account_url(bob_order, bob_order), headers=ENGLISH)

    assert "Every line is already in a case." in listing
    assert reverse("console:case", args=[case.tracking_number]) in listing
    page = form.content.decode()
    assert 'value="1" id="line-1"\n                     disabled' in page
    assert case.tracking_number in page


def test_choosing_a_line_already_in_an_open_case_is_refused_and_opens_nothing_more(
        agent_client, alice_order):
    case = actions.submit(account=alice_order.account, order=alice_order, line_ids=["1"],
                          actor=customer_of(alice_order.account), channel="portal")

    response = agent_client.post(account_url(alice_order), answers(alice_order),
                                 headers=ENGLISH)

    assert response.status_code == 400
    assert case.tracking_number in " ".join(field_errors(response, "lines"))
    assert RefundCase.objects.count() == 1


def test_another_accounts_order_is_not_found_on_this_account(
        agent_client, alice_order, bob_order):
    response = agent_client.get(account_url(alice_order, bob_order))

    assert response.status_code == 404


def test_the_quote_partial_shows_what_the_policy_gives_in_the_viewers_language(
        agent_client, alice_order):
    english = agent_client.post(quote_url(alice_order), {"order": alice_order.external_id,
                                                         "lines": ["1"]}, headers=ENGLISH)
    chinese = agent_client.post(quote_url(alice_order), {"order": alice_order.external_id,
                                                         "lines": ["1"]})

    assert english.status_code == 200
    page = english.content.decode()
    assert "900.00 CNY" in page
    assert "Line 1: the five-day no-reason refund applies." in page
    assert "Approved at once when the case is opened." in page
    assert "<html" not in page  # the panel alone, for htmx
    assert "五天无理由退款" in chinese.content.decode()
    assert not RefundCase.objects.exists()


def test_the_quote_without_lines_asks_for_a_choice(agent_client, alice_order):
    response = agent_client.post(quote_url(alice_order), {"order": alice_order.external_id},
                                 headers=ENGLISH)

    assert "Choose the lines the caller wants refunded" in response.content.decode()


def test_the_quote_of_another_accounts_order_is_not_found(
        agent_client, alice_order, bob_order):
    response = agent_client.post(quote_url(alice_order), {"order": bob_order.external_id,
                                                          "lines": ["1"]})

    assert response.status_code == 404


# Opening the case


def test_an_agent_opens_a_case_for_a_caller_who_gives_the_e_mail_order_and_reference(
        agent_client, agent, alice_order):
    reason = ReasonCategory.objects.create(code="changed_mind", name_zh="不想要了",
                                           name_en="Changed my mind")

    response = agent_client.post(account_url(alice_order), answers(
        alice_order, contact=" Alice@Example.com ", order_number="tc-alice-1",
        payment_reference="2 0 0 1", reason_category=reason.pk,
        reason_text="Bought the wrong size", language="en"), headers=ENGLISH)

    case = RefundCase.objects.get()
    assert response.status_code == 302
    assert response.headers["Location"] == reverse("console:case",
                                                   args=[case.tracking_number])
    assert case.channel == "agent"
    assert case.opened_by == agent
    assert case.language == "en"
    assert case.reason_category == reason and case.reason_text == "Bought the wrong size"
    assert case.identity_check == {"contact": "email", "order_number": True,
                                   "payment": "reference", "checked_by": "agent",
                                   "at": case.identity_check["at"]}
    submitted = case.events.get(action="submitted")
    assert submitted.actor == agent and submitted.actor_kind == "staff"
    assert submitted.data["identity_check"] == case.identity_check
    assert submitted.data["channel"] == "agent"
    told = [str(message) for message in get_messages(response.wsgi_request)]
    assert told == [f"Case opened. Read the tracking number to the caller: "
                    f"{case.tracking_number}"]


def test_the_customer_gets_the_submitted_e_mail_in_the_language_the_agent_chose(
        agent_client, alice_order):
    agent_client.post(account_url(alice_order), answers(alice_order, language="en"))

    case = RefundCase.objects.get()
    delivery = EmailDelivery.objects.get(case=case, kind="submitted")
    assert delivery.to_address == "alice@example.com" and delivery.language == "en"
    send_waiting()
    sent = [message for message in mail.outbox if case.tracking_number in message.body]
    assert sent and sent[0].to == ["alice@example.com"]


@pytest.mark.parametrize("said", ["+86 138 0013 8000", "13800138000", "(+86) 138-0013-8000"])
def test_an_agent_opens_a_case_for_a_caller_who_gives_the_phone_with_or_without_plus_86(
        agent_client, alice_phone, alice_order, said):
    response = agent_client.post(account_url(alice_order), answers(alice_order, contact=said))

    assert response.status_code == 302
    assert RefundCase.objects.get().identity_check["contact"] == "phone"


@pytest.mark.parametrize(("field", "wrong", "expected"), [
    ("contact", "mallory@example.com", "does not match the account's e-mail or phone"),
    ("contact", "139 0013 8000", "does not match the account's e-mail or phone"),
    ("order_number", "TC-ALICE-2", "not this order's"),
    ("payment_reference", "9999", "No payment of this order has a reference ending"),
    ("payment_reference", "001", "at least the last 4 characters"),
])
def test_each_wrong_answer_is_reported_at_its_field_and_opens_nothing(
        agent_client, alice_phone, alice_order, field, wrong, expected):
    response = agent_client.post(account_url(alice_order),
                                 answers(alice_order, **{field: wrong}), headers=ENGLISH)

    assert response.status_code == 400
    assert expected in " ".join(field_errors(response, field))
    others = {"contact", "order_number", "payment_reference", "attachments"} - {field}
    assert not any(field_errors(response, other) for other in others)
    page = response.content.decode()
    assert "so no case was opened" in page
    assert 'aria-invalid="true"' in page
    assert nothing_was_opened()


def test_every_wrong_answer_is_reported_at_once(agent_client, alice_order):
    response = agent_client.post(account_url(alice_order), answers(
        alice_order, contact="mallory@example.com", order_number="TC-OTHER",
        payment_reference="9999"), headers=ENGLISH)

    assert response.status_code == 400
    assert all(field_errors(response, field)
               for field in ("contact", "order_number", "payment_reference"))
    assert nothing_was_opened()


def test_unanswered_checklist_questions_are_asked_for_at_their_fields(
        agent_client, alice_order):
    response = agent_client.post(account_url(alice_order), answers(
        alice_order, contact="", order_number="", payment_reference=""), headers=ENGLISH)

    assert response.status_code == 400
    assert field_errors(response, "contact") == [
        "Ask for the account's e-mail address or phone number."]
    assert field_errors(response, "order_number") == ["Ask the caller for the order number."]
    assert nothing_was_opened()


def test_without_a_reference_the_payment_must_be_proved_some_other_way(
        agent_client, alice_order):
    response = agent_client.post(account_url(alice_order),
                                 answers(alice_order, payment_reference=""), headers=ENGLISH)

    assert response.status_code == 400
    assert "the end of its reference, or a receipt" in " ".join(
        field_errors(response, "payment_reference"))
    assert nothing_was_opened()


def test_the_receipt_path_requires_the_receipt_to_be_attached(agent_client, alice_order):
    response = agent_client.post(account_url(alice_order), answers(
        alice_order, payment_reference="", has_payment_receipt="on"), headers=ENGLISH)

    assert response.status_code == 400
    assert field_errors(response, "attachments") == ["Attach the receipt the caller sent."]
    assert nothing_was_opened()


def test_a_caller_who_sent_a_receipt_gets_a_case_with_the_receipt_attached(
        agent_client, agent, alice_order):
    response = agent_client.post(account_url(alice_order), answers(
        alice_order, payment_reference="", has_payment_receipt="on",
        attachments=[pdf("alipay-receipt.pdf")]))

    case = RefundCase.objects.get()
    assert response.status_code == 302
    assert case.identity_check["payment"] == "receipt"
    document = case.documents.get()
    assert document.name == "alipay-receipt.pdf" and document.uploaded_by == agent


def test_lines_under_different_policies_open_one_case_each_and_the_agent_reads_out_all(
        agent_client, agent):
    # Given the caller's order: a server (Tencent Cloud) and a VPN (the 30-day guarantee)
    order = mixed_order("MIX-ASSIST-1", "acct-mix-assist", "mix.assist@example.com")

    # When the agent opens a case for both lines after the identity check
    response = agent_client.post(account_url(order), answers(order, lines=["1", "2"]),
                                 headers=ENGLISH)

    # Then one case per policy is opened for the caller, each recording the check
    server, vpn = RefundCase.objects.order_by("pk")
    assert response.status_code == 302
    assert response.headers["Location"] == reverse("console:case",
                                                   args=[server.tracking_number])
    assert (server.policy_ref, vpn.policy_ref) == ("tencent-cloud@1", "vpn-30-day@1")
    assert server.submission == vpn.submission is not None
    for case in (server, vpn):
        assert (case.channel, case.opened_by) == ("agent", agent)
        assert case.identity_check["contact"] == "email"
    # And the agent is given every tracking number to read out
    told = [str(message) for message in get_messages(response.wsgi_request)]
    assert told == [f"2 cases opened, one per refund policy of the lines. Read every "
                    f"tracking number to the caller: {server.tracking_number}, "
                    f"{vpn.tracking_number}"]
    # And the customer gets one e-mail naming both
    assert EmailDelivery.objects.filter(kind="submitted").count() == 1


def test_the_callers_quote_shows_one_block_per_policy(agent_client):
    order = mixed_order("MIX-ASSIST-2", "acct-mix-quote", "mix.quote@example.com")

    response = agent_client.post(quote_url(order), {"order": order.external_id,
                                                    "lines": ["1", "2"]}, headers=ENGLISH)

    page = response.content.decode()
    assert response.status_code == 200
    assert "These lines fall under 2 different refund policies: 2 cases are opened" in page
    assert "Case 1 of 2 · Tencent Cloud" in page and "Case 2 of 2 · VPN 30-day" in page
    assert "914.29 CNY" in page and "300.00 CNY" in page


def test_a_line_under_no_policy_is_refused_clearly_and_opens_nothing(agent_client):
    order = mixed_order("MIX-ASSIST-3", "acct-mix-none", "mix.none@example.com")
    Product.objects.filter(code="vpn").update(policy_id="")

    quote = agent_client.post(quote_url(order), {"order": order.external_id,
                                                 "lines": ["1", "2"]}, headers=ENGLISH)
    response = agent_client.post(account_url(order), answers(order, lines=["1", "2"]),
                                 headers=ENGLISH)

    assert "Line 2 is not covered by any refund policy" in quote.content.decode()
    assert response.status_code == 409
    assert "Line 2 is not covered by any refund policy" in response.content.decode()
    assert nothing_was_opened()


# Who may


def test_a_reviewer_may_apply_for_a_caller(staff_client, alice_order):
    client = staff_client("reviewer")

    response = client.post(account_url(alice_order), answers(alice_order))

    assert response.status_code == 302
    assert RefundCase.objects.get().opened_by == client.user


@pytest.mark.parametrize("role", ["finance", "admin"])
def test_roles_that_do_not_open_cases_for_customers_get_403_on_every_assist_page(
        staff_client, alice_order, role):
    client = staff_client(role)

    assert client.get(SEARCH, {"q": "alice"}).status_code == 403
    assert client.get(account_url(alice_order)).status_code == 403
    assert client.post(account_url(alice_order), answers(alice_order)).status_code == 403
    assert client.post(quote_url(alice_order), {"order": alice_order.external_id,
                                                "lines": ["1"]}).status_code == 403
    assert nothing_was_opened()


def test_a_customer_session_gets_403(client, alice_order):
    client.force_login(customer_for(alice_order.account))

    assert client.get(SEARCH).status_code == 403
    assert client.post(account_url(alice_order), answers(alice_order)).status_code == 403
    assert client.post(quote_url(alice_order), {"order": alice_order.external_id}
                       ).status_code == 403
    assert nothing_was_opened()


def test_a_visitor_is_sent_to_log_in(client, alice_order):
    for response in (client.get(SEARCH), client.get(account_url(alice_order)),
                     client.post(quote_url(alice_order), {"order": alice_order.external_id})):
        assert response.status_code == 302
        assert response.headers["Location"].startswith(reverse("account_login"))
    assert nothing_was_opened()
