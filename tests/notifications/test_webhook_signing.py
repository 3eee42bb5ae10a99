"""Webhook signatures: an HMAC-SHA256 of "<t>.<body>" under the endpoint's secret, which the
receiver checks with the few lines of Python in docs/webhooks.md — run here against a
delivery a real HTTP server received."""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from pathlib import Path

import pytest

from refunddesk.notifications.webhook_events import emit
from refunddesk.notifications.webhook_sending import attempt_delivery
from refunddesk.notifications.webhook_signing import (
    new_secret,
    signature,
    signature_header,
    verify,
)
from tests.notifications.webhook_receiver import subscribe

DOCS = Path(__file__).resolve().parents[2] / "docs" / "webhooks.md"
SECRET = "whsec_test-secret"
BODY = b'{"id":"evt_1","type":"case.submitted","data":{}}'


API_GUIDE = DOCS.with_name("api.md")


def documented_code(path: Path = DOCS) -> str:
    """The Python block of the section "Verifying a signature" of a guide."""
    text = path.read_text(encoding="utf-8")
    section = text.split("## Verifying a signature", 1)[1]
    [code] = re.findall(r"```python\n(.*?)```", section.split("\n## ", 1)[0], re.S)
    return code


def documented_verifier():
    """verify_signature as docs/webhooks.md shows it, run as it is."""
    namespace: dict = {}
    exec(compile(documented_code(), str(DOCS), "exec"), namespace)
    return namespace["verify_signature"]


def test_the_api_guide_shows_the_same_verification_code_as_the_webhooks_guide():
    assert documented_code(API_GUIDE) == documented_code(DOCS)


def test_the_signature_is_the_hmac_sha256_of_the_timestamp_a_dot_and_the_body():
    expected = hmac.new(SECRET.encode(), b"1767225600." + BODY, hashlib.sha256).hexdigest()

    assert signature(SECRET, BODY, 1767225600) == expected
    assert signature_header(SECRET, BODY, 1767225600) == f"t=1767225600,v1={expected}"


def test_a_new_secret_is_random_and_says_what_it_is():
    first, second = new_secret(), new_secret()

    assert first.startswith("whsec_") and second.startswith("whsec_")
    assert first != second and len(first) > 40


@pytest.mark.parametrize("verifier", ["ours", "documented"])
def test_a_signature_is_accepted_within_five_minutes_and_refused_after(verifier):
    check = verify if verifier == "ours" else documented_verifier()
    header = signature_header(SECRET, BODY, 1767225600)

    assert check(SECRET, BODY, header, now=1767225600 + 299)
    assert check(SECRET, BODY, header, now=1767225600 - 299)  # a receiver's clock behind
    assert not check(SECRET, BODY, header, now=1767225600 + 301)


@pytest.mark.parametrize("verifier", ["ours", "documented"])
def test_a_tampered_body_another_secret_or_a_malformed_header_is_refused(verifier):
    check = verify if verifier == "ours" else documented_verifier()
    now = 1767225600
    header = signature_header(SECRET, BODY, now)

    assert not check(SECRET, BODY.replace(b"evt_1", b"evt_2"), header, now=now)
    assert not check("whsec_another", BODY, header, now=now)
    # the timestamp is signed too: moving it forward breaks the signature
    assert not check(SECRET, BODY, header.replace(f"t={now}", f"t={now + 60}"), now=now)
    for malformed in ("", "v1=abc", f"t={now}", "t=soon,v1=abc", "garbage"):
        assert not check(SECRET, BODY, malformed, now=now)


@pytest.mark.django_db
def test_the_documented_snippet_verifies_a_delivery_a_real_server_received(receiver):
    # given an endpoint on a real local server, and an event for it
    endpoint = subscribe(receiver.url, ["case.submitted"])
    [delivery] = emit("case.submitted", {"case": {"tracking_number": "ABCD-EFGH-JKL"}})

    # when the delivery is sent
    attempt_delivery(delivery.pk)

    # then the documented code accepts what arrived, and refuses it tampered or late
    [received] = receiver.requests
    verify_signature = documented_verifier()
    header = received.headers["RefundDesk-Signature"]
    assert verify_signature(endpoint.secret, received.body, header)
    assert not verify_signature(endpoint.secret, received.body + b" ", header)
    assert not verify_signature(endpoint.secret, received.body, header,
                                now=time.time() + 600)
    assert not verify_signature(new_secret(), received.body, header)
