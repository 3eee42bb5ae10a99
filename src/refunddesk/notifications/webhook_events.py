"""Events for the merchant's systems: `emit` writes one WebhookDelivery per active endpoint
subscribed to the event, in the caller's transaction, due at once; the deliveries are the
queue, which every worker takes every second (webhook_sending.py). A change that rolls back
sends nothing; a committed one is never forgotten.

With no endpoint subscribed, emitting costs one small query (the active endpoints) and
builds no payload: the data is passed as a function, called only when someone listens.

The body of every event is `{"id", "type", "created_at", "data"}`; `data["case"]` is the
case exactly as the REST API shows it (case_shape.py), so an integration parses one shape.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Prefetch
from django.utils import timezone

from refunddesk.core import invalidation
from refunddesk.notifications.case_shape import CaseOut, PayoutOut, case_out
from refunddesk.notifications.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from refunddesk.policy.money import format_amount

if TYPE_CHECKING:
    from refunddesk.cases.models import RefundCase
    from refunddesk.payouts.models import Payout

EVENT_ID_PREFIX = "evt_"

Data = Mapping[str, Any] | Callable[[], Mapping[str, Any]]


def new_event_id() -> str:
    return EVENT_ID_PREFIX + secrets.token_hex(12)


def event_body(event_type: str, data: Mapping[str, Any], *, event_id: str,
               created_at: datetime) -> str:
    """The JSON text sent for an event, the same bytes at every attempt."""
    return json.dumps({"id": event_id, "type": event_type,
                       "created_at": created_at.astimezone(UTC),
                       "data": data}, cls=DjangoJSONEncoder, ensure_ascii=False,
                      separators=(",", ":"))


def emit(event_type: str, data: Data, *, now: datetime | None = None
         ) -> list[WebhookDelivery]:
    return emit_many([(event_type, data)], now=now)


def active_endpoints() -> list[WebhookEndpoint]:
    """The active endpoints (their id and events), kept by each process until one changes
    (core/invalidation.py): every case opened asks, and they change seldom."""
    return invalidation.kept(
        invalidation.WEBHOOK_ENDPOINTS, "active",
        lambda: list(WebhookEndpoint.objects.filter(is_active=True).only("pk", "events")))


def emit_many(events: Sequence[tuple[str, Data]], *, now: datetime | None = None,
              endpoints: list[WebhookEndpoint] | None = None) -> list[WebhookDelivery]:
    """Several events with one look at the endpoints (a settled batch of payouts), or
    none when the caller looked already (`endpoints`, from active_endpoints() in the same
    transaction)."""
    for event_type, _data in events:
        WebhookEvent(event_type)  # a misspelt type fails the caller's transaction
    if endpoints is None:
        endpoints = active_endpoints()
    if not endpoints:
        return []
    now = now or timezone.now()
    deliveries = []
    for event_type, data in events:
        listening = [endpoint for endpoint in endpoints if event_type in endpoint.events]
        if not listening:
            continue
        event_id = new_event_id()
        payload = event_body(event_type, data() if callable(data) else data,
                             event_id=event_id, created_at=now)
        deliveries += [WebhookDelivery(endpoint_id=endpoint.pk, event_id=event_id,
                                       event_type=event_type, payload=payload,
                                       created_at=now, next_attempt_at=now)
                       for endpoint in listening]
    if not deliveries:
        return []
    # Due at once: the worker's next pass sends them (webhook_sending.py).
    return WebhookDelivery.objects.bulk_create(deliveries)


# -- what the events say ----------------------------------------------------------------------

class Cases:
    """The cases of a batch of events, read together the first time one is needed, with
    what the API's case shape shows (account, order, lines, payouts)."""

    def __init__(self, case_ids: Iterable[int]):
        self.case_ids = sorted(set(case_ids))
        self.loaded: dict[int, RefundCase] | None = None

    def __call__(self, case_id: int) -> dict[str, Any]:
        if self.loaded is None:
            self.loaded = _load_cases(self.case_ids)
        return case_json(self.loaded[case_id])


def _load_cases(case_ids: list[int]) -> dict[int, RefundCase]:
    from refunddesk.cases.models import CaseLine, RefundCase

    cases = (RefundCase.objects.filter(pk__in=case_ids).select_related("account", "order")
             .prefetch_related(Prefetch("lines", CaseLine.objects.select_related("order_line")),
                               "payouts"))
    return {case.pk: case for case in cases}


def case_json(case: RefundCase, **given: Any) -> dict[str, Any]:
    """The case as GET /api/v1/cases/{id} shows it (`lines=` and `payouts=` as
    case_shape.case_out takes them)."""
    return CaseOut.model_validate(case_out(case, **given)).model_dump()


def payout_json(payout: Payout) -> dict[str, Any]:
    """A payout as the API's case shows it (PayoutOut)."""
    return PayoutOut.model_validate({
        "id": payout.pk, "destination": payout.destination,
        "amount": format_amount(payout.amount_minor, payout.currency),
        "currency": payout.currency, "state": payout.state,
        "expected_at": payout.expected_at, "settled_at": payout.settled_at}).model_dump()


def emit_case(event_type: str, case: RefundCase, *, now: datetime | None = None,
              **extra: Any) -> list[WebhookDelivery]:
    """An event about one case, as it is in the database now (inside the caller's
    transaction, after its change), with `extra` beside it in the data."""
    cases = Cases([case.pk])
    return emit(event_type, lambda: {"case": cases(case.pk), **extra}, now=now)


def emit_settled(*, ended: Iterable[Payout], refunded: Iterable[RefundCase],
                 now: datetime) -> list[WebhookDelivery]:
    """The events of a settled batch: each payout that arrived or was refused, then each
    case whose payouts all arrived."""
    ended, refunded = list(ended), list(refunded)
    if not ended and not refunded:
        return []
    cases = Cases([payout.case_id for payout in ended] + [case.pk for case in refunded])
    events: list[tuple[str, Data]] = []
    for payout in ended:
        events.append((f"payout.{payout.state}", _payout_data(cases, payout)))
    for case in refunded:
        events.append((WebhookEvent.CASE_REFUNDED, _case_data(cases, case.pk)))
    return emit_many(events, now=now)


def _payout_data(cases: Cases, payout: Payout) -> Callable[[], dict[str, Any]]:
    def data() -> dict[str, Any]:
        found: dict[str, Any] = {"case": cases(payout.case_id), "payout": payout_json(payout)}
        if payout.state == "failed":
            found["error"] = {"code": payout.last_error_code,
                              "message": payout.last_error_message}
        return found

    return data


def _case_data(cases: Cases, case_id: int) -> Callable[[], dict[str, Any]]:
    return lambda: {"case": cases(case_id)}
