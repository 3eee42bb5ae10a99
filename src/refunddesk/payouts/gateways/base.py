"""The gateway port: what RefundDesk asks of a payment provider, in RefundDesk's words.

An adapter translates the provider's world into ours and nothing else: its statuses into
`PayoutState`, its failures into the three errors below, with explicit timeouts. It never
touches our database rows (the balance ledger is the one gateway whose "provider" is our
own database); the runner records what the adapter reports.

The three errors are the decision the runner needs:
- `RetryableError`: the provider did not take the refund (refused for now, unreachable
  before sending, rate-limited). Nothing happened; sending again later is safe.
- `OutcomeUnknown`: the request may have been taken (a timeout after sending, a broken
  connection mid-answer). Sending again with the same idempotency key tells us which.
- `TerminalError`: the provider refused for good (an expired card, a closed account, a
  charge already refunded). Sending again would be refused again; finance decides.

Two refinements of those, because they call for a different next step:
- `RouteClosed` (terminal): the original route cannot take this refund any more (the
  payment is past the provider's refund period); the runner sends it to the policy's
  fallback, the account balance, where the policy has one.
- `NeedsFinance` (retryable): not taken until finance acts at the provider (the merchant
  account lacks the funds); the payout waits as "needs action" and is sent again, with the
  same request number and amount.

Providers that tell us about refunds by themselves (notifications) have them verified by
their adapter (`read_notification`), which answers in the provider's expected format
(`acknowledge`); statement files in a provider's own format are read by `read_statement`.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


class GatewayError(Exception):
    retryable = False

    def __init__(self, code: str, message: str = "", *, retry_after: float | None = None):
        self.code, self.message, self.retry_after = code, message or code, retry_after
        super().__init__(f"{code}: {self.message}")


class RetryableError(GatewayError):
    retryable = True


class RateLimited(RetryableError):
    """The provider (HTTP 429) or our own bucket said: not now. `retry_after` in seconds."""


class OutcomeUnknown(GatewayError):
    retryable = True


class TerminalError(GatewayError):
    retryable = False


class RouteClosed(TerminalError):
    """The provider refuses to refund this payment by its original route for good."""


class NeedsFinance(RetryableError):
    """The provider did not take the refund and will not until finance acts there."""


@dataclass(frozen=True)
class RefundRequest:
    """What a gateway needs to know about a payout, detached from the database row so the
    call can run outside any transaction."""

    payout_id: int
    idempotency_key: str
    amount_minor: int
    currency: str
    destination: str  # original | balance | voucher | gift
    method: str  # the payment's method: alipay, card, …
    payment_reference: str  # the provider's id of the original charge
    paid_at: datetime | None
    account: str  # the account's external id
    account_pk: int
    case: str  # tracking number, for the provider's metadata
    refund_id: str = ""  # the provider's refund id, once known
    # The original payment's whole amount, for providers that ask for it with every refund
    # (WeChat Pay's amount.total); None where the caller does not know it.
    payment_amount_minor: int | None = None


@dataclass(frozen=True)
class RefundStatus:
    """What the provider says about one refund. `state` is one of ours (PayoutState
    values): submitted while the provider still works on it."""

    state: str
    refund_id: str
    error_code: str = ""
    error_message: str = ""
    settled_at: datetime | None = None


@dataclass(frozen=True)
class Notification:
    """A provider's notification about one refund, verified by its adapter. `payout_key`
    is our request number when the provider echoes it (the payout's idempotency key),
    `refund_id` the provider's own id; at least one of them is set."""

    notification_id: str  # the provider's id of this notification: each is applied once
    event: str  # the provider's name for it, as logged: REFUND.SUCCESS, …
    status: RefundStatus | None  # None: a notification that says nothing about the state
    payout_key: str = ""
    refund_id: str = ""
    amount_minor: int | None = None
    currency: str = ""


class NotificationRejected(Exception):
    """A notification that failed verification (bad or missing signature, too old, not
    ours): nothing of it is read or applied."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Acknowledgement:
    """What the provider expects as the answer to its notification."""

    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"


class TokenBucket:
    """Writes per second allowed against one gateway account, per worker process.

    Providers limit requests per account (Stripe: 100 writes a second live, 25 in test
    mode); configure `rate` as that limit divided by the number of worker processes."""

    def __init__(self, rate: float, burst: float | None = None,
                 clock: Any = time.monotonic, sleep: Any = time.sleep):
        if rate <= 0:
            raise ValueError("a rate limit must be positive")
        self.rate, self.capacity = float(rate), float(burst or rate)
        self.tokens, self.clock, self.sleep = self.capacity, clock, sleep
        self.updated = clock()
        self.lock = threading.Lock()

    def _refill(self) -> None:
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait_time(self) -> float:
        """Seconds until a token is free (0 when one is free now), without taking one."""
        with self.lock:
            self._refill()
            return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self, max_wait: float = 1.0) -> None:
        """Take one token, waiting up to `max_wait` seconds; else raise RateLimited."""
        while True:
            with self.lock:
                self._refill()
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                wait = (1 - self.tokens) / self.rate
            if wait > max_wait:
                raise RateLimited("rate_limited", "our own request rate limit for this "
                                  "gateway", retry_after=wait)
            self.sleep(wait)
            max_wait -= wait


class Gateway(ABC):
    """A payment provider account that refunds payouts. Options come from settings
    (REFUNDDESK_GATEWAYS[name]["OPTIONS"])."""

    #: How long after a payment the provider still refunds it to the original route
    #: (None: no limit). Older payments go to the policy's fallback at planning.
    refund_window: timedelta | None = None

    #: How many refunds the provider makes of one payment (None: no limit); a payment
    #: refunded that often already goes to the policy's fallback at planning.
    max_refunds_per_payment: int | None = None

    def __init__(self, name: str, *, rate_per_second: float | None = None,
                 timeout: float = 10.0, refund_window_days: int | None = None,
                 unavailable_methods: list[str] | None = None,
                 max_refunds_per_payment: int | None = None):
        self.name, self.timeout = name, float(timeout)
        self.limiter = TokenBucket(rate_per_second) if rate_per_second else None
        if refund_window_days is not None:
            self.refund_window = timedelta(days=refund_window_days)
        self.unavailable_methods = frozenset(unavailable_methods or ())
        if max_refunds_per_payment is not None:
            self.max_refunds_per_payment = max_refunds_per_payment

    def why_not_original(self, method: str, paid_at: datetime | None, now: datetime,
                         refunds_so_far: int = 0) -> str | None:
        """Why this gateway cannot refund a payment to its original route now (a
        FallbackReason value), or None when it can. `refunds_so_far`: the payment's
        refunds by this route that moved or may move money."""
        if method in self.unavailable_methods:
            return "method_unavailable"
        if (self.refund_window is not None and paid_at is not None
                and now - paid_at > self.refund_window):
            return "too_old"
        if (self.max_refunds_per_payment is not None
                and refunds_so_far >= self.max_refunds_per_payment):
            return "too_many_refunds"
        return None

    def throttle(self) -> None:
        if self.limiter is not None:
            self.limiter.take()

    def configuration_problems(self) -> list[str]:
        """What is wrong with this gateway's options, each in one sentence naming the
        setting (`refunddesk check` lists them). No credentials at all is not a problem:
        the gateway is simply not in use, and its payouts wait."""
        return []

    def read_notification(self, body: bytes, headers: Mapping[str, str]) -> Notification:
        """The verified notification in `body`; NotificationRejected when its signature,
        age or origin does not hold. Checked before anything of the body is parsed."""
        raise NotificationRejected(f"gateway {self.name!r} takes no notifications")

    def takes_notifications(self) -> bool:
        return type(self).read_notification is not Gateway.read_notification

    def acknowledge(self, *, accepted: bool, reason: str = "") -> Acknowledgement:
        """The answer to a notification: accepted (taken, or already known), or not (the
        provider may send it again)."""
        return Acknowledgement(200 if accepted else 400, (b"" if accepted
                                                          else reason.encode()))

    def read_statement(self, data: bytes) -> list[Any] | None:
        """The rows (reconcile.FileRow) of a statement file in the provider's own format,
        or None when this provider's statements are read as RefundDesk's generic CSV.
        Raises reconcile.SettlementFileError, line by line, for a file it cannot read."""
        return None

    @abstractmethod
    def refund(self, request: RefundRequest) -> RefundStatus:
        """Ask for the refund, with `request.idempotency_key`: asking twice for the same
        payout must return the first refund, never make a second one."""

    @abstractmethod
    def fetch(self, request: RefundRequest) -> RefundStatus:
        """What became of a refund already asked for (`request.refund_id` is set)."""
