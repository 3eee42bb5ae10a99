"""Authorisation: a stranger is sent to log in, another customer finds nothing (404), a staff
member without a customer account is told the portal is for customers — on every page,
every download and every action, POSTs included, and a refused request changes nothing."""

import pytest
from django.urls import reverse

from refunddesk.billing.models import Subscription
from refunddesk.cases import actions
from refunddesk.cases.models import CaseEvent, Document, Message, RefundCase
from tests.portal.builders import pdf, subscription_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def alices_things(alice, alice_order, alice_account):
    case = actions.submit(account=alice_account, order=alice_order, line_ids=["1"], actor=alice,
                          channel="portal", uploads=[pdf()])
    subscription = subscription_for(alice_account)
    return {"order": alice_order.external_id, "case": case.tracking_number,
            "document": case.documents.get().pk, "subscription": subscription.external_id}


def object_urls(things):
    case = things["case"]
    return {
        "apply": reverse("portal:apply", args=[things["order"]]),
        "quote": reverse("portal:quote", args=[things["order"]]),
        "case": reverse("portal:case", args=[case]),
        "received": reverse("portal:received", args=[case]),
        "message": reverse("portal:post_message", args=[case]),
        "documents": reverse("portal:add_documents", args=[case]),
        "supplement": reverse("portal:supplement", args=[case]),
        "appeal": reverse("portal:appeal", args=[case]),
        "withdraw": reverse("portal:withdraw", args=[case]),
        "document": reverse("portal:document", args=[case, things["document"]]),
        "cancel": reverse("portal:cancel_auto_renewal", args=[things["subscription"]]),
    }


GETS = ["apply", "case", "received", "withdraw", "document", "cancel"]
POSTS = {
    "apply": lambda: {"lines": ["1"]},
    "quote": lambda: {"lines": ["1"]},
    "message": lambda: {"body": "hello"},
    "documents": lambda: {"files": [pdf()]},
    "supplement": lambda: {"message": "here", "files": [pdf()]},
    "appeal": lambda: {"text": "please", "files": [pdf()]},
    "withdraw": lambda: {"confirmed": "True"},
    "cancel": lambda: {"confirmed": "True"},
}


def snapshot():
    return (list(RefundCase.objects.values_list("tracking_number", "state")),
            CaseEvent.objects.count(), Message.objects.count(), Document.objects.count(),
            list(Subscription.objects.values_list("is_auto_renew", flat=True)))


@pytest.mark.parametrize("name", GETS)
def test_a_stranger_is_sent_to_log_in_for_every_page(client, alices_things, name):
    url = object_urls(alices_things)[name]

    response = client.get(url)

    assert response.status_code == 302
    assert response.headers["Location"].startswith(reverse("account_login") + "?next=")


@pytest.mark.parametrize("url_name", ["portal:account", "portal:refunds"])
def test_a_stranger_is_sent_to_log_in_for_the_lists(client, db, url_name):
    response = client.get(reverse(url_name))

    assert response.status_code == 302
    assert response.headers["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize("name", sorted(POSTS))
def test_a_strangers_post_is_sent_to_log_in_and_changes_nothing(client, alices_things, name):
    before = snapshot()

    response = client.post(object_urls(alices_things)[name], POSTS[name]())

    assert response.status_code == 302
    assert response.headers["Location"].startswith(reverse("account_login"))
    assert snapshot() == before


@pytest.mark.parametrize("name", GETS)
def test_another_customer_finds_nothing_of_alices(client, bob, alices_things, name):
    client.force_login(bob)

    assert client.get(object_urls(alices_things)[name]).status_code == 404


@pytest.mark.parametrize("name", sorted(POSTS))
def test_another_customers_post_finds_nothing_and_changes_nothing(client, bob, alices_things,
                                                                 name):
    client.force_login(bob)
    before = snapshot()

    response = client.post(object_urls(alices_things)[name], POSTS[name]())

    assert response.status_code == 404
    assert snapshot() == before


def test_another_customers_lists_do_not_show_alices_orders_or_cases(client, bob, alices_things):
    client.force_login(bob)

    account = client.get(reverse("portal:account")).content.decode()
    refunds = client.get(reverse("portal:refunds")).content.decode()

    assert alices_things["order"] not in account
    assert "VPN-BOB-1" in account
    assert alices_things["case"] not in refunds


@pytest.mark.parametrize("name", ["apply", "case", "received", "withdraw", "cancel"])
def test_a_staff_member_without_a_customer_account_is_told_the_pages_are_for_customers(
        client, staff, alices_things, name):
    client.force_login(staff)

    response = client.get(object_urls(alices_things)[name], headers={"Accept-Language": "en"})

    assert response.status_code == 403
    assert "This page is for customers" in response.content.decode()


@pytest.mark.parametrize("url_name", ["portal:account", "portal:refunds"])
def test_the_lists_tell_a_staff_member_they_are_for_customers(client, staff, url_name):
    client.force_login(staff)

    response = client.get(reverse(url_name), headers={"Accept-Language": "en"})

    assert response.status_code == 403
    assert "This page is for customers" in response.content.decode()


def test_a_staff_members_post_changes_nothing(client, staff, alices_things):
    client.force_login(staff)
    before = snapshot()

    response = client.post(object_urls(alices_things)["withdraw"], {"confirmed": "True"})

    assert response.status_code == 403
    assert snapshot() == before


def test_a_mistyped_tracking_number_is_not_found(alice_client, alices_things):
    number = alices_things["case"]
    mistyped = number[:-1] + ("2" if number[-1] != "2" else "3")

    assert alice_client.get(reverse("portal:case", args=[mistyped])).status_code == 404


def test_an_unknown_order_is_not_found(alice_client):
    assert alice_client.get(reverse("portal:apply", args=["NO-SUCH-ORDER"])).status_code == 404


def test_a_portal_post_without_the_csrf_token_is_refused(alice, alices_things):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)

    response = client.post(object_urls(alices_things)["message"], {"body": "hello"})

    assert response.status_code == 403
    assert not Message.objects.exists()
