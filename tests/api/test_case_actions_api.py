"""What a merchant's console does for its customer on a case through the API: write a
message, add documents, withdraw, appeal — the portal's own actions, audited as the
customer's, through the key."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from refunddesk.cases import actions
from refunddesk.cases.actors import customer_of
from refunddesk.cases.models import CaseEvent, Document, Message, RefundCase
from tests.api.conftest import case_for, error_of, example_order, fresh_order, post
from tests.staff import rejection_reason, staff_member


def receipt(name: str = "receipt.txt", content: bytes = b"Paid twice on 1 March."
            ) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="text/plain")


@pytest.fixture
def acting(api_client):
    """A console that acts for customers."""
    return api_client(["cases:read", "cases:write"])


def rejected_case() -> RefundCase:
    case = case_for(example_order())
    reviewer = staff_member("api-rejecting-reviewer", "reviewer")
    return actions.reject(case, actor=reviewer, reason=rejection_reason(),
                          message="Outside the five days.")


# --- messages ----------------------------------------------------------------------------

def test_a_message_is_added_to_the_case_as_the_customers(db, acting):
    # Given a case in review
    case = case_for(example_order())

    # When the console sends the customer's message
    response = post(acting, f"/api/v1/cases/{case.tracking_number}/messages",
                    {"body": "  I was charged twice.  "})

    # Then it is on the case's thread as the customer's, trimmed, and audited with the key
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["author"], body["body"]) == ("customer", "I was charged twice.")
    message = Message.objects.get(pk=body["id"])
    assert (message.case_id, message.is_internal) == (case.pk, False)
    event = CaseEvent.objects.get(case=case, action="message_posted")
    assert event.actor_kind == "customer"
    assert event.data["via"] == f"api:{acting.key.prefix}"


def test_a_message_of_a_customer_with_a_portal_login_is_theirs(db, acting):
    # Given a case of an account whose customer has signed in to the portal
    from tests.portal.builders import customer_for

    order = fresh_order()
    user = customer_for(order.account)
    case = case_for(order)

    # When the console sends a message for them
    response = post(acting, f"/api/v1/cases/{case.tracking_number}/messages", {"body": "Hi"})

    # Then the message is theirs
    assert response.status_code == 201, response.content
    assert Message.objects.get(pk=response.json()["id"]).author == user


@pytest.mark.parametrize("body", [{"body": ""}, {"body": "   "}, {}, {"body": "x" * 10001}])
def test_an_empty_or_oversized_message_is_refused_and_nothing_is_written(db, acting, body):
    case = case_for(example_order())

    response = post(acting, f"/api/v1/cases/{case.tracking_number}/messages", body)

    assert response.status_code == 422, response.content
    assert error_of(response)["field"] == "body"
    assert not Message.objects.filter(case=case).exists()


def test_a_message_to_a_case_that_does_not_exist_is_a_404_naming_the_number(db, acting):
    response = post(acting, "/api/v1/cases/K7QH-3M9T-XW4/messages", {"body": "Hello?"})

    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


# --- documents ---------------------------------------------------------------------------

def test_documents_are_added_to_an_open_case(db, acting):
    # Given a case in review
    case = case_for(example_order())

    # When the console uploads two files
    response = acting.post(f"/api/v1/cases/{case.tracking_number}/documents",
                           {"files": [receipt(), receipt("bank.txt", b"Statement")]})

    # Then both are kept with their checks, and the upload is audited as the customer's
    assert response.status_code == 201, response.content
    documents = response.json()["documents"]
    assert [(d["name"], d["content_type"], d["size"]) for d in documents] == [
        ("receipt.txt", "text/plain", 22), ("bank.txt", "text/plain", 9)]
    assert Document.objects.filter(case=case).count() == 2
    event = CaseEvent.objects.get(case=case, action="documents_added")
    assert (event.actor_kind, event.data["via"]) == ("customer", f"api:{acting.key.prefix}")


def test_a_file_of_a_type_not_accepted_is_refused_and_no_file_is_kept(db, acting):
    # Given a case, and an HTML page among the files
    case = case_for(example_order())
    page = SimpleUploadedFile("page.html", b"<html><script>x</script></html>",
                              content_type="text/html")

    # When both are uploaded
    response = acting.post(f"/api/v1/cases/{case.tracking_number}/documents",
                           {"files": [receipt(), page]})

    # Then the request is refused, naming the files, and neither is kept
    assert response.status_code == 422, response.content
    error = error_of(response)
    assert (error["code"], error["field"]) == ("type_not_allowed", "files")
    assert not Document.objects.filter(case=case).exists()


def test_an_upload_without_files_is_refused(db, acting):
    case = case_for(example_order())

    response = acting.post(f"/api/v1/cases/{case.tracking_number}/documents", {})

    assert response.status_code == 422, response.content
    assert error_of(response)["field"] == "files"


def test_a_finished_case_takes_no_more_documents(db, acting):
    # Given a withdrawn case
    case = case_for(example_order())
    actions.withdraw(case, actor=customer_of(case.account))

    # When a document is sent for it
    response = acting.post(f"/api/v1/cases/{case.tracking_number}/documents",
                           {"files": [receipt()]})

    # Then it is refused as a conflict with the case's state
    assert response.status_code == 409, response.content
    assert "finished" in error_of(response)["message"]


# --- withdrawing -------------------------------------------------------------------------

def test_a_case_in_review_is_withdrawn_and_its_lines_may_be_asked_for_again(db, acting):
    # Given a case in review
    order = example_order()
    case = case_for(order)

    # When the console withdraws it
    response = post(acting, f"/api/v1/cases/{case.tracking_number}/withdraw", None)

    # Then it is withdrawn, audited through the key, and the line is free again
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "withdrawn"
    event = CaseEvent.objects.get(case=case, action="withdrawn")
    assert event.data == {"via": f"api:{acting.key.prefix}"}
    again = post(acting, "/api/v1/cases", {"account": order.account.external_id,
                                           "order": order.external_id, "lines": ["1"]})
    assert again.status_code == 201, again.content


def test_a_decided_case_cannot_be_withdrawn(db, acting):
    # Given a case approved at once (inside the money-back guarantee)
    order = fresh_order()
    case = case_for(order)
    assert case.state == "approved"

    # When the console tries to withdraw it
    response = post(acting, f"/api/v1/cases/{case.tracking_number}/withdraw", None)

    # Then it is refused as a conflict, and the case stays approved
    assert response.status_code == 409, response.content
    assert error_of(response)["code"] == "invalid_transition"
    assert RefundCase.objects.get(pk=case.pk).state == "approved"


# --- appealing ---------------------------------------------------------------------------

def test_a_rejected_case_is_appealed_with_new_evidence(db, acting):
    # Given a rejected case
    case = rejected_case()

    # When the console appeals it with a reason and a document
    response = acting.post(f"/api/v1/cases/{case.tracking_number}/appeal",
                           {"text": "The server never started.", "files": [receipt()]})

    # Then the case is appealed, the evidence kept, the appeal audited through the key
    assert response.status_code == 200, response.content
    assert response.json()["state"] == "appealed"
    case.refresh_from_db()
    assert case.appeal_text == "The server never started."
    assert Document.objects.filter(case=case).count() == 1
    event = CaseEvent.objects.get(case=case, action="appealed")
    assert event.data["via"] == f"api:{acting.key.prefix}"


def test_an_appeal_without_a_document_is_refused(db, acting):
    case = rejected_case()

    response = acting.post(f"/api/v1/cases/{case.tracking_number}/appeal",
                           {"text": "Please look again."})

    assert response.status_code == 422, response.content
    assert error_of(response)["field"] == "files"
    assert RefundCase.objects.get(pk=case.pk).state == "rejected"


def test_an_appeal_without_a_reason_is_refused(db, acting):
    case = rejected_case()

    response = acting.post(f"/api/v1/cases/{case.tracking_number}/appeal",
                           {"text": "  ", "files": [receipt()]})

    assert response.status_code == 422, response.content
    assert error_of(response)["field"] == "text"
    assert not Document.objects.filter(case=case).exists()


def test_a_case_that_was_not_rejected_cannot_be_appealed(db, acting):
    case = case_for(example_order())

    response = acting.post(f"/api/v1/cases/{case.tracking_number}/appeal",
                           {"text": "Why so slow?", "files": [receipt()]})

    assert response.status_code == 409, response.content
    assert RefundCase.objects.get(pk=case.pk).state == "in_review"
    assert not Document.objects.filter(case=case).exists()


def test_an_appeal_retried_with_its_idempotency_key_is_answered_again_not_made_twice(
        db, acting):
    # Given a rejected case and an appeal sent with an Idempotency-Key
    case = rejected_case()
    path = f"/api/v1/cases/{case.tracking_number}/appeal"
    first = acting.post(path, {"text": "Look again.", "files": [receipt()]},
                        HTTP_IDEMPOTENCY_KEY="appeal-1")

    # When the same request is retried (a new multipart boundary, the same content)
    again = acting.post(path, {"text": "Look again.", "files": [receipt()]},
                        HTTP_IDEMPOTENCY_KEY="appeal-1")
    # And when the key is reused with another file
    other = acting.post(path, {"text": "Look again.", "files": [receipt(content=b"Other")]},
                        HTTP_IDEMPOTENCY_KEY="appeal-1")

    # Then the retry gets the first answer, one appeal and one document exist, and the
    # reuse with different content is refused
    assert first.status_code == 200, first.content
    assert (again.status_code, again["Idempotent-Replayed"]) == (200, "true")
    assert again.json() == first.json()
    assert Document.objects.filter(case=case).count() == 1
    assert CaseEvent.objects.filter(case=case, action="appealed").count() == 1
    assert other.status_code == 422
    assert error_of(other)["code"] == "idempotency_key_reused"
