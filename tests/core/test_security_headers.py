"""Every kind of page carries the Content-Security-Policy, and none needs what it refuses:
no inline script or style without the response's nonce, no event-handler attributes, no
style attributes. Also the other security headers and cookies of a production set-up.

The same pages are opened in a real browser, which reports any violation, in
tests/browser/test_content_security_policy.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.test import Client
from django.urls import reverse

from refunddesk.cases import actions
from tests.console.conftest import with_totp
from tests.portal.builders import customer_for, server_order, vpn_order
from tests.staff import staff_member

pytestmark = pytest.mark.django_db

EN = {"Accept-Language": "en"}
DIRECTIVES = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


@dataclass
class Pages:
    anonymous: Client
    customer: Client
    staff: Client
    order_id: str
    portal_case: str
    console_case: str


@pytest.fixture
def pages(settings, tmp_path) -> Pages:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    order = server_order("TC-CSP-0001", "acct-csp", "csp@example.com")
    customer = customer_for(order.account)
    mine = actions.submit(account=order.account, order=order, line_ids=["1"], actor=customer,
                          channel="portal", language="en")
    other = vpn_order("VPN-CSP-0001", "acct-csp-vpn", "vpn-csp@example.com",
                      placed_days_ago=40)
    reviewed = actions.submit(account=other.account, order=other, line_ids=["1"],
                              actor=customer_for(other.account), channel="portal",
                              language="en")
    staff = staff_member("csp-staff", "agent", "reviewer", "finance", "admin")
    with_totp(staff)
    clients = [Client() for _ in range(3)]
    clients[1].force_login(customer)
    clients[2].force_login(staff)
    # A second order of the customer's, still free to apply for.
    fresh = server_order("TC-CSP-0002", "acct-csp", "csp@example.com")
    return Pages(*clients, order_id=fresh.external_id, portal_case=mine.tracking_number,
                 console_case=reviewed.tracking_number)


def policy_of(response) -> dict[str, str]:
    header = response.headers.get("Content-Security-Policy")
    assert header, f"no Content-Security-Policy on {response.request['PATH_INFO']}"
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


def assert_nothing_inline_without_the_nonce(response) -> None:
    """The page's own HTML needs nothing the policy refuses."""
    html = response.content.decode()
    path = response.request["PATH_INFO"]
    policy = policy_of(response)
    nonces = set(re.findall(r"'nonce-([^']+)'", policy["script-src"] + policy["style-src"]))
    for tag, attributes in re.findall(r"<(script|style)\b([^>]*)>", html, flags=re.I):
        if "src=" in attributes or 'type="application/json"' in attributes:
            continue
        nonce = re.search(r'nonce="([^"]+)"', attributes)
        assert nonce and nonce.group(1) in nonces, f"inline <{tag}> without the nonce: {path}"
    assert not re.search(r"<[^>]+\sstyle=", html), f"a style attribute on {path}"
    assert not re.search(r"<[^>]+\son[a-z]+=", html, flags=re.I), f"an on…= handler on {path}"
    assert "javascript:" not in html, f"a javascript: URL on {path}"


def assert_policy(response) -> None:
    policy = policy_of(response)
    for name, sources in DIRECTIVES.items():
        assert policy[name].startswith(sources), (name, policy[name])
    assert "'unsafe-inline'" not in str(policy) and "'unsafe-eval'" not in str(policy)


def get(client: Client, url: str, status: int = 200, **extra):
    response = client.get(url, headers=EN, **extra)
    assert response.status_code == status, (url, response.status_code)
    return response


# -- every kind of page -----------------------------------------------------------------------

def test_the_public_pages_carry_the_policy_and_need_nothing_it_refuses(pages):
    for url, status in [(reverse("home"), 200), (reverse("account_login"), 200),
                        (reverse("portal:track"), 200), ("/no-such-page", 404),
                        (reverse("account_request_login_code"), 200)]:
        response = get(pages.anonymous, url, status)
        assert_policy(response)
        assert_nothing_inline_without_the_nonce(response)


def test_the_portal_pages_and_the_live_quote_carry_the_policy(pages):
    client = pages.customer
    for url in [reverse("portal:account"), reverse("portal:refunds"),
                reverse("portal:apply", args=[pages.order_id]),
                reverse("portal:case", args=[pages.portal_case])]:
        response = get(client, url)
        assert_policy(response)
        assert_nothing_inline_without_the_nonce(response)

    quote = client.post(reverse("portal:quote", args=[pages.order_id]), {"lines": ["1"]},
                        headers={**EN, "HX-Request": "true"})
    assert quote.status_code == 200
    assert_policy(quote)
    assert_nothing_inline_without_the_nonce(quote)


def test_the_console_pages_and_the_queue_refresh_carry_the_policy(pages):
    client = pages.staff
    for url in [reverse("console:queue"), reverse("console:queue_rows"),
                reverse("console:case", args=[pages.console_case]), reverse("console:assist"),
                reverse("console:policies"), reverse("console:payouts"),
                reverse("console:api_keys"), reverse("console:webhooks"),
                reverse("mfa_index")]:
        response = get(client, url)
        assert_policy(response)
        assert_nothing_inline_without_the_nonce(response)


def test_the_admin_pages_carry_the_policy(pages):
    for url in [reverse("admin:index"), reverse("admin:billing_product_changelist"),
                reverse("admin:cases_rejectionreason_add")]:
        response = get(pages.staff, url)
        assert_policy(response)
        assert_nothing_inline_without_the_nonce(response)
    # its login is the site's (with the second factor)
    assert_policy(get(pages.anonymous, reverse("admin:login"), 302))


def test_the_api_docs_and_answers_carry_the_policy(pages):
    docs = get(pages.anonymous, "/api/v1/docs")
    assert_policy(docs)
    assert_nothing_inline_without_the_nonce(docs)
    assert_policy(get(pages.anonymous, "/api/v1/openapi.json"))
    assert_policy(get(pages.anonymous, "/api/v1/cases/NOPE", 401))


def test_refusals_carry_the_policy_in_the_sites_layout(pages):
    # a customer at the console
    forbidden = get(pages.customer, reverse("console:queue"), 403)
    assert_policy(forbidden)
    assert_nothing_inline_without_the_nonce(forbidden)

    # a form without its CSRF token: our page, not Django's (whose style is inline)
    strict = Client(enforce_csrf_checks=True)
    refused = strict.post(reverse("account_login"), {"login": "x", "password": "y"},
                          headers=EN)
    assert refused.status_code == 403
    assert "The form could not be accepted" in refused.content.decode()
    assert_policy(refused)
    assert_nothing_inline_without_the_nonce(refused)


def test_the_too_many_requests_page_carries_the_policy(pages, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "login": "1/m/ip"}
    client = pages.anonymous
    client.post(reverse("account_login"), {"login": "x", "password": "y"}, headers=EN)

    response = client.post(reverse("account_login"), {"login": "x", "password": "y"},
                           headers=EN)

    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert_policy(response)
    assert_nothing_inline_without_the_nonce(response)


def test_a_page_that_uses_no_nonce_names_none_in_its_policy(pages):
    # django-csp adds a nonce only when the page asked for one (request.csp_nonce); ours
    # need none, so the policy allows nothing inline at all.
    policy = policy_of(get(pages.anonymous, reverse("home")))

    assert policy["script-src"] == "'self'"
    assert policy["style-src"] == "'self'"


# -- the other headers and the cookies of a production set-up (DEBUG off) -------------------

def test_https_responses_tell_browsers_to_come_back_over_https_for_a_year(pages):
    response = pages.anonymous.get(reverse("home"), secure=True)

    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_plain_http_responses_carry_no_hsts(pages):
    assert "Strict-Transport-Security" not in pages.anonymous.get(reverse("home")).headers


def test_pages_keep_their_address_to_themselves_and_refuse_framing(pages):
    response = pages.anonymous.get(reverse("portal:track"))

    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_session_and_csrf_cookies_are_https_only_without_debug(pages):
    client = pages.anonymous
    login_page = client.get(reverse("account_login"), secure=True)
    assert login_page.cookies["csrftoken"]["secure"] is True

    staff_member("cookie-agent", "agent", password="cookie-agent-password-2026")
    response = client.post(reverse("account_login"),
                           {"login": "cookie-agent", "password": "cookie-agent-password-2026"},
                           secure=True)

    assert response.cookies["sessionid"]["secure"] is True
    assert response.cookies["sessionid"]["httponly"] is True
