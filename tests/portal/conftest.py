import pytest

from refunddesk.billing.models import Account
from tests.portal.builders import customer_for, server_order, vpn_order
from tests.staff import staff_member


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    """Uploaded documents go to a temporary MEDIA_ROOT, never var/media."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def alice_order(db):
    """Alice's server order, its service started yesterday: inside the five-day window."""
    return server_order("TC-ALICE-1", "acct-alice", "alice@example.com")


@pytest.fixture
def alice(alice_order):
    return customer_for(alice_order.account)


@pytest.fixture
def bob_order(db):
    return vpn_order("VPN-BOB-1", "acct-bob", "bob@example.com")


@pytest.fixture
def bob(bob_order):
    return customer_for(bob_order.account)


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def staff(db):
    return staff_member("agent", "agent", password="agent-password-2026")


@pytest.fixture
def alice_account(alice):
    return Account.objects.get(user=alice)
