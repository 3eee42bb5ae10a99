"""Keys, clients and cases for the REST API tests, built through the real paths (key
making, order import, case submission)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from django.test import Client

from refunddesk.api.keys import make_key
from refunddesk.api.models import ApiKey, Scope
from refunddesk.billing.models import Order
from refunddesk.cases import actions
from refunddesk.cases.actors import COMMAND_LINE, customer_of
from refunddesk.cases.models import RefundCase
from tests.cases.conftest import import_order
from tests.conftest import EXAMPLE_ORDER
from tests.portal.builders import vpn_order

ALL_SCOPES: tuple[str, ...] = tuple(Scope.values)

# The example order of DESIGN.md as import_order files it (Tencent Cloud's policy).
EXAMPLE_ACCOUNT = EXAMPLE_ORDER["account"]["id"]  # "acct-1001"
EXAMPLE_ORDER_ID = EXAMPLE_ORDER["id"]  # "TC-20260301-0001"


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    """Nothing the API does lands in var/; e-mail stays in memory."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def client_with(secret: str | None = None, **headers: str) -> Client:
    """A test client that asks for English messages (the site's default is zh-hans) and,
    given a secret, sends it as a bearer key."""
    if secret is not None:
        headers.setdefault("HTTP_AUTHORIZATION", f"Bearer {secret}")
    return Client(HTTP_ACCEPT_LANGUAGE="en", **headers)


class ApiClient(Client):
    """A Django test client authenticating with one key, which it holds."""

    def __init__(self, key: ApiKey, secret: str):
        super().__init__(HTTP_ACCEPT_LANGUAGE="en", HTTP_AUTHORIZATION=f"Bearer {secret}")
        self.key, self.secret = key, secret


@pytest.fixture
def api_client(db) -> Callable[..., ApiClient]:
    """api_client(["cases:read"]) → a client whose requests carry a new key with these
    scopes (every scope when none are given), in English."""

    def make(scopes: Sequence[str] = ALL_SCOPES, *, name: str = "merchant console"
             ) -> ApiClient:
        return ApiClient(*make_key(name=name, scopes=list(scopes), actor=COMMAND_LINE))

    return make


@pytest.fixture
def stranger(db) -> Client:
    """Someone who sends no key at all."""
    return client_with()


def example_order(**changes: Any) -> Order:
    """The DESIGN example order (acct-1001, TC-20260301-0001, 960.00 CNY), with changes to
    its top-level facts (id, account …)."""
    facts = copy.deepcopy(EXAMPLE_ORDER)
    facts.update(changes)
    return import_order(facts)


_numbers = iter(range(1, 10**9))


def fresh_order(account: str | None = None, email: str | None = None, *,
                order_id: str | None = None, lines: int = 1) -> Order:
    """A VPN order placed three days ago, whatever today is. The first VPN order of an
    account (each call makes a new account unless told one) is inside the 30-day
    money-back guarantee: its lines are refunded in full and approved at once."""
    number = next(_numbers)
    account = account or f"acct-api-{number}"
    email = email or f"customer-{number}@example.com"
    return vpn_order(order_id or f"VPN-API-{number}", account, email, lines=lines)


def case_for(order: Order, lines: Sequence[str] = ("1",), *, channel: str = "portal"
             ) -> RefundCase:
    """A case opened the way the portal opens one."""
    return actions.submit(account=order.account, order=order, line_ids=list(lines),
                          actor=customer_of(order.account), channel=channel)


@pytest.fixture
def reader(api_client) -> ApiClient:
    """A console that may read cases and quote."""
    return api_client(["cases:read"])


@pytest.fixture
def writer(api_client) -> ApiClient:
    """A console that may also open cases."""
    return api_client(["cases:read", "cases:write"])


def post(client: Client, path: str, body: Any) -> Any:
    return client.post(path, json.dumps(body), content_type="application/json")


def error_of(response: Any) -> dict[str, Any]:
    """The error object of a refusal, after checking the one error shape."""
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "field"}, body
    assert body["error"]["message"], body
    return body["error"]


def assert_invalid(response: Any, field: str) -> dict[str, Any]:
    """A 422 in the error shape, naming `field` as the input at fault."""
    assert response.status_code == 422, response.content
    error = error_of(response)
    assert error["code"] == "invalid"
    assert error["field"] == field
    return error
