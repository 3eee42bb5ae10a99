"""Console tests: staff in each role, logged in with their second factor set up."""

import pytest

from refunddesk.cases import actions
from refunddesk.core import totp
from tests.notifications.conftest import mailbox  # noqa: F401  (a real SMTP server)
from tests.portal.builders import customer_for, server_order, vpn_order
from tests.staff import staff_member

ROLES = ("agent", "reviewer", "finance", "admin")


def with_totp(user, secret=None):
    """Give `user` a TOTP authenticator; returns the secret."""
    secret = secret or totp.new_secret()
    totp.activate(user, secret)
    return secret


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def make_staff(db):
    """make_staff("agent") → a staff member in that role, with TOTP set up."""
    made = {}

    def make(role, username=None):
        username = username or f"{role}-{len(made) + 1}"
        user = staff_member(username, role, password=f"{username}-password-2026")
        with_totp(user)
        made[username] = user
        return user

    return make


@pytest.fixture
def staff_client(client, make_staff):
    """staff_client("reviewer") → the test client, logged in as a new reviewer."""

    def login(role, username=None):
        user = make_staff(role, username)
        client.force_login(user)
        client.user = user
        return client

    return login


@pytest.fixture
def agent(make_staff):
    return make_staff("agent", "agent")


@pytest.fixture
def reviewer(make_staff):
    return make_staff("reviewer", "reviewer")


@pytest.fixture
def second_reviewer(make_staff):
    return make_staff("reviewer", "reviewer-2")


@pytest.fixture
def alice_order(db):
    """Alice's server order, its service started yesterday: inside the five-day window."""
    return server_order("TC-ALICE-1", "acct-alice", "alice@example.com")


@pytest.fixture
def bob_order(db):
    return vpn_order("VPN-BOB-1", "acct-bob", "bob@example.com")


@pytest.fixture
def late_customer(db):
    """A customer whose server started 30 days ago: past the five days, so their request
    is prorated and goes to review."""
    order = server_order("TC-LATE-1", "acct-late", "late@example.com", started_days_ago=30)
    return customer_for(order.account)


@pytest.fixture
def case_in_review(late_customer):
    account = late_customer.billing_account
    order = account.orders.get()
    return actions.submit(account=account, order=order, line_ids=["1"], actor=late_customer,
                          channel="portal", language="en")
