"""One error shape for every failure of the API:
`{"error": {"code": "…", "message": "…", "field": "…"}}` with the right 4xx status.

`code` is for programs and never changes; `message` is for people, in the language the
request asked for (Accept-Language); `field` names the input at fault, when one is.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError

from refunddesk.cases.errors import CaseError
from refunddesk.cases.states import InvalidTransition


class ErrorBody(Schema):
    code: str
    message: str
    field: str | None = None


class ErrorOut(Schema):
    error: ErrorBody


# Every operation may answer with these; each lists them so the OpenAPI document is true.
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
        return error_response(api, request, error.status_code, "http_error", str(error))

    @api.exception_handler(InvalidTransition)
    def conflict(request: HttpRequest, error: InvalidTransition) -> HttpResponse:
        return error_response(api, request, 409, error.code, error.message)

    @api.exception_handler(CaseError)
    def refused(request: HttpRequest, error: CaseError) -> HttpResponse:
        status = 403 if error.code == "not_permitted" else 409
        return error_response(api, request, status, error.code, error.message)
