"""Policies tests: the Tencent Cloud preset as the policy being edited, the DESIGN example
order in the billing mirror, and staff in each role (TOTP set up, as the console needs)."""

import pytest

from refunddesk.policies import actions, publishing
from refunddesk.policy.presets import PRESETS_DIR
from tests.console.conftest import make_staff, media_in_tmp, staff_client  # noqa: F401
from tests.portal.builders import server_order
from tests.staff import staff_member

PRESET_TEXT = (PRESETS_DIR / "tencent-cloud.toml").read_text(encoding="utf-8")


def tencent(version=2, *, refund_vouchers=False, policy_id="tencent-cloud", extra=""):
    """The Tencent Cloud preset as version `version`; with `refund_vouchers`, its five-day
    rule also gives vouchers back (so the DESIGN example refunds 960.00, not 900.00)."""
    text = PRESET_TEXT.replace('id = "tencent-cloud"', f'id = "{policy_id}"', 1)
    text = text.replace("version = 1", f"version = {version}", 1)
    if refund_vouchers:
        text = text.replace('funding = ["cash", "balance", "gift"]\nhandling = "approve"',
                            'funding = ["cash", "balance", "gift", "voucher"]\n'
                            'handling = "approve"', 1)
    return text + extra


@pytest.fixture
def admin(db):
    return staff_member("policy-admin", "admin")


@pytest.fixture
def second_admin(db):
    """Another admin: publishing takes two."""
    return staff_member("policy-admin-2", "admin")


@pytest.fixture
def draft(admin):
    """tencent-cloud@2, a draft that refunds vouchers in the five days too."""
    return actions.save_draft("tencent-cloud", tencent(2, refund_vouchers=True), actor=admin,
                              note="vouchers back within five days")


@pytest.fixture
def published(draft, admin, second_admin):
    """The draft, proposed by `admin` and approved by `second_admin`: in force at once."""
    return publishing.propose_and_approve(draft, proposed_by=admin, approved_by=second_admin)


@pytest.fixture
def alice_order(db):
    """Alice's server, started yesterday: inside the five-day window (900.00 cash + 60.00
    voucher)."""
    return server_order("TC-ALICE-1", "acct-alice", "alice@example.com")


@pytest.fixture(autouse=True)
def in_english():
    # The messages these tests match are the English source strings; zh-hans is the
    # site's default language.
    from django.utils import translation

    with translation.override("en"):
        yield
