"""A merchant's console answers a request for information on the customer's behalf: the
answer, each document asked for under its kind, other material; the case goes back to
review. The case says what is asked and by when."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from refunddesk.cases import actions
from refunddesk.cases.models import CaseEvent, Document, RefundCase
from tests.api.conftest import case_for, error_of, example_order
from tests.staff import staff_member

pytestmark = pytest.mark.django_db


def text_file(name: str = "receipt.txt") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"Paid on 1 March.", content_type="text/plain")


@pytest.fixture
def acting(api_client):
    return api_client(["cases:read", "cases:write"])


@pytest.fixture
def asked():
    """A case whose agent asked a question and for a proof of payment."""
    case = case_for(example_order())
    agent = staff_member("api-asking-agent", "agent")
    return actions.request_info(case, actor=agent, questions="Which card did you pay with?",
                                documents=["payment_proof"],
                                due=timezone.now() + timedelta(days=5))


def answer_url(case: RefundCase) -> str:
    return f"/api/v1/cases/{case.tracking_number}/answer"


def test_the_case_says_which_documents_are_asked_for_and_by_when(acting, asked):
    response = acting.get(f"/api/v1/cases/{asked.tracking_number}")

    body = response.json()
    assert body["state"] == "awaiting_customer"
    assert body["requested_documents"] == ["payment_proof"]
    assert body["info_due"] is not None


def test_the_answer_with_the_document_asked_for_sends_the_case_back_to_review(acting, asked):
    response = acting.post(answer_url(asked), {
        "message": "The Visa ending 4242.", "payment_proof": [text_file()],
        "files": [text_file("note.txt")]})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["state"], body["requested_documents"], body["info_due"]) == (
        "in_review", [], None)
    kinds = dict(Document.objects.filter(case=asked).values_list("name", "kind"))
    assert kinds == {"receipt.txt": "payment_proof", "note.txt": ""}
    assert asked.messages.filter(author_kind="customer").get().body == "The Visa ending 4242."
    event = CaseEvent.objects.get(case=asked, action="supplemented")
    assert (event.actor_kind, event.data["via"]) == ("customer", f"api:{acting.key.prefix}")


def test_a_document_nobody_asked_for_is_refused_and_nothing_changes(acting, asked):
    response = acting.post(answer_url(asked), {"usage_records": [text_file()]})

    assert response.status_code in (409, 422), response.content
    assert "not asked for" in error_of(response)["message"]
    assert RefundCase.objects.get(pk=asked.pk).state == "awaiting_customer"
    assert not Document.objects.filter(case=asked).exists()


def test_files_under_a_field_that_is_no_kind_of_document_are_refused_by_name(acting, asked):
    response = acting.post(answer_url(asked), {"passport": [text_file()]})

    assert response.status_code == 422, response.content
    assert error_of(response)["field"] == "passport"
    assert RefundCase.objects.get(pk=asked.pk).state == "awaiting_customer"


def test_a_refused_file_names_its_slot_and_keeps_nothing(acting, asked):
    page = SimpleUploadedFile("page.html", b"<html></html>", content_type="text/html")

    response = acting.post(answer_url(asked), {"message": "Here.", "payment_proof": [page]})

    assert response.status_code == 422, response.content
    assert error_of(response)["field"] == "payment_proof"
    assert RefundCase.objects.get(pk=asked.pk).state == "awaiting_customer"
    assert not asked.messages.filter(author_kind="customer").exists()


def test_an_empty_answer_is_refused(acting, asked):
    response = acting.post(answer_url(asked), {})

    assert response.status_code in (409, 422), response.content
    assert RefundCase.objects.get(pk=asked.pk).state == "awaiting_customer"


def test_a_case_nobody_asked_anything_cannot_be_answered(acting):
    case = case_for(example_order())

    response = acting.post(answer_url(case), {"message": "Hello"})

    assert response.status_code == 409, response.content
    assert RefundCase.objects.get(pk=case.pk).state == case.state
