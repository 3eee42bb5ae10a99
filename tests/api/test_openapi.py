"""The API's OpenAPI document, and the API held to it: schemathesis generates requests
from the document and checks that nothing fails on the server and every answer is one the
document promises."""

from __future__ import annotations

import json

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck
from ninja.responses import NinjaJSONEncoder
from schemathesis.config import SchemathesisConfig

from refunddesk.api.api import api
from refunddesk.api.keys import digest, make_key
from refunddesk.api.models import ApiKey
from refunddesk.cases.actors import COMMAND_LINE
from refunddesk.cases.models import RefundCase
from refunddesk.cases.tracking import check_symbol, format_grouped
from tests.api.conftest import (
    ALL_SCOPES,
    EXAMPLE_ACCOUNT,
    case_for,
    example_order,
    fresh_order,
)
from tests.payouts.builders import approved_case
from tests.portal.builders import mixed_order
from tests.staff import staff_member

# Per operation; with four operations the module stays well under a minute.
EXAMPLES_PER_OPERATION = 40


# --- the document ------------------------------------------------------------------------

def test_the_openapi_document_is_served_with_the_apis_title(stranger):
    # When anyone asks for the document (no key needed)
    response = stranger.get("/api/v1/openapi.json")

    # Then it is served, titled and versioned
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.")
    assert (document["info"]["title"], document["info"]["version"]) == ("RefundDesk API", "1")
    assert set(document["paths"]) == {
        "/api/v1/cases", "/api/v1/cases/{number}", "/api/v1/quotes", "/api/v1/orders",
        "/api/v1/orders/batch", "/api/v1/cases/{number}/messages",
        "/api/v1/cases/{number}/documents", "/api/v1/cases/{number}/withdraw",
        "/api/v1/cases/{number}/appeal", "/api/v1/cases/{number}/approve",
        "/api/v1/cases/{number}/reject", "/api/v1/cases/{number}/request-info",
        "/api/v1/cases/{number}/answer",
        "/api/v1/accounts/{account}", "/api/v1/accounts/{account}/orders",
        "/api/v1/orders/{order}", "/api/v1/subscriptions/{subscription}/cancel-auto-renewal",
        "/api/v1/compensations", "/api/v1/compensations/{run_id}"}


def test_every_operation_documents_its_refusals_in_the_error_shape(stranger):
    # Given the document
    document = stranger.get("/api/v1/openapi.json").json()
    operations = [(f"{method.upper()} {path}", operation)
                  for path, item in document["paths"].items()
                  for method, operation in item.items()]
    assert len(operations) == 20

    # Then every operation says it needs the bearer key and may answer 401, 403 and 422
    # with the error shape
    for name, operation in operations:
        assert operation["security"] == [{"ApiKeyAuth": []}], name
        for status in ("401", "403", "422"):
            schema = operation["responses"][status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/ErrorOut"}, (name, status)
    assert document["components"]["securitySchemes"]["ApiKeyAuth"]["scheme"] == "bearer"
    error = document["components"]["schemas"]["ErrorBody"]
    assert set(error["properties"]) == {"code", "message", "field"}


def test_the_document_describes_every_case_opened_and_a_quote_per_policy(stranger):
    # Given the document
    document = stranger.get("/api/v1/openapi.json").json()
    schemas = document["components"]["schemas"]

    # Then opening cases answers the first case with every case opened beside it
    created = document["paths"]["/api/v1/cases"]["post"]["responses"]["201"]
    assert created["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/OpenedCasesOut"}
    opened = schemas["OpenedCasesOut"]
    assert set(schemas["CaseOut"]["properties"]) < set(opened["properties"])
    assert opened["properties"]["cases"]["items"] == {"$ref": "#/components/schemas/CaseOut"}
    assert "cases" in opened["required"]
    # And a quote has one group per policy, its single assessment null when there are more
    quote = schemas["QuoteOut"]["properties"]
    assert quote["groups"]["items"] == {"$ref": "#/components/schemas/QuoteGroupOut"}
    assert {"type": "null"} in quote["assessment"]["anyOf"]
    assert set(schemas["QuoteGroupOut"]["properties"]) == {"policy", "lines", "assessment"}


def test_the_interactive_documentation_is_served(stranger):
    # When someone opens /api/v1/docs
    response = stranger.get("/api/v1/docs")

    # Then a page is served that loads the document
    assert response.status_code == 200
    assert b"openapi.json" in response.content


# --- the API held to the document --------------------------------------------------------

# The fuzzing's key: its secret is fixed, so that schemathesis knows the Authorization header
# as configuration (it then never counts a request as invalid for a header it did not
# choose); the key row is made with it in each test's database.
FUZZ_SECRET = "rdk_schemathesis-fuzzing-key-not-a-real-secret-0000"


@pytest.fixture
def all_scopes_key(db) -> ApiKey:
    # Deciding as a reviewer, so generated decisions reach the actions, not only refusals.
    reviewer = staff_member("fuzzing-reviewer", "reviewer")
    key, _secret = make_key(name="schemathesis", scopes=list(ALL_SCOPES), actor=COMMAND_LINE,
                            acting_as=reviewer)
    ApiKey.objects.filter(pk=key.pk).update(key_hash=digest(FUZZ_SECRET))
    return key


def tracking_number(body: str) -> str:
    return format_grouped(body + check_symbol(body))


# The real rows the fuzzing meets, under numbers and ids fixed here so that the document's
# examples (added below) can name them.
APPROVED = tracking_number("APPRVDCASE")
IN_REVIEW = tracking_number("NREVEWCASE")
UNTOUCHED_ORDER = "VPN-FUZZ-1"  # acct-1001's, two lines, nothing asked yet
MIXED_ORDER = "MIX-FUZZ-1"  # acct-1001's, a server and a VPN: lines under two policies


@pytest.fixture
def real_data(db) -> None:
    """A case approved and being paid back, one in review, and an order with nothing asked
    yet, so generated reads, quotes and new cases meet real rows."""
    for number, case in ((APPROVED, approved_case()), (IN_REVIEW, case_for(example_order()))):
        RefundCase.objects.filter(pk=case.pk).update(tracking_number=number)
    fresh_order(EXAMPLE_ACCOUNT, "li.lei@example.com", order_id=UNTOUCHED_ORDER, lines=2)
    mixed_order(MIXED_ORDER, EXAMPLE_ACCOUNT, "li.lei@example.com")


def with_examples(document: dict) -> dict:
    """The document with examples naming the real rows, which schemathesis sends (and
    varies) besides what it makes up."""
    paths = document["paths"]
    examples = {
        "number": {"approved": {"value": APPROVED}, "in review": {"value": IN_REVIEW},
                   "typed by hand": {"value": IN_REVIEW.lower().replace("-", "")}},
        "account": {"the example account": {"value": EXAMPLE_ACCOUNT}},
        "order": {"an order": {"value": UNTOUCHED_ORDER}},
        "state": {"approved": {"value": "approved"}},
    }
    for item in paths.values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if parameter["name"] in examples:
                    parameter["examples"] = examples[parameter["name"]]
    bodies = {
        "/api/v1/quotes": {"order": UNTOUCHED_ORDER, "lines": ["1", "2"]},
        "/api/v1/cases": {"account": EXAMPLE_ACCOUNT, "order": UNTOUCHED_ORDER,
                          "lines": ["1"], "reason": "Bought twice.", "language": "en"},
    }
    # Lines under two refund policies: a group per policy, a case per group.
    mixed = {
        "/api/v1/quotes": {"order": MIXED_ORDER, "lines": ["1", "2"]},
        "/api/v1/cases": {"account": EXAMPLE_ACCOUNT, "order": MIXED_ORDER,
                          "lines": ["1", "2"], "language": "zh-hans"},
    }
    for path, body in bodies.items():
        media = paths[path]["post"]["requestBody"]["content"]["application/json"]
        media["examples"] = {"real order": {"value": body},
                             "lines under two policies": {"value": mixed[path]}}
    return document


def served_document() -> dict:
    """The document /api/v1/openapi.json serves, as JSON."""
    return json.loads(json.dumps(api.get_openapi_schema(), cls=NinjaJSONEncoder))


def test_the_document_the_fuzzing_reads_is_the_one_served(stranger):
    # Given the document as the API builds it, which the fuzzing below reads
    # When the served one is fetched
    # Then they are the same
    assert stranger.get("/api/v1/openapi.json").json() == served_document()


# Loaded when the module is collected, not from a fixture: schemathesis' lazy loader
# (schemathesis.pytest.from_fixture) writes Node._nodeid, which pytest 9.2 no longer has.
FUZZING = SchemathesisConfig.from_dict({
    "seed": 20260301,
    # No Accept-Language: the fuzzing takes the site's default language (Chinese).
    "headers": {"Authorization": f"Bearer {FUZZ_SECRET}"},
    "checks": {
        # A request the document allows may still be refused for what it means, not its
        # form (a cursor the API never gave, a line the order does not have): that is the
        # documented 422, not a rejection of valid data.
        "positive_data_acceptance": {"expected-statuses": ["2xx", 401, 403, 404, 409, 422]},
        # The key is a configured header, so a request whose generated credentials it
        # overrides still succeeds, and this check calls that "ignored authentication".
        # test_auth.py checks every operation without a key, with wrong, malformed and
        # revoked keys, and without the scope.
        "ignored_auth": {"enabled": False},
    },
})
schema = schemathesis.openapi.from_dict(with_examples(served_document()), config=FUZZING)
schema.app = get_wsgi_application()


@pytest.fixture
def in_test_transaction():
    """Requests reach the WSGI application in-process, on the test's own connection and
    inside its transaction. Like Django's test client, stop the end of each request from
    closing that connection (harmless on SQLite's in-memory database, fatal on PostgreSQL's
    test transaction)."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@hypothesis.settings(
    max_examples=EXAMPLES_PER_OPERATION, derandomize=True, database=None, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.filter_too_much])
def test_no_request_made_from_the_document_makes_the_api_fail_or_break_its_word(
        case, all_scopes_key, real_data, in_test_transaction):
    # Given a request schemathesis made from the document (valid or deliberately not, with
    # and without the real rows' ids), sent with a key of every scope
    # When it is sent to the application
    # Then no answer is a server error, and every status, header and body is documented
    case.call_and_validate()
