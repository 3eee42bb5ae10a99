"""The demo's customer logins: one per billing account, one shared password, and examples of
customers with an order inside a money-back window today."""

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone

from refunddesk.billing.models import Account
from refunddesk.cases.models import ReasonCategory
from refunddesk.core.demo_staff import (
    CUSTOMER_PASSWORD,
    demo_customer_examples,
    ensure_demo_customers,
)
from tests.portal.builders import mixed_order, server_order, vpn_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def accounts(db):
    server_order("TC-NEW-1", "acct-new", "New.Server@example.com", started_days_ago=1)
    server_order("TC-OLD-1", "acct-old", "old@example.com", started_days_ago=20)
    vpn_order("VPN-NEW-1", "acct-vpn", "vpn@example.com", placed_days_ago=3)
    vpn_order("VPN-OLD-1", "acct-vpn-old", "vpn-old@example.com", placed_days_ago=45)


def test_every_account_gets_a_login_with_the_shared_password(client, accounts):
    created = ensure_demo_customers()

    assert created == 4
    assert not Account.objects.filter(user__isnull=True).exists()
    user = Account.objects.get(external_id="acct-new").user
    assert user.username == user.email == "new.server@example.com"
    assert EmailAddress.objects.get(user=user).verified
    response = client.post(reverse("account_login"), {"login": "new.server@example.com",
                                                      "password": CUSTOMER_PASSWORD})
    assert response.headers["Location"] == reverse("portal:account")


def test_running_it_again_creates_nothing_and_keeps_the_links(accounts):
    ensure_demo_customers()
    links = dict(Account.objects.values_list("external_id", "user_id"))

    assert ensure_demo_customers() == 0
    assert dict(Account.objects.values_list("external_id", "user_id")) == links
    assert get_user_model().objects.count() == 4
    assert EmailAddress.objects.count() == 4


def test_the_refund_reasons_are_created_once(accounts):
    ensure_demo_customers()
    ensure_demo_customers()

    assert list(ReasonCategory.objects.values_list("code", flat=True)) == [
        "changed_mind", "not_as_described", "service_problem", "bought_by_mistake", "other"]
    assert ReasonCategory.objects.get(code="bought_by_mistake").name_zh == "误购"


def test_the_examples_are_customers_with_an_order_inside_a_money_back_window(accounts):
    ensure_demo_customers()

    examples = demo_customer_examples(timezone.now())

    assert [(e.email, e.order_id, e.window) for e in examples] == [
        ("new.server@example.com", "TC-NEW-1", "five_day"),
        ("vpn@example.com", "VPN-NEW-1", "money_back"),
    ]


def test_an_order_with_lines_under_two_policies_is_an_example_of_its_own(accounts):
    # Given a customer whose order of three days ago has a server and a VPN line (older
    # than the newest five-day order, which stands for that window)
    mixed_order("MIX-NEW-1", "acct-mix", "mix@example.com", started_days_ago=3)
    ensure_demo_customers()

    examples = demo_customer_examples(timezone.now(), per_window=1)

    assert ("mix@example.com", "MIX-NEW-1", "two_policies") in [
        (e.email, e.order_id, e.window) for e in examples]
