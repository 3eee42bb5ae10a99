"""/api/v1/: RefundDesk's REST API (Django Ninja), with its OpenAPI document at
/api/v1/openapi.json and interactive documentation at /api/v1/docs."""

from __future__ import annotations

from ninja import NinjaAPI

from refunddesk.api import accounts, case_actions, cases, decisions, errors, orders
from refunddesk.api.auth import ApiKeyAuth

api = NinjaAPI(
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
)
errors.install(api)
api.add_router("/", cases.router)
api.add_router("/", case_actions.router)
api.add_router("/", decisions.router)
api.add_router("/", orders.router)
api.add_router("/", accounts.router)
