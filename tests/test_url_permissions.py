"""Rule 6 of DESIGN.md, generated from the URLconf: every console, portal and admin page (and
every API operation) refuses a stranger and a customer of another account.

The addresses come from the resolver (tests/url_patterns.py), not from a hand-kept list, so a
new view is checked the day it is added. Its path parameters are filled with real objects of
*Alice* (a customer) and of staff; *Bob*, another customer, and an anonymous visitor ask for
each address by GET and by POST (CSRF not enforced, so the view itself must refuse) and must
be refused — sent to log in, 403, 404 (an object of someone else does not exist for them) or
405 — never shown a page, never a 500, and nothing in the database may change.

A new pattern with a parameter nobody taught PARAMETERS (or a new admin model missing from
ADMIN_OBJECT_MODELS, both in tests/url_patterns.py) fails here on purpose: decide what a real
value is and add it. Pages that are public by design are listed in PUBLIC, each with its
reason.
"""

from __future__ import annotations

import copy
import json
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from refunddesk.api.api import api
from refunddesk.payouts import gateways
from tests.url_patterns import Address, World, build_world, every_address, unfillable, url_of

ADDRESSES = every_address()

# -- what is not checked here, and why ----------------------------------------------------------

PUBLIC: dict[str, str] = {
    # the site
    "home": "the front page: explains the desk and links to log in and to track a refund",
    "healthz": "the load balancer's probe: says only that the app and its database answer",
    "set_language": "Django's language switch: sets the visitor's own language choice",
    "portal:track": "track by number AND e-mail without login, by design (same answer for "
                    "unknown and wrong e-mail, rate-limited; tests/cases/test_track_page.py)",
    # the administration
    "payouts:notify": "payment providers post refund notifications here: no login, each "
                      "verified by its gateway's signature before it is read "
                      "(tests/payouts/test_notices.py)",
    "admin:login": "the administration's login form (wrapped by allauth's secure_admin_login)",
    # the REST API: every operation needing a key is checked by the API test below
    "api:openapi-json": "the API's published description (schemas, no data)",
    "api:openapi-view": "the API's documentation page (no data)",
    "api:api-root": "django-ninja's root marker: always 404, it only locates the docs",
    # allauth's login flow: public by design, it is how one gets a login
    "account_login": "allauth: the login page",
    "account_logout": "allauth: logging out",
    "account_inactive": "allauth: the 'this login is inactive' notice",
    "account_signup": "allauth: customers sign up",
    "account_email_verification_sent": "allauth: the 'we sent you an e-mail' notice",
    "account_confirm_email": "allauth: the link in a confirmation e-mail (its key is the secret)",
    "account_reset_password": "allauth: asking for a password reset",
    "account_reset_password_done": "allauth: the 'reset e-mail sent' notice",
    "account_reset_password_from_key": "allauth: the link in a reset e-mail (its key is the "
                                       "secret)",
    "account_reset_password_from_key_done": "allauth: the 'password changed' notice",
    "account_request_login_code": "allauth: asking for a login code by e-mail",
    "account_confirm_login_code": "allauth: entering the login code of a login under way",
    "mfa_authenticate": "allauth: the second step of a login under way (the TOTP code)",
}

# Addresses a logged-in customer legitimately reaches: their own things. Bob gets a page here,
# which must show nothing of Alice's.
CUSTOMERS_OWN: dict[str, str] = {
    "portal:account": "the customer's own orders and subscriptions",
    "portal:refunds": "the customer's own refund cases",
}

# allauth's pages about the logged-in user's own login: a stranger must be sent to log in; a
# customer there sees and changes only their own login, so the foreign-customer test skips them.
ACCOUNTS_OWN_LOGIN = {
    "account_email", "account_change_password", "account_set_password",
    "account_reauthenticate", "account_request_reauthentication_code",
    "account_confirm_reauthentication_code", "mfa_index", "mfa_reauthenticate",
    "mfa_activate_totp", "mfa_deactivate_totp", "mfa_view_recovery_codes",
    "mfa_generate_recovery_codes", "mfa_download_recovery_codes",
}

# Redirects other than to a login page that are still a refusal: the page they send to refuses.
REFUSING_REDIRECTS: dict[str, str] = {
    "admin:logout": "Django's admin sends a non-staff visitor of its logout to its index, which "
                    "sends them to log in",
}


def checked_pages() -> list[Address]:
    """Every console, portal and admin address (and any other page of the site not listed as
    public), and allauth's own-login pages. allauth's other pages must be classified by
    hand: a new one is neither checked nor public, and the first test says so."""
    return [address for address in ADDRESSES
            if address.id not in PUBLIC and address.area != "api"
            and (address.area != "accounts" or address.id in ACCOUNTS_OWN_LOGIN)]


def api_operations() -> list[Address]:
    return [address for address in ADDRESSES
            if address.area == "api" and address.id not in PUBLIC]


def skipped() -> dict[str, str]:
    """Every address no test here requests, with why."""
    checked = {address.id for address in [*checked_pages(), *api_operations()]}
    return {address.id: PUBLIC.get(address.id, "NOT CLASSIFIED") for address in ADDRESSES
            if address.id not in checked}


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker, tmp_path_factory):
    """Built once for the module inside a transaction rolled back at its end; each test runs
    in a savepoint of it (pytest-django's `db`), so what a test changes is undone too."""
    tmp = tmp_path_factory.mktemp("url-permissions")
    configured = copy.deepcopy(settings.REFUNDDESK_GATEWAYS)
    configured["sandbox"]["OPTIONS"].update(ledger=str(tmp / "sandbox-gateway.sqlite3"),
                                            settle_after={"default": 0})
    with (override_settings(
            MEDIA_ROOT=tmp / "media", REFUNDDESK_GATEWAYS=configured,
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
          django_db_blocker.unblock()):
        gateways.reset()
        with transaction.atomic():
            yield build_world()
            transaction.set_rollback(True)
        gateways.reset()


# -- what a refusal is ------------------------------------------------------------------------

LOGIN_PAGES = ("account_login", "admin:login")


def form_data() -> dict[str, Any]:
    """One POST body with every field the desk's forms ask for, so a view that forgot to
    refuse would act rather than answer a form error."""
    return {
        "lines": ["1"], "body": "hello", "text": "please look again", "message": "here",
        "confirmed": "True", "reference": "X-1", "note": "a note", "questions": "receipt?",
        "due": (timezone.now() + timedelta(days=7)).date().isoformat(),
        "reason": "not_eligible", "amount_0": "1.00", "assignee": "1",
        "url": "https://intruder.example/hook", "events": ["case.submitted"],
        "name": "intruder key", "scopes": ["cases:read", "cases:write", "decisions:write"],
        "policy": "tencent-cloud", "policy_id": "tencent-cloud", "roles": ["admin"],
        "country": "CN", "language": "en",  # a text after a final decision
        "document_payment_proof": [SimpleUploadedFile(
            "receipt.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")],
        "files": [SimpleUploadedFile("receipt.pdf", b"%PDF-1.4\n%%EOF\n",
                                     content_type="application/pdf")],
    }


def snapshot() -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table a view could change, many-to-many links included (login
    times and sessions aside). Plain SQL: it runs twice for each of some 400 requests."""
    skipped_models = {"sessions.session", "contenttypes.contenttype", "auth.permission"}
    quote = connection.ops.quote_name
    taken = {}
    with connection.cursor() as cursor:
        for model in apps.get_models(include_auto_created=True):
            label = model._meta.label_lower
            if label in skipped_models:
                continue
            columns = ", ".join(quote(field.column) for field in model._meta.concrete_fields
                                if field.attname != "last_login")
            cursor.execute(f"SELECT {columns} FROM {quote(model._meta.db_table)} "
                           f"ORDER BY {quote(model._meta.pk.column)}")
            taken[label] = cursor.fetchall()
    return taken


def changes(before: dict[str, list[Any]], after: dict[str, list[Any]]) -> list[str]:
    return [f"{label}: {len(before[label])} rows → {len(after[label])} rows"
            + ("" if len(before[label]) != len(after[label]) else " (rows changed)")
            for label in before if before[label] != after[label]]


def login_path(location: str) -> bool:
    path = urlsplit(location).path
    return any(path == reverse(name) for name in LOGIN_PAGES)


def a_client(**defaults: Any) -> Client:
    """A test client that does not enforce CSRF (the view itself must refuse) and reports a
    server error as the 500 it would be, to name it with the rest."""
    return Client(enforce_csrf_checks=False, raise_request_exception=False, **defaults)


def what_it_showed(response) -> str:
    if response.status_code >= 500 and getattr(response, "exc_info", None):
        return f"{response.status_code} server error: {response.exc_info[1]!r}"
    body = response.content.decode(errors="replace")
    title = body.split("<title>", 1)[-1].split("</title>", 1)[0] if "<title>" in body else ""
    return f"{response.status_code} {title.strip() or body[:200]!r}"


def refusal_problem(address: Address, client: Client, method: str, url: str,
                    response, *, depth: int = 0) -> str | None:
    """None when `response` refuses; else what the visitor got, in words."""
    status = response.status_code
    if status in (403, 404, 405):
        return None
    if status in (301, 302, 303, 307, 308):
        location = response.headers["Location"]
        if login_path(location):
            return None
        if (address.is_redirect_only or address.id in REFUSING_REDIRECTS) and depth < 3:
            target = urlsplit(location).path
            followed = client.get(target)
            problem = refusal_problem(address, client, "GET", target, followed,
                                      depth=depth + 1)
            return None if problem is None else f"redirected to {target}, then {problem}"
        return f"{method} {url} → {status} redirect to {location} (not a login page)"
    return f"{method} {url} → {what_it_showed(response)}"


def requested(client: Client, method: str, url: str):
    if method == "GET":
        return client.get(url)
    return client.post(url, form_data())


def visit(address: Address, client: Client, world: World, *,
          own_page_ok: bool = False) -> list[str]:
    """GET and POST the address; every way it was not refused, as sentences."""
    url = url_of(address, world)
    problems = []
    before = snapshot()
    for method in ("GET", "POST"):
        response = requested(client, method, url)
        if own_page_ok and response.status_code in (200, 405):
            shown = response.content.decode(errors="replace")
            leaked = [marker for marker in world.markers() if marker in shown]
            if leaked:
                problems.append(f"{method} {url} shows Alice's {leaked}")
            continue
        problem = refusal_problem(address, client, method, url, response)
        if problem:
            problems.append(problem)
    after = snapshot()
    if after != before:
        problems.append(f"{url}: the requests changed the database: {changes(before, after)}")
    return problems


# -- the tests --------------------------------------------------------------------------------

def test_every_url_pattern_is_checked_or_listed_as_public_with_a_reason():
    # given every pattern of the URLconf
    checked = {address.id for address in checked_pages()} | {
        address.id for address in api_operations()}
    ids = [address.id for address in ADDRESSES]

    # then each is checked or public, the lists name only patterns that exist, and every
    # parameter of a checked pattern can be filled with a real value
    unclassified = [name for name, reason in skipped().items() if reason == "NOT CLASSIFIED"]
    assert not unclassified, f"add these to a checked area or to PUBLIC with a reason: " \
                             f"{unclassified}"
    assert len(ids) == len(set(ids)), "two patterns share an id: the test ids would clash"
    listed = set(PUBLIC) | set(CUSTOMERS_OWN) | ACCOUNTS_OWN_LOGIN | set(REFUSING_REDIRECTS)
    assert listed <= set(ids), f"stale entries, no such pattern: {sorted(listed - set(ids))}"
    assert not set(PUBLIC) & checked
    problems = [problem for address in [*checked_pages(), *api_operations()]
                for problem in unfillable(address)]
    assert not problems, "\n".join(problems)
    assert (set(CUSTOMERS_OWN) | ACCOUNTS_OWN_LOGIN) <= checked


@pytest.mark.parametrize("address", checked_pages(), ids=lambda address: address.id)
def test_a_stranger_is_refused_by_every_console_portal_and_admin_page(world, db, address):
    # given an anonymous visitor (CSRF not enforced: the view itself must refuse)
    client = a_client()

    # when they GET and POST the address, filled with Alice's and staff's real objects
    problems = visit(address, client, world)

    # then they are sent to log in, refused or told it does not exist; nothing changes
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "address", [address for address in checked_pages() if address.id not in ACCOUNTS_OWN_LOGIN],
    ids=lambda address: address.id)
def test_a_customer_of_another_account_is_refused_by_every_console_portal_and_admin_page(
        world, db, address):
    # given Bob, a customer with an account, an order and a case of his own, logged in
    client = a_client()
    client.force_login(world.bob)

    # when he GETs and POSTs the address, filled with Alice's and staff's objects
    problems = visit(address, client, world, own_page_ok=address.id in CUSTOMERS_OWN)

    # then he is refused (403 in the console and admin, 404 for Alice's things), or on his
    # own pages sees nothing of Alice's; nothing changes
    assert not problems, "\n".join(problems)


def api_methods() -> dict[str, list[str]]:
    """Each API path's operations, from the API's own OpenAPI description."""
    schema = api.get_openapi_schema()
    return {path: sorted(method.upper() for method in operations)
            for path, operations in schema["paths"].items()}


def openapi_path(address: Address) -> str:
    route = address.route
    for name, _ in address.params:
        route = route.replace(f"<{name}>", "{" + name + "}")
    return "/" + route


@pytest.mark.parametrize("address", api_operations(), ids=lambda address: address.id)
def test_an_api_operation_answers_401_json_without_a_key_even_to_a_logged_in_customer(
        world, db, address):
    # given the operations at this address (its OpenAPI path), a stranger, and Bob logged in
    # to the portal (a session cookie is no API key)
    methods = api_methods()
    assert openapi_path(address) in methods, f"{address.route} is not in the OpenAPI paths"
    url = url_of(address, world)
    bob = a_client(HTTP_ACCEPT_LANGUAGE="en")
    bob.force_login(world.bob)
    before = snapshot()
    problems = []

    # when each of them calls each operation without a key
    for who, client in (("stranger", a_client(HTTP_ACCEPT_LANGUAGE="en")), ("Bob", bob)):
        for method in methods[openapi_path(address)]:
            body = json.dumps({"lines": ["1"], "order": world.order.external_id,
                               "account": world.account.external_id, "body": "hello",
                               "text": "look again", "reason": "not_eligible",
                               "message": "no", "questions": "receipt?",
                               "due": "2099-01-01T00:00:00+08:00"})
            response = client.generic(method, url, body, content_type="application/json")
            # then the answer is 401 with a JSON body
            content_type = response.headers.get("Content-Type", "")
            if response.status_code != 401 or not content_type.startswith("application/json"):
                problems.append(f"{who}: {method} {url} → {what_it_showed(response)}")
                continue
            json.loads(response.content)

    # and nothing changed
    after = snapshot()
    if after != before:
        problems.append(f"the requests changed the database: {changes(before, after)}")
    assert not problems, "\n".join(problems)


def test_the_patterns_left_out_of_the_page_tests_are_listed_with_their_reasons():
    # A readable record of what the page tests leave out (shown with `-rP` or `-s`).
    pages, operations = checked_pages(), api_operations()
    print(f"{len(ADDRESSES)} URL patterns: {len(pages)} pages checked, "
          f"{len(operations)} API operations checked, {len(skipped())} left out:")
    for name, reason in sorted(skipped().items()):
        print(f"  {name}: {reason}")
    assert "NOT CLASSIFIED" not in skipped().values()
