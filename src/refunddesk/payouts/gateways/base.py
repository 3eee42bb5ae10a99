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
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
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


@dataclass(frozen=True)
class RefundStatus:
    """What the provider says about one refund. `state` is one of ours (PayoutState
    values): submitted while the provider still works on it."""

    state: str
    refund_id: str
    error_code: str = ""
    error_message: str = ""
    settled_at: datetime | None = None


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

    def __init__(self, name: str, *, rate_per_second: float | None = None,
                 timeout: float = 10.0, refund_window_days: int | None = None,
                 unavailable_methods: list[str] | None = None):
        self.name, self.timeout = name, float(timeout)
        self.limiter = TokenBucket(rate_per_second) if rate_per_second else None
        if refund_window_days is not None:
            self.refund_window = timedelta(days=refund_window_days)
        self.unavailable_methods = frozenset(unavailable_methods or ())

    def why_not_original(self, method: str, paid_at: datetime | None, now: datetime
                         ) -> str | None:
        """Why this gateway cannot refund a payment to its original route now (a
        FallbackReason value), or None when it can."""
        if method in self.unavailable_methods:
            return "method_unavailable"
        if (self.refund_window is not None and paid_at is not None
                and now - paid_at > self.refund_window):
            return "too_old"
        return None

    def throttle(self) -> None:
        if self.limiter is not None:
            self.limiter.take()

    @abstractmethod
    def refund(self, request: RefundRequest) -> RefundStatus:
        """Ask for the refund, with `request.idempotency_key`: asking twice for the same
        payout must return the first refund, never make a second one."""

    @abstractmethod
    def fetch(self, request: RefundRequest) -> RefundStatus:
        """What became of a refund already asked for (`request.refund_id` is set)."""
