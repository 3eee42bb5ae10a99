"""/api/v1/orders: the merchant's billing system sends its orders in the order-facts format
(docs/importing.md), one at a time or in batches, as `refunddesk import orders` reads
them. Sending an order again updates it; sending it unchanged changes nothing."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Body, Field, Router, Schema, Status

from refunddesk.api.auth import require
from refunddesk.api.errors import ERRORS, ApiError, ErrorBody
from refunddesk.api.idempotent import IDEMPOTENT
from refunddesk.billing.importing import OrderImporter, Outcome
from refunddesk.billing.order_facts import OrderFactsError, read_order

router = Router(tags=["orders"])

MAX_BATCH = 1000


class OrderOut(Schema):
    id: str = Field(description="The order's id in your billing system.")
    outcome: str = Field(description="created | updated | unchanged")


class BatchIn(Schema):
    orders: list[dict[str, Any]] = Field(min_length=1, max_length=MAX_BATCH,
                                         description="Order-facts objects.")


class BatchItem(Schema):
    index: int = Field(description="Position of the order in the request, from 0.")
    id: str | None = None
    outcome: str = Field(description="created | updated | unchanged | failed")
    error: ErrorBody | None = None


class BatchOut(Schema):
    results: list[BatchItem]
    counts: dict[str, int]


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _import(importer: OrderImporter, facts: Any) -> tuple[str, Outcome]:
    """Import one order; ApiError (422, the first problem's field) when it is not valid."""
    if _has_nul(facts):
        raise ApiError(422, "invalid", _("Text must not contain the NUL character."))
    try:
        parsed = read_order(facts)
    except OrderFactsError as error:
        first = error.problems[0]
        raise ApiError(422, "invalid", str(error), first.path or None) from None
    return parsed.id, importer.import_order(parsed)


@router.post("/orders", response={200: OrderOut, 201: OrderOut, **ERRORS},
             openapi_extra=IDEMPOTENT, summary="Send one order (create or update it)")
def upsert_order(request: HttpRequest, facts: Body[dict[str, Any]]) -> Any:
    """The body is one order-facts object. 201 when the order is new, 200 when it updated
    an order or changed nothing."""
    require(request, "orders:write")
    order_id, outcome = _import(OrderImporter(), facts)
    return Status(201 if outcome is Outcome.CREATED else 200,
                  {"id": order_id, "outcome": outcome.value})


@router.post("/orders/batch", response={200: BatchOut, **ERRORS}, openapi_extra=IDEMPOTENT,
             summary="Send up to 1,000 orders; each is imported or refused on its own")
def upsert_orders(request: HttpRequest, payload: BatchIn) -> Any:
    require(request, "orders:write")
    importer, results = OrderImporter(), []
    counts = dict.fromkeys([outcome.value for outcome in Outcome], 0)
    for index, facts in enumerate(payload.orders):
        try:
            order_id, outcome = _import(importer, facts)
        except ApiError as error:
            results.append({"index": index, "id": facts.get("id") if isinstance(
                facts.get("id"), str) else None, "outcome": "failed",
                "error": {"code": error.code, "message": str(error.message),
                          "field": error.field}})
            counts["failed"] += 1
            continue
        results.append({"index": index, "id": order_id, "outcome": outcome.value})
        counts[outcome.value] += 1
    return {"results": results, "counts": counts}
