"""One error shape for every failure of the API:
`{"error": {"code": "…", "message": "…", "field": "…"}}` with the right 4xx (or 500) status.

`code` is for programs and never changes; `message` is for people, in the language the
request asked for (Accept-Language); `field` names the input at fault, when one is.

These places give errors, and all of them give this shape:

- the operations, through the exception handlers `install` registers on the Ninja API
  (refusals of the actions, validation, and a body Django cannot read, which Django reports
  only when the body is first read: too large, too many fields or files, bad multipart);
- the Idempotency-Key middleware, which reads a POST's body before the operation does, and
  refuses an unreadable one there (`unreadable_response`);
- `JsonBodyParser`, for a JSON operation sent another media type (415) or broken JSON (400);
- `ErrorShapeMiddleware`, for what Django or Ninja answer outside an operation — an unknown
  address (404), a method the address does not take (405), a crash (500), a request refused
  before the API saw it — which would otherwise be an HTML page.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    BadRequest,
    RequestDataTooBig,
    SuspiciousMultipartForm,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, RawPostDataException
from django.http.multipartparser import MultiPartParserError
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from refunddesk.api.rendering import json_answer
from refunddesk.cases.errors import CaseError
from refunddesk.cases.states import InvalidTransition

API_PREFIX = "/api/v1/"
# The one field of the API that carries files (documents and appeal).
FILES_FIELD = "files"
# What Django's multipart parser says when a part's headers pass 1,024 bytes: in practice a
# file name of some hundreds of characters (the name is in the part's Content-Disposition).
PART_HEADERS_TOO_LONG = "Request max total header size exceeded."


class ErrorBody(Schema):
    code: str
    message: str
    field: str | None = None


class ErrorOut(Schema):
    error: ErrorBody


# Every operation may answer with these; each lists them so the OpenAPI document is true.
# A POST may also answer 413 (its body is too large) and one taking JSON 415 (its body is not
# JSON): `document_body_errors` adds those to the document where they apply.
ERRORS: dict[int, Any] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
                          409: ErrorOut, 422: ErrorOut}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: Any, field: str | None = None):
        self.status, self.code, self.message, self.field = status, code, message, field
        super().__init__(f"{code}: {message}")


def error_response(api: NinjaAPI, request: HttpRequest, status: int, code: str,
                   message: Any, field: str | None = None) -> HttpResponse:
    return api.create_response(
        request, {"error": {"code": code, "message": str(message), "field": field}},
        status=status)


def json_error(status: int, code: str, message: Any, field: str | None = None
               ) -> HttpResponse:
    """The error shape outside Ninja (the middlewares), byte for byte as Ninja renders it."""
    body = {"error": {"code": code, "message": str(message), "field": field}}
    return json_answer(body, status=status)


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def is_json(content_type: str) -> bool:
    """application/json, or a JSON-based type (application/problem+json …)."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json"))


# --- errors by status alone --------------------------------------------------------------

def _method_not_allowed(request: HttpRequest, allowed: str) -> str:
    return _("%(method)s is not allowed at this address; it takes %(allowed)s.") % {
        "method": request.method, "allowed": allowed}


def status_error(status: int) -> ApiError:
    """The error to give when all that is known is the status (a page Django drew, an
    HttpError Ninja raised): a stable code for each status, and words for people."""
    if status == 400:
        return ApiError(400, "bad_request", _("The request could not be read."))
    if status == 403:
        return ApiError(403, "forbidden", _("This request is not allowed."))
    if status == 404:
        return ApiError(404, "not_found", _("There is nothing at this address."))
    if status == 413:
        return _too_large()
    if status == 415:
        return _not_json()
    if status >= 500:
        return ApiError(status, "internal_error", _(
            "Something went wrong on our side. Try again later; if it keeps failing, tell us "
            "the time of the request."))
    return ApiError(status, "http_error", _("The request was refused (HTTP %(status)s).")
                    % {"status": status})


# --- a body Django cannot read -----------------------------------------------------------

# Django raises these when the body is first read (request.body, .POST, .FILES) or the query
# string parsed (.GET); on its own it would answer with its HTML 400 page.
UNREADABLE: tuple[type[Exception], ...] = (
    SuspiciousOperation, MultiPartParserError, BadRequest, RawPostDataException)


def _too_large() -> ApiError:
    return ApiError(413, "payload_too_large", _(
        "The request body is larger than %(size)s, the most this API accepts.")
        % {"size": filesizeformat(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)})


def _not_json() -> ApiError:
    return ApiError(415, "unsupported_media_type", _(
        "This operation takes a JSON body: send it with “Content-Type: application/json”."),
        "Content-Type")


def unreadable_error(error: Exception) -> ApiError:
    """The API's error for a request Django could not read (one of UNREADABLE)."""
    if isinstance(error, RequestDataTooBig):
        return _too_large()
    if isinstance(error, TooManyFieldsSent):
        return ApiError(400, "too_many_fields", _(
            "The request has more than %(count)s fields (form fields and query parameters "
            "together).") % {"count": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS})
    if isinstance(error, TooManyFilesSent):
        return ApiError(400, "too_many_files", _(
            "The request carries more than %(count)s files.")
            % {"count": settings.DATA_UPLOAD_MAX_NUMBER_FILES})
    if isinstance(error, MultiPartParserError) and str(error) == PART_HEADERS_TOO_LONG:
        return ApiError(422, "file_name_too_long", _(
            "A file name is too long: shorten it to a few hundred characters at most and "
            "send the file again."), FILES_FIELD)
    if isinstance(error, (MultiPartParserError, SuspiciousMultipartForm)):
        return ApiError(400, "malformed_multipart", _(
            "The multipart/form-data body could not be read: check its boundary and the "
            "headers of its parts."))
    if isinstance(error, RawPostDataException):
        # The body was read as a form (multipart) before a JSON operation wanted it.
        return _not_json()
    return status_error(400)  # any other SuspiciousOperation, or a BadRequest


def log_unreadable(request: HttpRequest, error: Exception, status: int) -> None:
    """Logged as Django logs it when it answers such a request itself."""
    extra = {"status_code": status, "request": request}
    if isinstance(error, SuspiciousOperation):
        logging.getLogger(f"django.security.{type(error).__name__}").error(
            "%s", error, extra=extra)
    else:
        logging.getLogger("django.request").warning(
            "Bad request (%s): %s", error, request.path, extra=extra)


def unreadable_response(request: HttpRequest, error: Exception) -> HttpResponse:
    refusal = unreadable_error(error)
    log_unreadable(request, error, refusal.status)
    return json_error(refusal.status, refusal.code, refusal.message, refusal.field)


# --- JSON bodies ------------------------------------------------------------------------

class JsonBodyParser(Parser):
    """Ninja's parser, called for the operations that take a JSON body: a body of another
    media type is refused (415), and one that is not JSON is refused in the API's words.
    (Ninja wraps what this raises in its own HttpError; the `http_error` handler below
    unwraps it.)"""

    def parse_body(self, request: HttpRequest) -> Any:
        if not is_json(request.content_type or ""):
            raise _not_json()
        try:
            return json.loads(request.body)
        except json.JSONDecodeError as error:
            raise ApiError(400, "malformed_json", _(
                "The request body is not valid JSON (line %(line)s, column %(column)s).")
                % {"line": error.lineno, "column": error.colno}) from error
        except ValueError as error:  # not UTF-8 (nor UTF-16 or -32)
            raise ApiError(400, "malformed_json", _(
                "The request body is not valid JSON.")) from error


def document_body_errors(schema: dict[str, Any]) -> None:
    """Completes the OpenAPI document with 413 on every operation that reads a body (every
    POST does: the Idempotency-Key middleware reads it) and 415 on every operation taking
    JSON (another media type is refused)."""
    for item in schema.get("paths", {}).values():
        for method, operation in item.items():
            responses = operation.get("responses")
            if not isinstance(responses, dict):
                continue
            media_types = operation.get("requestBody", {}).get("content", {})
            shape = {"application/json": {"schema": {
                "$ref": "#/components/schemas/ErrorOut"}}}
            if method.lower() == "post" or media_types:
                responses.setdefault(413, {"description": "Content Too Large",
                                           "content": shape})
            if "application/json" in media_types:
                responses.setdefault(415, {"description": "Unsupported Media Type",
                                           "content": shape})


# --- what Django or Ninja answer outside an operation -----------------------------------

# Headers of the answer being redrawn that still say something true.
KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


class ErrorShapeMiddleware:
    """Under /api/v1/, an error answered with anything but JSON — Django's pages for an
    unknown address (404), a crash (500) or a request refused before the API saw it (400),
    Ninja's 405 for a method the address does not take — is answered in the error shape
    instead, with the same status and Allow header.

    Placed after LocaleMiddleware, so that its messages are in the request's language."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if (response.status_code < 400 or not is_api(request)
                or is_json(response.get("Content-Type", ""))):
            return response
        allowed = ", ".join(sorted(
            method.strip() for method in response.get("Allow", "").split(",")
            if method.strip()))
        if response.status_code == 405:
            error = ApiError(405, "method_not_allowed",
                             _method_not_allowed(request, allowed or "—"))
        else:
            error = status_error(response.status_code)
        redrawn = json_error(response.status_code, error.code, error.message, error.field)
        for header in KEPT_HEADERS:
            if header in response:
                redrawn[header] = response[header]
        if allowed:
            redrawn["Allow"] = allowed
        return redrawn


# --- the operations ---------------------------------------------------------------------

LOCATIONS = {"body", "query", "path", "form", "file", "header", "cookie"}
PARAMETER_NAMES = {"payload", "filters"}  # our handlers' own names for a whole input


def _field(location: Any) -> str | None:
    # Ninja reports ("body", "payload", "lines", 0) or ("query", "limit"): the first part
    # says where, and the handler's parameter name is not the caller's field.
    parts = [str(part) for part in location]
    if parts and parts[0] in LOCATIONS:
        parts = parts[1:]
    if parts and parts[0] in PARAMETER_NAMES:
        parts = parts[1:]
    return ".".join(parts) or None


def install(api: NinjaAPI) -> None:
    @api.exception_handler(ApiError)
    def api_error(request: HttpRequest, error: ApiError) -> HttpResponse:
        return error_response(api, request, error.status, error.code, error.message,
                              error.field)

    @api.exception_handler(ValidationError)
    def invalid(request: HttpRequest, error: ValidationError) -> HttpResponse:
        first = error.errors[0] if error.errors else {}
        return error_response(api, request, 422, "invalid",
                              first.get("msg", _("The request is not valid.")),
                              _field(first.get("loc", ())))

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, error: AuthenticationError) -> HttpResponse:
        response = error_response(api, request, 401, "unauthenticated", _(
            "Send a valid API key as “Authorization: Bearer rdk_…”; the key may be wrong "
            "or revoked."))
        response["WWW-Authenticate"] = 'Bearer realm="RefundDesk API"'
        return response

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, error: Http404) -> HttpResponse:
        return error_response(api, request, 404, "not_found",
                              str(error) or _("There is nothing at this address."))

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
        # Ninja's own HttpErrors (a body it could not parse …) speak English only: ours is
        # inside when our parser refused the body, else the status says what happened.
        cause = error.__cause__
        if not isinstance(cause, ApiError):
            cause = status_error(error.status_code)
        return api_error(request, cause)

    def unreadable(request: HttpRequest, error: Any) -> HttpResponse:
        refusal = unreadable_error(error)
        log_unreadable(request, error, refusal.status)
        return api_error(request, refusal)

    for exception in UNREADABLE:
        api.add_exception_handler(exception, unreadable)

    @api.exception_handler(InvalidTransition)
    def conflict(request: HttpRequest, error: InvalidTransition) -> HttpResponse:
        return error_response(api, request, 409, error.code, error.message)

    @api.exception_handler(CaseError)
    def refused(request: HttpRequest, error: CaseError) -> HttpResponse:
        status = 403 if error.code == "not_permitted" else 409
        return error_response(api, request, status, error.code, error.message)
