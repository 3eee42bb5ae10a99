"""What a customer does to their case, done by the merchant's console on their behalf:
write a message, add documents, answer a request for information, withdraw, appeal. Each is
the same action the portal calls (cases/actions), acting as the account's portal login when
it has one, and recording the API key it came through in the case's audit events."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile as DjangoUpload
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Router, Schema, Status, UploadedFile

from refunddesk.api.auth import require
from refunddesk.api.cases import case_by_number, cases
from refunddesk.api.errors import ERRORS, ApiError
from refunddesk.api.idempotent import IDEMPOTENT
from refunddesk.api.schemas import CaseOut, Text, case_out
from refunddesk.cases import actions, actors
from refunddesk.cases.document_kinds import DocumentKind
from refunddesk.cases.models import RefundCase
from refunddesk.cases.uploads import FileRefused, UploadRefused

router = Router(tags=["cases"])

MAX_FILES = 10


def through(request: Any) -> str:
    """How the audit names this API key (its visible prefix, never the secret)."""
    return f"api:{request.auth.prefix}"


def customer_of(case: RefundCase) -> Any:
    return actors.customer_of(case.account)


def _uploads(files: Sequence[DjangoUpload[bytes]] | None) -> list[DjangoUpload[bytes]]:
    files = list(files or [])
    if not files:
        raise ApiError(422, "invalid", _("Attach at least one file."), "files")
    if len(files) > MAX_FILES:
        raise ApiError(422, "invalid", _("At most %(count)s files at a time.")
                       % {"count": MAX_FILES}, "files")
    return files


def _refused(error: UploadRefused) -> ApiError:
    return ApiError(422, error.code, error.message, "files")


class MessageIn(Schema):
    body: Text = Field(min_length=1, max_length=10000, pattern=r"\S",
                       description="The customer's message, as they wrote it.")


class MessageOut(Schema):
    id: int
    author: str = Field(description="customer | staff | system")
    body: str
    created_at: datetime


@router.post("/cases/{number}/messages", response={201: MessageOut, **ERRORS},
             openapi_extra=IDEMPOTENT, summary="Add the customer's message to a case")
def add_message(request: HttpRequest, number: str, payload: MessageIn) -> Any:
    require(request, "cases:write")
    case = case_by_number(number)
    message = actions.post_message(case, actor=customer_of(case), body=payload.body,
                                   via=through(request))
    return Status(201, {"id": message.pk, "author": message.author_kind,
                        "body": message.body, "created_at": message.created_at})


class DocumentOut(Schema):
    id: int
    name: str
    content_type: str
    size: int = Field(description="Bytes.")
    sha256: str
    uploaded_at: datetime


class DocumentsOut(Schema):
    documents: list[DocumentOut]


@router.post("/cases/{number}/documents", response={201: DocumentsOut, **ERRORS},
             openapi_extra=IDEMPOTENT, summary="Add documents to an open case")
def add_documents(request: HttpRequest, number: str,
                  files: File[list[UploadedFile]]) -> Any:
    """`multipart/form-data` with one or more `files` (PDF, PNG, JPEG or plain text, each up
    to the configured size). All are checked before any is kept."""
    require(request, "cases:write")
    case = case_by_number(number)
    try:
        documents = actions.add_documents(case, actor=customer_of(case),
                                          uploads=_uploads(files), via=through(request))
    except UploadRefused as error:
        raise _refused(error) from None
    return Status(201, {"documents": [{
        "id": document.pk, "name": document.name, "content_type": document.content_type,
        "size": document.size, "sha256": document.sha256,
        "uploaded_at": document.uploaded_at} for document in documents]})


class AnswerIn(Schema):
    message: Text = Field("", max_length=10000,
                          description="The customer's answer to the question asked.")


@router.post("/cases/{number}/answer", response={200: CaseOut, **ERRORS},
             openapi_extra=IDEMPOTENT,
             summary="Answer a request for information: the answer and the documents asked for")
# Ninja takes a None default as "optional"; its File[T] type (Annotated[T, ...] for mypy)
# cannot say so, and File[T | None] would publish `files` as nullable in the OpenAPI document.
def answer(request: HttpRequest, number: str, payload: Form[AnswerIn],
           files: File[list[UploadedFile]] = None) -> Any:  # type: ignore[assignment]
    """`multipart/form-data` while the case is `awaiting_customer`: `message`, each document
    asked for under its kind as the field name (`payment_proof`, ... as listed in the
    case's `requested_documents`), and any other material in `files`. The case goes back
    to review; a refused file or a kind nobody asked for changes nothing."""
    require(request, "cases:write")
    case = case_by_number(number)
    unknown = sorted(set(request.FILES) - {"files", *DocumentKind.values})
    if unknown:
        raise ApiError(422, "invalid", _("Files go under “files” or under the kind of "
                                         "document asked for, not under “%(field)s”.")
                       % {"field": unknown[0]}, unknown[0])
    by_kind = {kind: request.FILES.getlist(kind) for kind in DocumentKind.values
               if request.FILES.getlist(kind)}
    other = list(files or [])
    if len(other) + sum(len(kind_files) for kind_files in by_kind.values()) > MAX_FILES:
        raise ApiError(422, "invalid", _("At most %(count)s files at a time.")
                       % {"count": MAX_FILES}, "files")
    try:
        actions.supplement(case, actor=customer_of(case), message=payload.message,
                           uploads=other, documents=by_kind, via=through(request))
    except FileRefused as error:
        raise ApiError(422, error.code, error.message, error.slot or "files") from None
    except UploadRefused as error:
        raise _refused(error) from None
    return case_out(cases().get(pk=case.pk))


@router.post("/cases/{number}/withdraw", response={200: CaseOut, **ERRORS},
             openapi_extra=IDEMPOTENT, summary="Withdraw a case the customer no longer wants")
def withdraw(request: HttpRequest, number: str) -> Any:
    """Possible until the case is decided; its lines may then be asked for again."""
    require(request, "cases:write")
    case = case_by_number(number)
    actions.withdraw(case, actor=customer_of(case), via=through(request))
    return case_out(cases().get(pk=case.pk))


class AppealIn(Schema):
    text: Text = Field(min_length=1, max_length=4000, pattern=r"\S",
                       description="Why the decision should change.")


@router.post("/cases/{number}/appeal", response={200: CaseOut, **ERRORS},
             openapi_extra=IDEMPOTENT,
             summary="Appeal a rejection, with new evidence, within the policy's window")
def appeal(request: HttpRequest, number: str, payload: Form[AppealIn],
           files: File[list[UploadedFile]]) -> Any:
    """`multipart/form-data` with `text` and at least one new document in `files`. Another
    reviewer decides again; the customer is told by e-mail."""
    require(request, "cases:write")
    case = case_by_number(number)
    try:
        actions.appeal(case, actor=customer_of(case), text=payload.text, uploads=_uploads(files),
                       via=through(request))
    except UploadRefused as error:
        raise _refused(error) from None
    return case_out(cases().get(pk=case.pk))
