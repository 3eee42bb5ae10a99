"""Who may call the API: bearer keys, their scopes, revocation, and what is kept of them."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from refunddesk.api.api import api
from refunddesk.api.keys import key_for, make_key, revoke
from refunddesk.api.models import ApiKey
from refunddesk.cases.actors import COMMAND_LINE
from tests.api.conftest import client_with, error_of, post
from tests.conftest import EXAMPLE_ORDER

VALID_NUMBER = "K7QH-3M9T-XW4"  # any well-formed number will do: auth comes first

class Multipart(dict):
    """A body sent as multipart/form-data (file uploads), not JSON."""


def a_file() -> SimpleUploadedFile:
    return SimpleUploadedFile("receipt.txt", b"paid twice", content_type="text/plain")


# Every operation of the API, with a request that would be valid, and the scope it needs.
N = VALID_NUMBER
ENDPOINTS = [
    pytest.param("get", f"/api/v1/cases/{N}", None, "cases:read", id="read case"),
    pytest.param("get", "/api/v1/cases", None, "cases:read", id="list cases"),
    pytest.param("post", "/api/v1/quotes", {"order": "TC-20260301-0001", "lines": ["1"]},
                 "cases:read", id="quote"),
    pytest.param("post", "/api/v1/cases", {"account": "acct-1001", "order": "TC-20260301-0001",
                                           "lines": ["1"]},
                 "cases:write", id="open case"),
    pytest.param("post", f"/api/v1/cases/{N}/messages", {"body": "Any news?"}, "cases:write",
                 id="add message"),
    pytest.param("post", f"/api/v1/cases/{N}/documents", Multipart(files=[]), "cases:write",
                 id="add documents"),
    pytest.param("post", f"/api/v1/cases/{N}/withdraw", None, "cases:write", id="withdraw"),
    pytest.param("post", f"/api/v1/cases/{N}/answer", Multipart(message="Here."),
                 "cases:write", id="answer"),
    pytest.param("post", f"/api/v1/cases/{N}/appeal", Multipart(text="Look again.", files=[]),
                 "cases:write", id="appeal"),
    pytest.param("post", f"/api/v1/cases/{N}/approve", {}, "decisions:write", id="approve"),
    pytest.param("post", f"/api/v1/cases/{N}/reject",
                 {"reason": "not_eligible", "message": "Outside the window."},
                 "decisions:write", id="reject"),
    pytest.param("post", f"/api/v1/cases/{N}/request-info",
                 {"questions": "Your receipt?", "due": "2099-01-01T00:00:00+08:00"},
                 "decisions:write", id="request info"),
    pytest.param("post", "/api/v1/orders", EXAMPLE_ORDER, "orders:write", id="send order"),
    pytest.param("post", "/api/v1/orders/batch", {"orders": [EXAMPLE_ORDER]},
                 "orders:write", id="send orders"),
    pytest.param("get", "/api/v1/accounts/acct-1001", None, "cases:read", id="read account"),
    pytest.param("get", "/api/v1/accounts/acct-1001/orders", None, "cases:read",
                 id="list orders"),
    pytest.param("get", "/api/v1/orders/TC-20260301-0001", None, "cases:read",
                 id="read order"),
    pytest.param("post", "/api/v1/subscriptions/sub-1/cancel-auto-renewal", None,
                 "cases:write", id="cancel renewal"),
    pytest.param("post", "/api/v1/compensations",
                 {"selection": {"products": ["cvm"]}, "remedy": {"kind": "refund_time"},
                  "outage": {"start": "2026-05-01T02:00:00+08:00",
                             "end": "2026-05-04T02:00:00+08:00"}, "dry_run": True},
                 "decisions:write", id="compensate"),
    pytest.param("get", "/api/v1/compensations/1", None, "decisions:write",
                 id="read compensation"),
]

PLACEHOLDERS = {N: "{number}", "acct-1001": "{account}", "TC-20260301-0001": "{order}",
                "sub-1": "{subscription}", "compensations/1": "compensations/{run_id}"}


def call(client, method: str, path: str, body: dict | None):
    if method == "get":
        return client.get(path)
    if isinstance(body, Multipart):
        data = {**body, "files": [a_file()]}
        return client.post(path, data)
    return post(client, path, body)


def as_template(path: str) -> str:
    for value, placeholder in PLACEHOLDERS.items():
        path = path.replace(value, placeholder)
    return path


def assert_unauthenticated(response) -> None:
    assert response.status_code == 401, response.content
    assert error_of(response)["code"] == "unauthenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_the_endpoints_tested_for_refusals_are_every_operation_of_the_api(db):
    # Given the OpenAPI document the API publishes
    document = api.get_openapi_schema()
    published = {(method, path) for path, item in document["paths"].items()
                 for method in item}

    # When the endpoints these tests call are put in the same form
    tested = {(param.values[0], as_template(param.values[1])) for param in ENDPOINTS}

    # Then no operation escapes the refusal tests
    assert tested == published


@pytest.mark.parametrize(("method", "path", "body", "scope"), ENDPOINTS)
def test_a_stranger_without_a_key_is_refused_with_401_and_a_bearer_challenge(
        stranger, method, path, body, scope):
    # Given a client that sends no Authorization header
    # When it calls the endpoint
    response = call(stranger, method, path, body)

    # Then it is refused in the one error shape, with a challenge naming the scheme
    assert_unauthenticated(response)
    assert response["WWW-Authenticate"] == 'Bearer realm="RefundDesk API"'
    assert "Authorization: Bearer" in error_of(response)["message"]


@pytest.mark.parametrize(("method", "path", "body", "scope"), ENDPOINTS)
def test_a_stranger_is_refused_before_the_request_is_even_validated(
        stranger, method, path, body, scope):
    # Given a request with no key and a body that would not validate
    # When it is sent
    invalid = path + "?limit=0" if path.endswith("/cases") else path
    response = call(stranger, method, invalid, {"lines": "not a list"})

    # Then the answer is about the key, not about the input: nothing is revealed
    assert_unauthenticated(response)


def test_a_secret_no_key_was_made_with_is_refused(api_client):
    # Given a real key, and a client that sends a secret of the right form but made up
    real = api_client(["cases:read"])
    forged = client_with("rdk_" + "A" * 43)

    # When the forged one asks for the list of cases
    response = forged.get("/api/v1/cases")

    # Then it is refused, while the real key is let in
    assert_unauthenticated(response)
    assert real.get("/api/v1/cases").status_code == 200


def test_a_real_secret_with_one_character_changed_is_refused(api_client):
    # Given a real key's secret with its last character changed
    real = api_client(["cases:read"])
    changed = real.secret[:-1] + ("B" if real.secret[-1] != "B" else "C")

    # When it is sent
    response = client_with(changed).get("/api/v1/cases")

    # Then it is refused
    assert_unauthenticated(response)


@pytest.mark.parametrize("header", [
    pytest.param("", id="empty"),
    pytest.param("Bearer", id="scheme without a token"),
    pytest.param("Bearer ", id="scheme and a blank"),
    pytest.param("Basic dXNlcjpwYXNz", id="basic authentication"),
    pytest.param("Token rdk_abc", id="another scheme"),
    pytest.param("rdk_abc", id="token without a scheme"),
])
def test_a_malformed_authorization_header_is_refused(api_client, header):
    # Given a client whose Authorization header is not "Bearer <secret>"
    api_client(["cases:read"])  # a key exists: the refusal is not for want of keys
    client = client_with(HTTP_AUTHORIZATION=header)

    # When it asks for the cases
    response = client.get("/api/v1/cases")

    # Then it is refused as unauthenticated
    assert_unauthenticated(response)


def test_the_real_secret_under_another_scheme_is_refused(api_client):
    # Given a real secret sent as if it were a Token
    real = api_client(["cases:read"])
    client = client_with(HTTP_AUTHORIZATION=f"Token {real.secret}")

    # When it asks for the cases
    response = client.get("/api/v1/cases")

    # Then it is refused
    assert_unauthenticated(response)


def test_a_revoked_key_is_refused_from_the_next_request_on(api_client):
    # Given a key that worked
    client = api_client(["cases:read"])
    assert client.get("/api/v1/cases").status_code == 200

    # When an administrator revokes it
    revoke(client.key, actor=COMMAND_LINE)

    # Then its next request is refused
    assert_unauthenticated(client.get("/api/v1/cases"))
    # And revoking it again changes nothing
    revoked_at = ApiKey.objects.get(pk=client.key.pk).revoked_at
    revoke(client.key, actor=COMMAND_LINE)
    assert ApiKey.objects.get(pk=client.key.pk).revoked_at == revoked_at


@pytest.mark.parametrize(("method", "path", "body", "scope"), ENDPOINTS)
def test_a_key_without_the_scope_an_endpoint_needs_is_refused_with_403(
        api_client, method, path, body, scope):
    # Given a key with every scope but the one this endpoint needs
    client = api_client([s for s in ("orders:write", "cases:read", "cases:write",
                                      "decisions:write") if s != scope])

    # When it calls the endpoint
    response = call(client, method, path, body)

    # Then it is refused as forbidden, naming the scope it lacks
    assert response.status_code == 403, response.content
    error = error_of(response)
    assert error["code"] == "missing_scope"
    assert scope in error["message"]
    assert error["field"] is None


def test_a_write_scope_does_not_imply_the_read_scope(api_client):
    # Given a key that may open cases, but not read them
    client = api_client(["cases:write"])

    # When it asks to read the list
    response = client.get("/api/v1/cases")

    # Then it is refused
    assert response.status_code == 403
    assert error_of(response)["code"] == "missing_scope"


def test_a_key_with_no_scope_at_all_is_authenticated_but_may_do_nothing(api_client):
    # Given a key made with no scopes
    client = api_client([])

    # When it reads the list of cases
    response = client.get("/api/v1/cases")

    # Then it is known (403, not 401) but refused
    assert response.status_code == 403
    assert error_of(response)["code"] == "missing_scope"


def test_the_last_use_of_a_key_is_recorded(api_client):
    # Given a key never used
    client = api_client(["cases:read"])
    assert client.key.last_used_at is None

    # When it makes a request
    before = timezone.now()
    client.get("/api/v1/cases")

    # Then the time of that request is on the key
    used = ApiKey.objects.get(pk=client.key.pk).last_used_at
    assert used is not None and before <= used <= timezone.now()


def test_the_last_use_is_not_rewritten_within_a_minute(api_client):
    # Given a key last used 30 seconds ago
    client = api_client(["cases:read"])
    earlier = timezone.now() - timedelta(seconds=30)
    ApiKey.objects.filter(pk=client.key.pk).update(last_used_at=earlier)

    # When it makes another request
    assert client.get("/api/v1/cases").status_code == 200

    # Then its last use is left as it was
    assert ApiKey.objects.get(pk=client.key.pk).last_used_at == earlier


def test_the_last_use_is_rewritten_once_a_minute_has_passed(api_client):
    # Given a key last used 61 seconds ago
    client = api_client(["cases:read"])
    earlier = timezone.now() - timedelta(seconds=61)
    ApiKey.objects.filter(pk=client.key.pk).update(last_used_at=earlier)

    # When it makes another request
    client.get("/api/v1/cases")

    # Then its last use moves to now
    assert ApiKey.objects.get(pk=client.key.pk).last_used_at > earlier


def test_the_last_use_resolution_is_exactly_one_minute(db):
    # Given a key used at noon
    key, secret = make_key(name="clock", scopes=["cases:read"], actor=COMMAND_LINE)
    noon = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0)
    key_for(secret, now=noon)

    # When it is used 59.999 s later, and then a full minute later
    key_for(secret, now=noon + timedelta(seconds=59, microseconds=999_000))
    unchanged = ApiKey.objects.get(pk=key.pk).last_used_at
    key_for(secret, now=noon + timedelta(minutes=1))
    moved = ApiKey.objects.get(pk=key.pk).last_used_at

    # Then only the second use is written
    assert unchanged == noon
    assert moved == noon + timedelta(minutes=1)


def test_a_refused_request_records_no_use(api_client):
    # Given a revoked key
    client = api_client(["cases:read"])
    revoke(client.key, actor=COMMAND_LINE)

    # When it is sent
    client.get("/api/v1/cases")

    # Then it leaves no trace of use
    assert ApiKey.objects.get(pk=client.key.pk).last_used_at is None


def test_only_the_hash_of_the_secret_is_stored(db):
    # Given a newly made key
    key, secret = make_key(name="billing console", scopes=["cases:read"], actor=COMMAND_LINE)

    # When its stored row is read back
    row = ApiKey.objects.filter(pk=key.pk).values().get()

    # Then the secret is nowhere in it; its SHA-256 and its first characters are
    assert secret.startswith("rdk_")
    assert row["key_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert row["prefix"] == secret[:12]
    assert len(secret) > len(row["prefix"]) + 30  # the visible part gives nothing away
    assert not any(secret in str(value) for value in row.values())


def test_two_keys_never_share_a_secret(db):
    # Given two keys made with the same name and scopes
    first = make_key(name="same", scopes=["cases:read"], actor=COMMAND_LINE)
    second = make_key(name="same", scopes=["cases:read"], actor=COMMAND_LINE)

    # Then their secrets, hashes and visible prefixes differ
    assert first[1] != second[1]
    assert first[0].key_hash != second[0].key_hash
    assert first[0].prefix != second[0].prefix


def test_a_key_cannot_be_made_with_an_unknown_scope(db):
    # When a key is asked for with a scope the API does not have
    # Then it is not made
    with pytest.raises(ValueError, match="unknown scopes: cases:delete"):
        make_key(name="too much", scopes=["cases:read", "cases:delete"], actor=COMMAND_LINE)
    assert not ApiKey.objects.exists()
