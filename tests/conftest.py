import copy
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

# Tests never assert on wall-clock time, Hypothesis's per-example deadline included: on a
# loaded machine (CI, the suite's two databases at once) a slow example is not a failure.
hypothesis_settings.register_profile("refunddesk", deadline=None)
hypothesis_settings.load_profile("refunddesk")

# The example order of DESIGN.md ("The order facts"), the starting point of most tests:
# each test copies it and changes what it is about.
EXAMPLE_ORDER: dict[str, Any] = {
    "id": "TC-20260301-0001",
    "account": {"id": "acct-1001", "email": "li.lei@example.com", "name": "李雷",
                "created_at": "2025-06-01T09:00:00+08:00"},
    "kind": "new",
    "channel": "direct",
    "placed_at": "2026-03-01T10:00:00+08:00",
    "currency": "CNY",
    "invoiced": False,
    "lines": [{
        "id": "1", "sku": "cvm.s5.medium", "product": "cvm", "category": "cloud_server",
        "billing": "prepaid",
        "term": {"unit": "month", "count": 12},
        "service_start": "2026-03-01T10:05:00+08:00",
        "service_end": "2027-03-01T10:05:00+08:00",
        "list_price": "1200.00",
        "amount_paid": "960.00",
        "flags": [],
    }],
    "payments": [
        {"id": "P1", "method": "alipay", "funding": "cash", "amount": "900.00",
         "paid_at": "2026-03-01T10:00:03+08:00", "gateway": "sandbox",
         "reference": "2026030122001"},
        {"id": "P2", "method": "voucher", "funding": "voucher", "amount": "60.00"},
    ],
}


@pytest.fixture
def example_order() -> dict[str, Any]:
    return copy.deepcopy(EXAMPLE_ORDER)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    # Real hashers are slow on purpose; tests create many logins and prove nothing about
    # hashing strength.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session", autouse=True)
def no_process_cache():
    # Processes keep API keys, policies, calendars and webhook endpoints until PostgreSQL
    # announces a change (core/invalidation.py); a test changes them inside a transaction
    # that is never committed, so nothing would announce it. Tests read the database; the
    # cache has tests of its own (tests/core/test_invalidation.py, which turn it on).
    # Off for the whole session, not test by test: a module's shared data is written
    # before any test's own fixtures run (tests/url_patterns.py), and was read through a
    # cache kept from then on.
    from django.conf import settings

    settings.REFUNDDESK_PROCESS_CACHE = False


@pytest.fixture(autouse=True)
def nothing_kept_from_an_earlier_test():
    from refunddesk.core import invalidation

    invalidation.forget()


@pytest.fixture(autouse=True)
def sandbox_gateway(settings, tmp_path):
    """Every test gets its own sandbox provider (a ledger file of its own) whose refunds
    settle at once, so no test pays into another's books or into the demo's."""
    from refunddesk.payouts import gateways
    from refunddesk.payouts.gateways.sandbox import ledger_at

    configured = copy.deepcopy(settings.REFUNDDESK_GATEWAYS)
    path = tmp_path / "sandbox-gateway.sqlite3"
    configured["sandbox"]["OPTIONS"].update(ledger=str(path), settle_after={"default": 0})
    # Credentials a developer's or CI's environment may hold never reach a test: the
    # providers' gateways start unconfigured, and a test points one at its stand-in.
    for name, secrets in {"alipay": ("app_id", "private_key", "alipay_public_key"),
                          "wechat_pay": ("mchid", "private_key", "apiv3_key", "public_key"),
                          "paypal": ("client_id", "client_secret", "webhook_id")}.items():
        configured[name]["OPTIONS"].update(dict.fromkeys(secrets, ""))
    settings.REFUNDDESK_GATEWAYS = configured
    gateways.reset()
    yield lambda: ledger_at(path)
    gateways.reset()
