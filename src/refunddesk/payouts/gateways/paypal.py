"""The PayPal gateway: refunds of captured payments through PayPal's Payments API v2, with
PayPal's own server SDK (`paypal-server-sdk`).

Our payout's idempotency key goes out as the `PayPal-Request-Id` header, which PayPal keeps
for 45 days: sending a payout again returns the refund PayPal made the first time. The same
key is the refund's `invoice_id` and `custom_id`: PayPal refuses a second refund with an
invoice id it has seen (DUPLICATE_INVOICE_ID), which still holds after the 45 days, and the
custom id comes back in the settlement report.

The SDK is configured so it never retries by itself (a POST retried under us could only be
told apart from ours by PayPal's memory of the request id) and with our timeout; its base
URL is set through its public `Configuration.get_base_uri`, overridden in a subclass.
Webhooks (paypal_webhooks.py) and the settlement report (paypal_statement.py) are read
without the SDK, which supports neither.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any

import requests
from paypalserversdk.configuration import Configuration, Environment
from paypalserversdk.exceptions.api_exception import ApiException
from paypalserversdk.http.auth.o_auth_2 import ClientCredentialsAuthCredentials
from paypalserversdk.models.money import Money
from paypalserversdk.models.refund_request import RefundRequest as PayPalRefundRequest
from paypalserversdk.paypal_serversdk_client import PaypalServersdkClient
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError

from refunddesk.payouts.gateways.base import (
    Gateway,
    GatewayError,
    NeedsFinance,
    Notification,
    NotificationRejected,
    OutcomeUnknown,
    RateLimited,
    RefundRequest,
    RefundStatus,
    RetryableError,
    RouteClosed,
    TerminalError,
)
from refunddesk.payouts.gateways.paypal_refunds import status_of
from refunddesk.payouts.gateways.paypal_webhooks import WebhookVerifier
from refunddesk.policy.money import format_amount, minor_digits

log = logging.getLogger(__name__)

NOT_CONFIGURED = "gateway_not_configured"

# Currencies PayPal takes in whole units only, whatever ISO 4217 says (TWD has cents in
# ISO; PayPal refuses them with DECIMALS_NOT_SUPPORTED).
WHOLE_UNITS_ONLY = frozenset({"HUF", "JPY", "TWD"})

# PayPal's refusal (the `issue` of a 422) → what it means for the payout.
# - The capture can take no refund by its original route any more → RouteClosed, so the
#   policy's fallback (the balance) takes it. MAX_NUMBER_OF_REFUNDS_EXCEEDED is here too:
#   PayPal refuses every further refund of that capture, sending again can only fail, and
#   it is the same situation for the customer as a payment past the refund period.
ROUTE_CLOSED = frozenset({
    "REFUND_TIME_LIMIT_EXCEEDED", "MAX_NUMBER_OF_REFUNDS_EXCEEDED", "REFUND_NOT_ALLOWED",
    "PAYER_ACCOUNT_LOCKED_OR_CLOSED", "REFUND_NOT_PERMITTED_DUE_TO_CHARGEBACK",
})
# - Not taken until finance acts in the merchant's PayPal account; then sent again as it
#   was. DUPLICATE_INVOICE_ID is PayPal saying it already refunded this payout once (our
#   key is the invoice id) after forgetting the request id: a person must look, and the
#   payout must never be paid a second way meanwhile.
NEEDS_FINANCE = frozenset({
    "REFUND_FAILED_INSUFFICIENT_FUNDS", "PAYEE_ACCOUNT_RESTRICTED",
    "PAYEE_ACCOUNT_LOCKED_OR_CLOSED", "DUPLICATE_INVOICE_ID", "TRANSACTION_DISPUTED",
    "PENDING_CAPTURE",
})
# Everything else PayPal refuses (CAPTURE_FULLY_REFUNDED, REFUND_AMOUNT_EXCEEDED,
# currency mismatches, …) is refused for good: TerminalError, finance decides.


def paypal_value(amount_minor: int, currency: str) -> str:
    """Our minor units as PayPal's decimal string ("12.34"; "1500" for JPY)."""
    currency = currency.upper()
    if currency in WHOLE_UNITS_ONLY:
        digits = minor_digits(currency)
        whole, rest = divmod(amount_minor, 10 ** digits)
        if rest:
            raise TerminalError("amount_not_whole", f"PayPal refunds {currency} in whole "
                                f"units only; {format_amount(amount_minor, currency)} is not")
        return str(whole)
    return format_amount(amount_minor, currency)


class _BaseAt(Configuration):
    """The SDK's configuration, pointed at `base` (a stand-in, a proxy) through the public
    `get_base_uri` instead of its two fixed environments."""

    def __init__(self, base: str, **options: Any):
        self.base = base.rstrip("/")
        # Named rather than super(): mypy lets us call the SDK's unannotated functions
        # (untyped_calls_exclude) but does not count a super() call as one of them.
        Configuration.__init__(self, **options)

    def get_base_uri(self, server: Any = None) -> str:
        return self.base


class PayPalGateway(Gateway):
    def __init__(self, name: str, *, client_id: str = "", client_secret: str = "",
                 webhook_id: str = "", environment: str = "live", api_base: str = "",
                 timeout: float = 10.0, rate_per_second: float | None = None,
                 refund_window_days: int | None = None,
                 unavailable_methods: list[str] | None = None,
                 max_refunds_per_payment: int | None = None,
                 cert_url_prefixes: list[str] | None = None,
                 cert_fetcher: Callable[[str, float], bytes] | None = None,
                 webhook_tolerance_seconds: float = 300.0):
        super().__init__(name, rate_per_second=rate_per_second, timeout=timeout,
                         refund_window_days=refund_window_days,
                         unavailable_methods=unavailable_methods,
                         max_refunds_per_payment=max_refunds_per_payment)
        self.client_id, self.client_secret = client_id, client_secret
        self.environment, self.api_base = environment.strip().lower(), api_base
        self.problems: list[str] = []
        if self.environment not in ("live", "production", "sandbox"):
            log.warning("PayPal environment %r is neither live nor sandbox; using live",
                        environment)
            self.problems.append(f"PAYPAL_ENVIRONMENT is {environment!r}; it must be live "
                                 "or sandbox")
        if bool(client_id) != bool(client_secret):
            self.problems.append("PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET must be set "
                                 "together; only one of them is")
        self.client = self._new_client() if client_id and client_secret else None
        self.webhooks = WebhookVerifier(
            webhook_id, allowed_prefixes=cert_url_prefixes, fetcher=cert_fetcher,
            timeout=self.timeout, tolerance_seconds=webhook_tolerance_seconds)

    # -- the SDK ------------------------------------------------------------------------

    def configuration_problems(self) -> list[str]:
        return list(self.problems)

    def _new_client(self) -> PaypalServersdkClient:
        options: dict[str, Any] = {
            # The SDK's default is 60 s; a worker must not hang that long on one payout.
            "timeout": self.timeout,
            # No retries of any method: a POST retried by the SDK after a lost answer
            # would be a second request we never decided to send.
            "max_retries": 0, "retry_methods": ["GET"], "retry_statuses": [],
            "environment": (Environment.SANDBOX if self.environment == "sandbox"
                            else Environment.PRODUCTION),
            "client_credentials_auth_credentials": ClientCredentialsAuthCredentials(
                o_auth_client_id=self.client_id, o_auth_client_secret=self.client_secret,
                o_auth_token_provider=self._token, o_auth_clock_skew=60),
        }
        config = _BaseAt(self.api_base, **options) if self.api_base else Configuration(
            **options)
        return PaypalServersdkClient(config=config)

    def _token(self, last_token: Any, auth: Any) -> Any:
        """Ask PayPal for an OAuth token (client credentials). Called by the SDK before a
        call when it has no valid token; failing here, the refund was never sent."""
        try:
            return auth.fetch_token()
        except ApiException as error:
            if error.response_code in (400, 401, 403):
                raise RetryableError(NOT_CONFIGURED, "PayPal refused the client id and "
                                     "secret") from error
            raise RetryableError("token_unavailable", f"PayPal's token endpoint answered "
                                 f"{error.response_code}") from error
        except requests.RequestException as error:
            raise RetryableError("unreachable", f"PayPal's token endpoint cannot be "
                                 f"reached: {error}") from error

    def _client(self) -> PaypalServersdkClient:
        # Payouts wait until an operator sets the credentials, rather than failing money
        # that could still go back the right way.
        if self.client is None:
            raise RetryableError(NOT_CONFIGURED, f"gateway {self.name!r} has no PayPal "
                                 "client id and secret")
        return self.client

    # -- the port -----------------------------------------------------------------------

    def refund(self, request: RefundRequest) -> RefundStatus:
        client = self._client()
        if not request.payment_reference:
            raise TerminalError("missing_payment_reference",
                                "the payment has no PayPal capture id")
        body = PayPalRefundRequest(
            amount=Money(currency_code=request.currency.upper(),
                         value=paypal_value(request.amount_minor, request.currency)),
            custom_id=request.idempotency_key, invoice_id=request.idempotency_key,
            note_to_payer=request.case)
        try:
            response = client.payments.refund_captured_payment({
                "capture_id": request.payment_reference, "body": body,
                "paypal_request_id": request.idempotency_key,
                "prefer": "return=representation"})
        except GatewayError:
            raise
        except ApiException as error:
            raise self._translate(error, is_write=True) from error
        except requests.RequestException as error:
            raise transport_error(error, is_write=True) from error
        return status_of(_json(response.text))

    def fetch(self, request: RefundRequest) -> RefundStatus:
        if not request.refund_id:
            # PayPal has no search for a refund by our key. The runner asks this only when
            # an answer to our send was lost, and then sends again with the same
            # PayPal-Request-Id: within 45 days PayPal answers with the refund it made (no
            # second one), after that our key as invoice id is refused as a duplicate.
            raise RetryableError("resource_missing", "PayPal is asked again with the same "
                                 "request id, which returns the refund if it made one")
        client = self._client()
        try:
            response = client.payments.get_refund({"refund_id": request.refund_id})
        except GatewayError:
            raise
        except ApiException as error:
            raise self._translate(error, is_write=False) from error
        except requests.RequestException as error:
            raise transport_error(error, is_write=False) from error
        return status_of(_json(response.text))

    def read_notification(self, body: bytes, headers: Mapping[str, str]) -> Notification:
        notice = self.webhooks.read(body, headers)
        if notice.status is None or not notice.refund_id:
            return notice
        # PayPal's signature covers only a CRC32 of the body, which can be forged to
        # match: the webhook says which refund to look at, PayPal's own answer says what
        # became of it. Without an answer, nothing is applied (PayPal sends it again).
        try:
            confirmed = self.fetch(_asking_about(notice.refund_id))
        except GatewayError as error:
            raise NotificationRejected(f"PayPal could not confirm refund "
                                       f"{notice.refund_id}: {error}") from error
        return dataclasses.replace(notice, status=confirmed)

    def read_statement(self, data: bytes) -> list[Any] | None:
        from refunddesk.payouts.gateways.paypal_statement import read_settlement_report

        return read_settlement_report(data)

    # -- errors -------------------------------------------------------------------------

    def _translate(self, error: ApiException, *, is_write: bool) -> GatewayError:
        status = error.response_code
        body = _json(getattr(error.response, "text", "") or "")
        name = str(body.get("name") or "")
        issue = _issue(body) or name or f"http_{status}"
        message = _message(body) or str(error.reason or issue)
        if status in (401, 403):
            # A token PayPal no longer accepts: the next call starts with a fresh one.
            self.client = self._new_client()
            return RetryableError(NOT_CONFIGURED, f"PayPal refused our credentials "
                                  f"({issue}): {message}")
        if status == 429:
            return RateLimited("rate_limited", message, retry_after=_retry_after(error))
        if not is_write:
            code = "resource_missing" if status == 404 else issue.lower()
            return RetryableError(code, message)
        if status == 409:
            # The first request with this PayPal-Request-Id is still running at PayPal:
            # ours was not taken; asking again later returns that request's answer.
            return RetryableError("request_in_progress", message)
        if status >= 500:
            return OutcomeUnknown(issue.lower(), message)
        if issue in ROUTE_CLOSED:
            return RouteClosed(issue.lower(), message)
        if issue in NEEDS_FINANCE:
            return NeedsFinance(issue.lower(), message)
        return TerminalError(issue.lower(), message)


def transport_error(error: requests.RequestException, *, is_write: bool) -> GatewayError:
    """No answer: never sent (the connection was not made), or unknown (sent, and the
    answer is missing). The SDK does not retry, so one attempt is all there was."""
    if not is_write or never_sent(error):
        return RetryableError("unreachable", f"PayPal cannot be reached: {error}")
    return OutcomeUnknown("no_answer", f"PayPal did not answer: {error}")


def never_sent(error: requests.RequestException) -> bool:
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return True
    if isinstance(error, requests.exceptions.ConnectionError) and error.args:
        cause = error.args[0]
        return (isinstance(cause, MaxRetryError)
                and isinstance(cause.reason, ConnectTimeoutError))
    return False


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _issue(body: Mapping[str, Any]) -> str:
    details = body.get("details")
    if isinstance(details, list) and details and isinstance(details[0], dict):
        return str(details[0].get("issue") or "")
    return ""


def _message(body: Mapping[str, Any]) -> str:
    details = body.get("details")
    if (isinstance(details, list) and details and isinstance(details[0], dict)
            and details[0].get("description")):
        return str(details[0]["description"])
    return str(body.get("message") or "")


def _retry_after(error: ApiException) -> float | None:
    headers = getattr(error.response, "headers", None) or {}
    value = headers.get("Retry-After") if hasattr(headers, "get") else None
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


def _asking_about(refund_id: str) -> RefundRequest:
    """A question about one refund by PayPal's id (all `fetch` reads of it)."""
    return RefundRequest(payout_id=0, idempotency_key="", amount_minor=0, currency="",
                         destination="original", method="paypal", payment_reference="",
                         paid_at=None, account="", account_pk=0, case="",
                         refund_id=refund_id)
