"""Every answer of the API under /api/v1/ that is an error has the one documented shape,
`{"error": {"code", "message", "field"}}`, as JSON — also when Django or Ninja refuse the
request before an operation runs (a body too large or malformed, an unknown address, a
method the address does not take, a crash), which they would otherwise answer with an HTML
page. And nothing the refused request asked for is done."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation

from refunddesk.api import cases as cases_api
from refunddesk.api.api import api
from refunddesk.api.models import IdempotencyRecord
from refunddesk.cases.models import CaseEvent, Document, Message, RefundCase
from tests.api.conftest import case_for, error_of, example_order, fresh_order, post

FIVE_MIB = 5 * 1024 * 1024
BOUNDARY = "refunddesk-test-boundary"

# Whether the body is first read by the operation, or before it by the Idempotency-Key
# middleware (which fingerprints the body): the answer must be the same.
READERS = [pytest.param({}, id="read by the operation"),
           pytest.param({"HTTP_IDEMPOTENCY_KEY": "retry-1"}, id="read first for its key")]


def refusal(response: Any, status: int, code: str, field: str | None = None
            ) -> dict[str, Any]:
    """The error of an answer, after checking its status, that it is JSON, and the shape."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json; charset=utf-8", response.content
    assert b"<html" not in response.content.lower()
    error = error_of(response)
    assert (error["code"], error["field"]) == (code, field), error
    return error


def everything() -> dict[str, Any]:
    """What a refused request must leave as it was: every case as it stands, and the
    documents, messages, audit events and idempotency keys."""
    return {
        "cases": list(RefundCase.objects.order_by("pk").values()),
        "documents": Document.objects.count(),
        "messages": Message.objects.count(),
        "events": CaseEvent.objects.count(),
        "idempotency keys": IdempotencyRecord.objects.count(),
    }


def stored_files() -> list[Path]:
    return [path for path in Path(settings.MEDIA_ROOT).rglob("*") if path.is_file()]


def multipart(*parts: tuple[str, str | None, bytes]) -> bytes:
    """A multipart/form-data body written by hand (the test client cuts file names to 255
    characters; a browser or another client does not): parts of (name, file name, bytes)."""
    body = b""
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
        body += (f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
                 "Content-Type: text/plain\r\n\r\n").encode() + content + b"\r\n"
    return body + f"--{BOUNDARY}--\r\n".encode()


def send_multipart(client: Client, path: str, body: bytes, **headers: str) -> Any:
    return client.generic("POST", path, body,
                          content_type=f"multipart/form-data; boundary={BOUNDARY}", **headers)


@pytest.fixture
def open_case() -> RefundCase:
    return case_for(example_order())


# --- a body too large, or of too many parts ----------------------------------------------

@pytest.mark.parametrize("headers", READERS)
def test_a_quote_with_a_json_body_over_5_mib_is_refused_413_in_the_error_shape(
        writer, headers, caplog):
    # Given an order, and a quote request padded past the 5 MiB a body may have
    order = fresh_order()
    body = json.dumps({"order": order.external_id, "lines": ["1"],
                       "padding": "x" * FIVE_MIB})
    before = everything()

    # When it is sent
    with caplog.at_level(logging.ERROR, logger="django.security"):
        response = writer.post("/api/v1/quotes", body, content_type="application/json",
                               **headers)

    # Then it is refused as too large, in the error shape, not with Django's HTML page
    error = refusal(response, 413, "payload_too_large")
    assert "5.0" in error["message"]
    # and it is logged as Django logs such a request, and nothing is kept, not even a key
    assert any(record.name == "django.security.RequestDataTooBig" for record in caplog.records)
    assert everything() == before


def test_a_key_refused_with_a_body_too_large_is_free_for_the_request_sent_again(writer):
    # Given a request refused as too large under an Idempotency-Key
    order = fresh_order()
    too_large = json.dumps({"order": order.external_id, "lines": ["1"],
                            "padding": "x" * FIVE_MIB})
    writer.post("/api/v1/quotes", too_large, content_type="application/json",
                HTTP_IDEMPOTENCY_KEY="quote-1")

    # When the request is sent again as it should be, with the same key
    response = writer.post("/api/v1/quotes",
                           json.dumps({"order": order.external_id, "lines": ["1"]}),
                           content_type="application/json", HTTP_IDEMPOTENCY_KEY="quote-1")

    # Then it is answered (the key was not spent on the refusal)
    assert response.status_code == 200, response.content


@pytest.mark.parametrize("headers", READERS)
def test_opening_a_case_with_a_body_over_5_mib_opens_nothing(writer, headers):
    # Given an order nothing was asked of yet
    order = fresh_order()
    body = json.dumps({"account": order.account.external_id, "order": order.external_id,
                       "lines": ["1"], "reason": "x" * FIVE_MIB})
    before = everything()

    # When a case is asked for with a body past the limit
    response = writer.post("/api/v1/cases", body, content_type="application/json", **headers)

    # Then it is refused in the error shape and no case is opened
    refusal(response, 413, "payload_too_large")
    assert everything() == before


@pytest.mark.parametrize("headers", READERS)
def test_200_files_on_a_case_are_refused_in_the_error_shape_and_none_is_kept(
        writer, open_case, headers):
    # Given a case in review, and an upload of 200 files (Django reads at most 100)
    files = [SimpleUploadedFile(f"receipt-{n}.txt", b"Paid twice.", content_type="text/plain")
             for n in range(200)]
    before = everything()

    # When they are sent
    response = writer.post(f"/api/v1/cases/{open_case.tracking_number}/documents",
                           {"files": files}, **headers)

    # Then the upload is refused as too many files, and no document is stored
    error = refusal(response, 400, "too_many_files")
    assert "100" in error["message"]
    assert everything() == before
    assert stored_files() == []


@pytest.mark.parametrize("headers", READERS)
def test_an_appeal_with_more_form_fields_than_django_reads_is_refused(
        writer, open_case, headers):
    # Given a form of 1,100 fields (Django reads at most 1,000)
    fields = {f"field{n}": "x" for n in range(1100)}
    before = everything()

    # When it is sent as an appeal
    response = writer.post(f"/api/v1/cases/{open_case.tracking_number}/appeal", fields,
                           **headers)

    # Then it is refused as too many fields, and nothing changes
    error = refusal(response, 400, "too_many_fields")
    assert "1000" in error["message"]
    assert everything() == before


def test_a_query_of_more_parameters_than_django_reads_is_refused(writer):
    # When cases are listed with 1,100 query parameters
    query = "&".join(f"p{n}=1" for n in range(1100))
    response = writer.get(f"/api/v1/cases?{query}")

    # Then the request is refused as too many fields, in the error shape
    refusal(response, 400, "too_many_fields")


# --- bodies that cannot be read ---------------------------------------------------------

@pytest.mark.parametrize("headers", READERS)
@pytest.mark.parametrize("content_type", [
    pytest.param("multipart/form-data; boundary=", id="empty boundary"),
    pytest.param("multipart/form-data", id="no boundary"),
    pytest.param("multipart/form-data; boundary=a\u00e9b", id="non-ASCII boundary"),
])
def test_a_multipart_body_with_a_bad_boundary_is_refused_as_malformed(
        writer, open_case, content_type, headers):
    before = everything()

    # When documents are sent in a multipart body whose boundary cannot be used
    response = writer.generic("POST", f"/api/v1/cases/{open_case.tracking_number}/documents",
                              multipart(("files", "receipt.txt", b"Paid twice.")),
                              content_type=content_type, **headers)

    # Then it is refused as malformed multipart, and no document is stored
    refusal(response, 400, "malformed_multipart")
    assert everything() == before
    assert stored_files() == []


@pytest.mark.parametrize("headers", READERS)
@pytest.mark.parametrize("name", [
    pytest.param("a" * 1000 + ".txt", id="1,000 ASCII characters"),
    pytest.param("退款凭证" * 100 + ".pdf", id="400 Chinese characters"),
])
def test_a_file_whose_name_is_too_long_to_read_is_refused_naming_the_files(
        writer, open_case, name, headers):
    # Given an upload whose file name makes its part's headers longer than Django reads
    body = multipart(("files", name, b"Paid twice."))
    before = everything()

    # When it is sent
    response = send_multipart(writer, f"/api/v1/cases/{open_case.tracking_number}/documents",
                              body, **headers)

    # Then it is refused, naming the files, and no document is stored
    error = refusal(response, 422, "file_name_too_long", "files")
    assert "file name" in error["message"]
    assert everything() == before
    assert stored_files() == []


def test_a_long_file_name_that_can_be_read_is_kept_shortened_by_the_file_checks(
        writer, open_case):
    # Given an upload whose file name is long (300 characters), but readable
    body = multipart(("files", "r" * 296 + ".txt", b"Paid twice."))

    # When it is sent
    response = send_multipart(writer, f"/api/v1/cases/{open_case.tracking_number}/documents",
                              body)

    # Then the document is kept, its name shortened by the upload checks
    assert response.status_code == 201, response.content
    (document,) = response.json()["documents"]
    assert document["name"].endswith(".txt") and len(document["name"]) <= 120


@pytest.mark.parametrize("body", [
    pytest.param(b'{"order": "TC-20260301-0001", "lines": ["1"]', id="cut short"),
    pytest.param(b"{order: 'TC-20260301-0001'}", id="not JSON"),
    pytest.param(b'{"order": "\xff\xfe\xfa"}', id="not UTF-8"),
])
def test_a_malformed_json_body_is_refused_in_the_error_shape(writer, body):
    before = everything()

    # When a case is asked for with a body that is not JSON
    response = writer.post("/api/v1/cases", body, content_type="application/json")

    # Then it is refused as malformed JSON, and nothing is opened
    refusal(response, 400, "malformed_json")
    assert everything() == before


def test_a_json_body_nested_deeper_than_can_be_read_is_a_bad_request(writer):
    # When a quote is asked for with JSON nested 100,000 deep (Ninja refuses it itself,
    # with an HttpError of its own)
    response = writer.post("/api/v1/quotes", "[" * 100_000, content_type="application/json")

    # Then the refusal is in the error shape
    refusal(response, 400, "bad_request")


# --- media types ------------------------------------------------------------------------

@pytest.mark.parametrize("content_type, body", [
    pytest.param("text/plain", None, id="JSON sent as text/plain"),
    pytest.param("application/xml", "<case><order>X</order></case>", id="XML"),
    pytest.param("application/x-www-form-urlencoded", "account=a&order=b&lines=1",
                 id="a form"),
    pytest.param("", None, id="no Content-Type"),
])
def test_a_json_operation_refuses_another_media_type_with_415(writer, content_type, body):
    # Given a valid request to open a case, sent as another media type
    order = fresh_order()
    if body is None:
        body = json.dumps({"account": order.account.external_id, "order": order.external_id,
                           "lines": ["1"]})
    before = everything()

    # When it is sent
    response = writer.generic("POST", "/api/v1/cases", body, content_type=content_type)

    # Then it is refused as an unsupported media type, naming the header, and nothing opened
    error = refusal(response, 415, "unsupported_media_type", "Content-Type")
    assert "application/json" in error["message"]
    assert everything() == before


@pytest.mark.parametrize("headers", READERS)
def test_a_json_operation_refuses_a_multipart_body_with_415(writer, headers):
    # Given a quote request sent as an upload form (with a key, the middleware has read it
    # as a form before the operation wants JSON)
    order = fresh_order()

    # When it is sent
    response = writer.post("/api/v1/quotes", {"order": order.external_id, "lines": "1"},
                           **headers)

    # Then it is refused as an unsupported media type
    refusal(response, 415, "unsupported_media_type", "Content-Type")


@pytest.mark.parametrize("content_type", [
    "application/json; charset=utf-8", "APPLICATION/JSON", "application/merge-patch+json"])
def test_json_is_accepted_under_any_spelling_of_a_json_media_type(writer, content_type):
    # When a quote is asked for as JSON, the media type spelled another way
    order = fresh_order()
    response = writer.generic("POST", "/api/v1/quotes",
                              json.dumps({"order": order.external_id, "lines": ["1"]}),
                              content_type=content_type)

    # Then it is answered
    assert response.status_code == 200, response.content


# --- addresses and methods ---------------------------------------------------------------

@pytest.mark.parametrize("debug", [False, True], ids=["production", "DEBUG"])
@pytest.mark.parametrize("method, path", [
    ("get", "/api/v1/nothing/here"),
    ("post", "/api/v1/nothing"),
    ("get", "/api/v1/"),
    ("get", "/api/v1/cases/K7QH-3M9T-XW4/nothing"),
])
def test_an_unknown_address_under_the_api_is_a_404_in_the_error_shape(
        writer, settings, debug, method, path):
    settings.DEBUG = debug

    # When an address under /api/v1/ that has no operation is called
    response = writer.generic(method.upper(), path, "{}", content_type="application/json")

    # Then the answer is 404 in the error shape (no HTML, no list of the URL patterns)
    refusal(response, 404, "not_found")


def test_an_unknown_address_outside_the_api_keeps_the_sites_page(writer):
    # When a page of the site that does not exist is asked for
    response = writer.get("/no-such-page")

    # Then the site's own 404 page answers, not the API's JSON
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("method, path, allowed", [
    ("DELETE", "/api/v1/quotes", "POST"),
    ("GET", "/api/v1/quotes", "POST"),
    ("PUT", "/api/v1/cases", "GET, POST"),
    ("PATCH", "/api/v1/cases/K7QH-3M9T-XW4", "GET"),
])
def test_a_method_the_address_does_not_take_is_a_405_naming_the_allowed_ones(
        writer, method, path, allowed):
    before = everything()

    # When an operation's address is called with another method
    response = writer.generic(method, path, "{}", content_type="application/json")

    # Then the answer is 405 in the error shape, with the methods it takes in Allow
    error = refusal(response, 405, "method_not_allowed")
    assert response["Allow"] == allowed
    assert method in error["message"] and allowed in error["message"]
    assert everything() == before


def test_a_request_refused_before_the_api_sees_it_is_answered_in_the_error_shape(
        writer, settings):
    # Given a site that serves one host name
    settings.ALLOWED_HOSTS = ["testserver"]

    # When a request comes for another host (Django refuses it before any view)
    response = writer.get("/api/v1/cases", HTTP_HOST="evil.example")

    # Then the refusal is in the error shape
    refusal(response, 400, "bad_request")


# --- server errors ----------------------------------------------------------------------

@pytest.mark.parametrize("debug", [False, True], ids=["production", "DEBUG"])
def test_a_server_error_is_a_500_in_the_error_shape_without_a_traceback(
        writer, settings, monkeypatch, debug):
    # Given an operation that fails on the server, with a secret in its exception
    settings.DEBUG = debug

    def failing(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(cases_api, "assess_groups", failing)
    client = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en",
                    HTTP_AUTHORIZATION=f"Bearer {writer.secret}")
    order = fresh_order()

    # When it is called
    response = post(client, "/api/v1/quotes", {"order": order.external_id, "lines": ["1"]})

    # Then the answer is 500 in the error shape, telling nothing of the failure
    refusal(response, 500, "internal_error")
    assert b"hunter2" not in response.content
    assert b"Traceback" not in response.content
    assert b"RuntimeError" not in response.content


# --- language, and the document ----------------------------------------------------------

def test_the_errors_drawn_outside_the_operations_speak_the_requests_language(writer):
    # When an unknown address is called by a client that asks for Chinese
    response = writer.get("/api/v1/nothing", HTTP_ACCEPT_LANGUAGE="zh-hans")

    # Then the message is the Chinese one (the code stays the same)
    error = refusal(response, 404, "not_found")
    with translation.override("zh-hans"):
        assert error["message"] == translation.gettext("There is nothing at this address.")
    assert response["Content-Language"] == "zh-hans"


def test_the_document_lists_413_on_every_post_and_415_where_json_is_taken():
    # Given the OpenAPI document as it is served
    document = json.loads(json.dumps(api.get_openapi_schema(), default=str))
    error_shape = {"$ref": "#/components/schemas/ErrorOut"}

    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            takes_json = "application/json" in operation.get("requestBody", {}).get(
                "content", {})
            # Then every POST may answer 413, and every operation taking JSON 415, both in
            # the error shape; a GET reads no body and answers neither
            assert ("413" in responses) == (method == "post"), (method, path)
            assert ("415" in responses) == takes_json, (method, path)
            for status in ("413", "415"):
                if status in responses:
                    schema = responses[status]["content"]["application/json"]["schema"]
                    assert schema == error_shape, (method, path, status)
