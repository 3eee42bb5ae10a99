"""/api/v1/: RefundDesk's REST API (Django Ninja), with its OpenAPI document at
/api/v1/openapi.json and interactive documentation at /api/v1/docs."""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema

from refunddesk.api import (
    accounts,
    case_actions,
    cases,
    compensations,
    decisions,
    errors,
    orders,
)
from refunddesk.api.auth import ApiKeyAuth


class RefundDeskAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix: str | None = None,
                           path_params: dict[str, Any] | None = None) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        # The statuses a body may give (413, 415), where they can happen.
        errors.document_body_errors(schema)
        return schema


api = RefundDeskAPI(
    title="RefundDesk API",
    version="1",
    description=(
        "Open refund cases from your own console, quote refunds, and follow cases by "
        "tracking number. Authenticate with an API key made by an administrator: "
        "`Authorization: Bearer rdk_…`. Every error has the shape "
        "`{\"error\": {\"code\", \"message\", \"field\"}}`; `code` is stable, `message` is "
        "in the language of `Accept-Language` (zh-hans or en)."),
    auth=ApiKeyAuth(),
    urls_namespace="api",
    # JSON bodies checked for their media type, and refused in the error shape.
    parser=errors.JsonBodyParser(),
)
errors.install(api)
api.add_router("/", cases.router)
api.add_router("/", case_actions.router)
api.add_router("/", decisions.router)
api.add_router("/", orders.router)
api.add_router("/", accounts.router)
api.add_router("/", compensations.router)
