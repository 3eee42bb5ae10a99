"""The Stripe gateway: refunds through Stripe's API, with Stripe's own SDK.

Our payout's idempotency key goes out as Stripe's `Idempotency-Key`, so asking twice for one
payout returns the first refund. Stripe keeps a key for at least 24 hours; a refund whose
answer never arrived is found later by its metadata (`fetch` without a refund id).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import requests
import stripe
from stripe.params import RefundCreateParams, RefundListParams
from urllib3.exceptions import ConnectTimeoutError

from refunddesk.payouts.gateways.base import (
    Gateway,
    GatewayError,
    OutcomeUnknown,
    RateLimited,
    RefundRequest,
    RefundStatus,
    RetryableError,
    TerminalError,
)

log = logging.getLogger(__name__)

NOT_CONFIGURED = "gateway_not_configured"

# Stripe's refund.status → our PayoutState values.
STATES = {
    "pending": "submitted",
    "requires_action": "requires_action",
    "succeeded": "succeeded",
    "failed": "failed",
    "canceled": "failed",
}

# Stripe's API units per ISO 4217 minor unit (our storage), where they differ: Stripe keeps
# ISK two-decimal for backwards compatibility (100 means 1 króna), though ISO gives it none.
STRIPE_UNITS_PER_MINOR = {"ISK": 100}


def stripe_amount(amount_minor: int, currency: str) -> int:
    return amount_minor * STRIPE_UNITS_PER_MINOR.get(currency.upper(), 1)


class StripeGateway(Gateway):
    def __init__(self, name: str, *, api_key: str = "", api_base: str = "",
                 timeout: float = 10.0, rate_per_second: float | None = None,
                 refund_window_days: int | None = None,
                 unavailable_methods: list[str] | None = None, max_network_retries: int = 0):
        super().__init__(name, rate_per_second=rate_per_second, timeout=timeout,
                         refund_window_days=refund_window_days,
                         unavailable_methods=unavailable_methods)
        self.max_network_retries = max_network_retries
        # One client per gateway, never the SDK's module globals: two Stripe accounts (or a
        # test and a live one) can live in one process. The SDK's default HTTP timeout is
        # 80 s; a worker must not hang that long on one payout.
        self.client = stripe.StripeClient(
            api_key,
            base_addresses={"api": api_base} if api_base else {},
            http_client=stripe.RequestsClient(timeout=self.timeout),
            max_network_retries=max_network_retries,
        ) if api_key else None

    def _client(self) -> stripe.StripeClient:
        # Payouts wait until an operator sets the key, rather than failing money that could
        # still go back the right way.
        if self.client is None:
            raise RetryableError(NOT_CONFIGURED, f"gateway {self.name!r} has no Stripe API key")
        return self.client

    def refund(self, request: RefundRequest) -> RefundStatus:
        client = self._client()
        reference = request.payment_reference
        if not reference:
            raise TerminalError("missing_payment_reference",
                                "the payment has no Stripe charge or PaymentIntent id")
        params: RefundCreateParams = (
            {"payment_intent": reference} if reference.startswith("pi_")
            else {"charge": reference})
        params["amount"] = stripe_amount(request.amount_minor, request.currency)
        params["metadata"] = {"refunddesk_payout": str(request.payout_id),
                              "refunddesk_case": request.case}
        try:
            refund = client.v1.refunds.create(
                params, {"idempotency_key": request.idempotency_key})
        except stripe.StripeError as error:
            raise self._translate(error, is_write=True) from error
        return status_of(refund.to_dict())

    def fetch(self, request: RefundRequest) -> RefundStatus:
        client = self._client()
        try:
            if request.refund_id:
                return status_of(client.v1.refunds.retrieve(request.refund_id).to_dict())
            return self._find_by_metadata(client, request)
        except stripe.StripeError as error:
            raise self._translate(error, is_write=False) from error

    def _find_by_metadata(self, client: stripe.StripeClient, request: RefundRequest
                          ) -> RefundStatus:
        # The answer to our create never arrived (or Stripe answered 500, which it replays
        # for the same key): the refund, if Stripe made it, carries our payout id.
        reference = request.payment_reference
        params: RefundListParams = (
            {"payment_intent": reference} if reference.startswith("pi_")
            else {"charge": reference})
        params["limit"] = 100
        listing = client.v1.refunds.list(params)
        for refund in listing.auto_paging_iter():
            data = refund.to_dict()
            if (data.get("metadata") or {}).get("refunddesk_payout") == str(request.payout_id):
                return status_of(data)
        raise RetryableError("resource_missing", "Stripe has no refund for this payout")

    def _translate(self, error: stripe.StripeError, *, is_write: bool) -> GatewayError:
        """Our error for the SDK's. A failed read says nothing about the refund, so every
        read error is retryable; a failed write is unknown when the request may have been
        taken, terminal when Stripe refused it for good."""
        code, message = error.code or "", error.user_message or str(error)
        if isinstance(error, stripe.RateLimitError):
            return RateLimited(code or "rate_limited", message, retry_after=retry_after(error))
        if isinstance(error, stripe.AuthenticationError | stripe.PermissionError):
            return RetryableError(NOT_CONFIGURED, message)
        if isinstance(error, stripe.APIConnectionError):
            # "Never sent" only holds for a single attempt: with the SDK's own retries, an
            # earlier attempt may have reached Stripe.
            if not is_write or (self.max_network_retries == 0 and never_sent(error)):
                return RetryableError("unreachable", message)
            return OutcomeUnknown("no_answer", message)
        if not is_write:
            return RetryableError(code or "provider_error", message)
        if error.http_status == 409:
            # Another request with this key is still running at Stripe: ours was not taken.
            return RetryableError(code or "idempotency_key_in_use", message)
        if isinstance(error, stripe.IdempotencyError):
            # The key was first used with other parameters (the payout changed, or another
            # installation's payout has the same id): sending again would be refused again.
            return TerminalError("idempotency_key_reused", message)
        if isinstance(error, stripe.InvalidRequestError | stripe.CardError):
            return TerminalError(code or "invalid_request", message)
        # 5xx and anything unforeseen: Stripe may have made the refund.
        return OutcomeUnknown(code or "provider_error", message)


def status_of(refund: dict[str, Any]) -> RefundStatus:
    stripe_status = refund.get("status") or ""
    state = STATES.get(stripe_status)
    if state is None:
        log.warning("Stripe refund %s has a status we do not know: %r; taken as submitted",
                    refund.get("id"), stripe_status)
        state = "submitted"
    error_code = error_message = ""
    if stripe_status == "failed":
        error_code = refund.get("failure_reason") or "failed"
        error_message = f"Stripe could not return the money ({error_code})."
    elif stripe_status == "canceled":
        error_code, error_message = "canceled", "The refund was canceled at Stripe."
    # Stripe's refund has no settlement time; the moment we learn of success is the best
    # we have (the bank credits the customer days later, whatever the gateway says).
    settled_at = datetime.now(UTC) if state == "succeeded" else None
    return RefundStatus(state, refund.get("id") or "", error_code=error_code,
                        error_message=error_message, settled_at=settled_at)


def retry_after(error: stripe.StripeError) -> float | None:
    value = (error.headers or {}).get("Retry-After")
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:  # an HTTP date: the runner's own backoff is good enough
        return None


def never_sent(error: stripe.APIConnectionError) -> bool:
    """Whether the connection failed before our request left (refused, unresolvable, timed
    out while connecting): then Stripe cannot have taken it."""
    cause = error.__cause__
    if isinstance(cause, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(cause, requests.exceptions.ConnectionError) and cause.args:
        return isinstance(getattr(cause.args[0], "reason", None), ConnectTimeoutError)
    return False
