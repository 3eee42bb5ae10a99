"""A local stand-in of Stripe's refund endpoints, so tests drive the real SDK over HTTP.

It runs in a thread (ThreadingHTTPServer on 127.0.0.1, a free port) and behaves like Stripe
where the adapter depends on it:

- `Authorization: Bearer <api_key>` or 401. The key check, the rate limiter and parameter
  validation run before the idempotency layer, so their answers are not remembered.
- `Idempotency-Key`: once a request starts executing, its answer is kept for the key. The
  same key with the same parameters gets that answer again, with `Idempotent-Replayed: true`;
  with other parameters, 400 `idempotency_error`; while the first request still runs, 409.
- Charges are registered by the test, each with a scripted behaviour (BEHAVIOURS).
- Refusals: a charge it does not know, 400 `resource_missing`; a charge with nothing left,
  400 `charge_already_refunded`; more than is left, 400 on `amount` with no code (as Stripe).

State is open to the tests: `refunds`, `requests_by_key`, `replays_by_key`, `settle()`.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.payouts.standin_server import StandInServer

API_KEY = "sk_test_standin"

# succeed: the refund succeeds at once · pending: pending until settle() · fail: failed at
# once (expired_or_canceled_card) · requires_action · rate_limit_once: the first create
# gets 429 with Retry-After: 1 · error_500_after_create: the refund is made and kept for
# its key, but the answer is a 500 (an answer lost on its way back) · slow: the refund is
# made, the answer comes `slow_seconds` later (the key counts as in flight meanwhile).
BEHAVIOURS = frozenset({"succeed", "pending", "fail", "requires_action", "rate_limit_once",
                        "error_500_after_create", "slow"})
INITIAL_STATUS = {"pending": "pending", "fail": "failed", "requires_action": "requires_action"}
NOT_COUNTING = ("failed", "canceled")  # refund statuses whose money went back to the charge

Answer = tuple[int, dict[str, Any], dict[str, str]]


@dataclass
class Charge:
    id: str
    amount: int
    currency: str
    behaviour: str
    payment_intent: str | None
    has_been_rate_limited: bool = False


@dataclass
class Remembered:
    """What the idempotency layer keeps for one key; status None while still running."""

    params: dict[str, Any]
    status: int | None = None
    body: dict[str, Any] | None = None


def error(status: int, type_: str, message: str, code: str | None = None,
          param: str | None = None, headers: dict[str, str] | None = None) -> Answer:
    body: dict[str, Any] = {"type": type_, "message": message}
    if code:
        body["code"] = code
    if param:
        body["param"] = param
    return status, {"error": body}, headers or {}


def form(text: str) -> dict[str, Any]:
    """The SDK's form encoding back into a dict: `metadata[k]=v` becomes a nested dict."""
    params: dict[str, Any] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        if key.endswith("]") and "[" in key:
            outer, inner = key[:-1].split("[", 1)
            params.setdefault(outer, {})[inner] = value
        else:
            params[key] = value
    return params


class StripeStandIn(StandInServer):
    def __init__(self, api_key: str = API_KEY, slow_seconds: float = 1.0):
        super().__init__(_Handler, "stripe-standin")
        self.api_key, self.slow_seconds = api_key, slow_seconds
        self.charges: dict[str, Charge] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.remembered: dict[str, Remembered] = {}
        self.requests_by_key: Counter[str] = Counter()
        self.replays_by_key: Counter[str] = Counter()
        self.request_count = 0
        self.changed = threading.Condition()

    # -- the test's side --------------------------------------------------------------

    def add_charge(self, charge_id: str, amount: int, currency: str = "usd",
                   behaviour: str = "succeed", payment_intent: str | None = None) -> None:
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r}")
        with self.changed:
            self.charges[charge_id] = Charge(charge_id, amount, currency.lower(), behaviour,
                                             payment_intent)

    def settle(self, refund_id: str, status: str, failure_reason: str | None = None) -> None:
        with self.changed:
            refund = self.refunds[refund_id]
            refund["status"], refund["failure_reason"] = status, failure_reason
            self.changed.notify_all()

    def refunds_of(self, charge_id: str) -> list[dict[str, Any]]:
        with self.changed:
            return [dict(r) for r in self.refunds.values() if r["charge"] == charge_id]

    def wait_for(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until `condition()` holds (checked under the lock), for tests that race a
        request against another."""
        with self.changed:
            if not self.changed.wait_for(condition, timeout):
                raise TimeoutError("the Stripe stand-in never got there")

    def is_answered(self, key: str) -> bool:
        remembered = self.remembered.get(key)
        return remembered is not None and remembered.status is not None

    @property
    def url(self) -> str:
        return self.address


    # -- Stripe's side ----------------------------------------------------------------

    def handle(self, method: str, path: str, headers: Any, body: str) -> Answer:
        with self.changed:
            self.request_count += 1
            self.changed.notify_all()
        authorization = headers.get("Authorization") or ""
        if authorization != f"Bearer {self.api_key}":
            return error(401, "invalid_request_error",
                         "Invalid API Key provided: " + authorization[7:15] + "****")
        url = urlsplit(path)
        if method == "POST" and url.path == "/v1/refunds":
            return self._create(headers.get("Idempotency-Key") or "", form(body))
        if method == "GET" and url.path == "/v1/refunds":
            return self._list(form(url.query))
        if method == "GET" and url.path.startswith("/v1/refunds/"):
            refund_id = url.path.rsplit("/", 1)[1]
            with self.changed:
                refund = self.refunds.get(refund_id)
                if refund is None:
                    return error(404, "invalid_request_error",
                                 f"No such refund: '{refund_id}'", "resource_missing", "id")
                return 200, dict(refund), {}
        return error(404, "invalid_request_error", f"Unrecognized request URL ({method}: "
                     f"{url.path}).")

    def _create(self, key: str, params: dict[str, Any]) -> Answer:
        with self.changed:
            if key:
                self.requests_by_key[key] += 1
                self.changed.notify_all()
            charge = self._charge_of(params)
            # Stripe's rate limiter runs before its idempotency layer.
            if (charge is not None and charge.behaviour == "rate_limit_once"
                    and not charge.has_been_rate_limited):
                charge.has_been_rate_limited = True
                return error(429, "invalid_request_error", "Too many requests hit the API too "
                             "quickly.", "rate_limit", headers={"Retry-After": "1"})
            refused = self._invalid(params)
            if refused is not None:
                return refused
            remembered = self.remembered.get(key) if key else None
            if remembered is not None:
                return self._replay(key, remembered, params)
            if key:
                remembered = self.remembered[key] = Remembered(params)
            status, body = self._execute(charge, params)
            behaviour = charge.behaviour if charge is not None and status == 200 else ""
            if remembered is not None and behaviour != "slow":
                remembered.status, remembered.body = status, body
                self.changed.notify_all()
        if behaviour == "slow":
            self.stopping.wait(self.slow_seconds)
            with self.changed:
                if remembered is not None:
                    remembered.status, remembered.body = status, body
                self.changed.notify_all()
        if behaviour == "error_500_after_create":
            return error(500, "api_error", "An unknown error occurred")
        return status, body, {}

    def _charge_of(self, params: dict[str, Any]) -> Charge | None:
        if "payment_intent" in params:
            return next((c for c in self.charges.values()
                         if c.payment_intent == params["payment_intent"]), None)
        return self.charges.get(params.get("charge", ""))

    def _invalid(self, params: dict[str, Any]) -> Answer | None:
        if ("charge" in params) == ("payment_intent" in params):
            return error(400, "invalid_request_error", "One of `charge` or `payment_intent` "
                         "is required.", "parameter_missing")
        amount = params.get("amount")
        if amount is not None and (not amount.isdigit() or int(amount) < 1):
            return error(400, "invalid_request_error", "Invalid positive integer",
                         "parameter_invalid_integer", "amount")
        return None

    def _replay(self, key: str, remembered: Remembered, params: dict[str, Any]) -> Answer:
        if remembered.params != params:
            return error(400, "idempotency_error", "Keys for idempotent requests can only be "
                         "used with the same parameters they were first used with. Try using "
                         f"a key other than '{key}' if you meant to execute a different "
                         "request.")
        if remembered.status is None:
            return error(409, "idempotency_error", "There is currently another in-progress "
                         f"request using this Idempotent Key: '{key}'.",
                         "idempotency_key_in_use")
        self.replays_by_key[key] += 1
        assert remembered.body is not None
        return remembered.status, remembered.body, {"Idempotent-Replayed": "true"}

    def _execute(self, charge: Charge | None, params: dict[str, Any]
                 ) -> tuple[int, dict[str, Any]]:
        if charge is None:
            name = "payment_intent" if "payment_intent" in params else "charge"
            _, body, _ = error(400, "invalid_request_error",
                               f"No such {name}: '{params[name]}'", "resource_missing", name)
            return 400, body
        left = charge.amount - sum(r["amount"] for r in self.refunds.values()
                                   if r["charge"] == charge.id
                                   and r["status"] not in NOT_COUNTING)
        amount = int(params["amount"]) if "amount" in params else left
        if left <= 0:
            _, body, _ = error(400, "invalid_request_error",
                               f"Charge {charge.id} has already been refunded.",
                               "charge_already_refunded", "charge")
            return 400, body
        if amount > left:
            _, body, _ = error(400, "invalid_request_error",
                               f"Refund amount ({amount} {charge.currency}) is greater than "
                               f"unrefunded amount on charge ({left} {charge.currency})",
                               param="amount")
            return 400, body
        status = INITIAL_STATUS.get(charge.behaviour, "succeeded")
        refund = {
            "id": "re_" + secrets.token_hex(12), "object": "refund", "amount": amount,
            "balance_transaction": None, "charge": charge.id, "created": int(time.time()),
            "currency": charge.currency,
            "failure_reason": "expired_or_canceled_card" if status == "failed" else None,
            "metadata": params.get("metadata", {}), "payment_intent": charge.payment_intent,
            "reason": params.get("reason"), "receipt_number": None, "status": status,
        }
        self.refunds[refund["id"]] = refund
        return 200, dict(refund)

    def _list(self, query: dict[str, Any]) -> Answer:
        with self.changed:
            found = [dict(r) for r in reversed(self.refunds.values())
                     if all(r.get(name) == query[name] for name in ("charge", "payment_intent")
                            if name in query)]
        limit = int(query.get("limit") or 10)
        return 200, {"object": "list", "data": found[:limit], "has_more": len(found) > limit,
                     "url": "/v1/refunds"}, {}



class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def _answer(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        standin: StripeStandIn = self.server.standin  # type: ignore[attr-defined]
        status, payload, headers = standin.handle(method, self.path, self.headers, body)
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", "req_" + secrets.token_hex(7))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out: as at Stripe, the refund stands all the same

    def log_message(self, format: str, *args: Any) -> None:
        pass
