"""A local stand-in of PayPal's refund endpoints, its webhooks and its settlement report, so
tests drive the real `paypal-server-sdk` over HTTP on 127.0.0.1.

It behaves like PayPal where the adapter depends on it:

- `POST /v1/oauth2/token` with HTTP Basic `client_id:secret` and
  `grant_type=client_credentials` gives a bearer token; every API call needs one (401).
- `POST /v2/payments/captures/{id}/refund` with `PayPal-Request-Id`: the refund made is
  kept for the id; the same id again gets it again and makes no second refund; while the
  first still runs, 409. A refusal is not kept (PayPal does not document whether it
  replays one): the same id is judged again. Refusals as PayPal words them (422 with
  `details[0].issue`). Captures are registered by the test, each with a behaviour
  (BEHAVIOURS).
- `GET /v2/payments/refunds/{id}`.
- `GET /v1/notifications/certs/<name>`: the stand-in's self-signed certificate, whose key
  signs the webhooks `notify()` posts (SHA256withRSA over id|time|webhook id|crc32).

State is open to the tests: `refunds`, `requests_by_key`, `refunds_made_by_key`, `settle()`.
"""

from __future__ import annotations

import base64
import json
import secrets
import string
import threading
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

from tests.payouts.standin_server import StandInServer

CLIENT_ID, CLIENT_SECRET = "standin-client-id", "standin-client-secret"
WEBHOOK_ID = "WH-STANDIN-0001"
CERT_PATH = "/v1/notifications/certs/CERT-360caa42-fca2a594-standin"

# succeed: COMPLETED at once · pending: PENDING until settle() · fail: FAILED at once ·
# fully_refunded / time_limit_exceeded / max_refunds_exceeded / insufficient_funds /
# payee_restricted: PayPal's 422 refusals · in_progress_409_once: the first refund
# request of the capture gets 409 (a previous call still running), nothing made ·
# rate_limited_once: the first refund request of the capture gets 429 ·
# error_500_after_refund: the refund is made and kept for its key, the answer is a 500 ·
# slow: the refund is made, the answer comes `slow_seconds` later (the key counts as in
# flight meanwhile).
BEHAVIOURS = frozenset({
    "succeed", "pending", "fail", "fully_refunded", "time_limit_exceeded",
    "max_refunds_exceeded", "insufficient_funds", "payee_restricted",
    "in_progress_409_once", "rate_limited_once", "error_500_after_refund", "slow"})
REFUSALS = {
    "fully_refunded": ("CAPTURE_FULLY_REFUNDED", "The capture has already been fully "
                       "refunded"),
    "time_limit_exceeded": ("REFUND_TIME_LIMIT_EXCEEDED", "You are over the time limit to "
                            "perform a refund on this capture"),
    "max_refunds_exceeded": ("MAX_NUMBER_OF_REFUNDS_EXCEEDED", "You have exceeded the "
                             "maximum number of refund attempts for this capture."),
    "insufficient_funds": ("REFUND_FAILED_INSUFFICIENT_FUNDS", "Capture could not be "
                           "refunded due to insufficient funds."),
    "payee_restricted": ("PAYEE_ACCOUNT_RESTRICTED", "Payee account is restricted."),
}
WHOLE_UNITS_ONLY = frozenset({"HUF", "JPY", "TWD"})
DIGITS = {"JPY": 0, "HUF": 0, "KRW": 0}
NOT_COUNTING = ("FAILED", "CANCELLED")

Answer = tuple[int, dict[str, Any], dict[str, str]]

_KEYS: dict[str, Any] = {}
_KEYS_LOCK = threading.Lock()


def signing_material() -> tuple[rsa.RSAPrivateKey, bytes]:
    """The stand-in's key and self-signed certificate (PEM), made once per process."""
    with _KEYS_LOCK:
        if not _KEYS:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            name = x509.Name([x509.NameAttribute(
                NameOID.COMMON_NAME, "messageverificationcerts.standin.paypal.test")])
            now = datetime.now(UTC)
            certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                           .public_key(key.public_key())
                           .serial_number(x509.random_serial_number())
                           .not_valid_before(now - timedelta(days=1))
                           .not_valid_after(now + timedelta(days=365))
                           .sign(key, hashes.SHA256()))
            _KEYS.update(key=key, pem=certificate.public_bytes(serialization.Encoding.PEM))
        return _KEYS["key"], _KEYS["pem"]


def sign(key: rsa.RSAPrivateKey, transmission_id: str, transmission_time: str,
         webhook_id: str, body: bytes) -> str:
    message = f"{transmission_id}|{transmission_time}|{webhook_id}|{zlib.crc32(body)}"
    return base64.b64encode(key.sign(message.encode(), padding.PKCS1v15(),
                                     hashes.SHA256())).decode()


def paypal_id(prefix: str = "") -> str:
    alphabet = string.ascii_uppercase + string.digits
    return prefix + "".join(secrets.choice(alphabet) for _ in range(17 - len(prefix)))


def error(status: int, name: str, message: str, issue: str | None = None,
          description: str | None = None, headers: dict[str, str] | None = None) -> Answer:
    body: dict[str, Any] = {"name": name, "message": message,
                            "debug_id": secrets.token_hex(6)}
    if issue:
        body["details"] = [{"issue": issue, "description": description or message}]
    return status, body, headers or {}


def minor(value: str, currency: str) -> int | None:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return None
    digits = DIGITS.get(currency, 2)
    if currency in WHOLE_UNITS_ONLY and amount != amount.to_integral_value():
        return None
    scaled = amount.scaleb(digits)
    return int(scaled) if scaled == scaled.to_integral_value() and amount > 0 else None


@dataclass
class Capture:
    id: str
    amount: int
    currency: str
    behaviour: str
    has_answered_once: bool = False


@dataclass
class Remembered:
    status: int | None = None  # None while the first request still runs
    body: dict[str, Any] | None = None


class PayPalStandIn(StandInServer):
    def __init__(self, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET,
                 webhook_id: str = WEBHOOK_ID, slow_seconds: float = 1.0):
        super().__init__(_Handler, "paypal-standin")
        self.client_id, self.client_secret = client_id, client_secret
        self.webhook_id, self.slow_seconds = webhook_id, slow_seconds
        self.key, self.certificate_pem = signing_material()
        self.tokens: set[str] = set()
        self.captures: dict[str, Capture] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.remembered: dict[str, Remembered] = {}
        self.invoice_ids: set[str] = set()
        self.requests_by_key: Counter[str] = Counter()
        self.refunds_made_by_key: Counter[str] = Counter()
        self.request_count = self.token_requests = self.certificate_requests = 0
        self.changed = threading.Condition()

    # -- the test's side --------------------------------------------------------------

    def add_payment(self, reference: str, amount_minor: int, currency: str = "USD",
                    behaviour: str = "succeed") -> None:
        """A capture PayPal knows, of `amount_minor` (our minor units) in `currency`."""
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r}")
        with self.changed:
            self.captures[reference] = Capture(reference, amount_minor, currency.upper(),
                                               behaviour)

    add_capture = add_payment

    def settle(self, refund_id: str, status: str = "COMPLETED",
               reason: str | None = None) -> None:
        with self.changed:
            refund = self.refunds[refund_id]
            refund["status"] = status
            refund["update_time"] = _now()
            if reason:
                refund["status_details"] = {"reason": reason}
            else:
                refund.pop("status_details", None)
            self.changed.notify_all()

    def refunds_of(self, capture_id: str) -> list[dict[str, Any]]:
        with self.changed:
            return [dict(r) for r in self.refunds.values() if r["capture_id"] == capture_id]

    def refund_for(self, key: str) -> dict[str, Any] | None:
        """The refund made for our request number (PayPal-Request-Id), if any."""
        with self.changed:
            found = [r for r in self.refunds.values() if r["custom_id"] == key]
        return dict(found[0]) if found else None

    def wait_for(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        with self.changed:
            if not self.changed.wait_for(condition, timeout):
                raise TimeoutError("the PayPal stand-in never got there")

    def is_answered(self, key: str) -> bool:
        remembered = self.remembered.get(key)
        return remembered is not None and remembered.status is not None

    @property
    def url(self) -> str:
        return self.address

    @property
    def cert_url(self) -> str:
        return self.url + CERT_PATH

    def gateway_options(self, **changes: Any) -> dict[str, Any]:
        """OPTIONS for settings.REFUNDDESK_GATEWAYS["paypal"] pointing here."""
        return {"client_id": self.client_id, "client_secret": self.client_secret,
                "webhook_id": self.webhook_id, "environment": "sandbox",
                "api_base": self.url, "timeout": 2.0, "rate_per_second": 100.0,
                "refund_window_days": 180,
                "cert_url_prefixes": [self.url + "/v1/notifications/certs/"], **changes}

    def environment(self, directory: Path) -> dict[str, str]:
        """Environment of a `refunddesk worker` (or server) subprocess using the stand-in;
        the secret goes in a file named by PAYPAL_CLIENT_SECRET_FILE."""
        secret = Path(directory) / "paypal-client-secret"
        secret.write_text(self.client_secret, encoding="utf-8")
        return {"PAYPAL_CLIENT_ID": self.client_id,
                "PAYPAL_CLIENT_SECRET_FILE": str(secret),
                "PAYPAL_WEBHOOK_ID": self.webhook_id, "PAYPAL_ENVIRONMENT": "sandbox",
                "PAYPAL_API_BASE": self.url, "PAYPAL_TIMEOUT_SECONDS": "2",
                "PAYPAL_CERT_URL_PREFIXES": self.url + "/v1/notifications/certs/"}

    def signed_notification(self, refund_id: str, event: str = "PAYMENT.CAPTURE.REFUNDED",
                            *, transmission_time: datetime | None = None,
                            event_id: str | None = None, cert_url: str | None = None,
                            webhook_id: str | None = None,
                            resource: dict[str, Any] | None = None
                            ) -> tuple[bytes, dict[str, str]]:
        """The body and headers of PayPal's webhook about a refund, signed."""
        with self.changed:
            refund = dict(resource or self.refunds[refund_id])
        refund.pop("capture_id", None)
        body = json.dumps({
            "id": event_id or "WH-" + paypal_id()[:9] + "-" + paypal_id(),
            "event_version": "1.0", "create_time": _now(), "resource_type": "refund",
            "resource_version": "2.0", "event_type": event,
            "summary": f"A {refund['amount']['value']} {refund['amount']['currency_code']} "
                       "capture payment was refunded",
            "resource": refund,
        }).encode()
        moment = (transmission_time or datetime.now(UTC)).astimezone(UTC)
        sent = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
        transmission_id = secrets.token_hex(16)
        signature = sign(self.key, transmission_id, sent, webhook_id or self.webhook_id, body)
        return body, {
            "Content-Type": "application/json",
            "PAYPAL-TRANSMISSION-ID": transmission_id, "PAYPAL-TRANSMISSION-TIME": sent,
            "PAYPAL-TRANSMISSION-SIG": signature, "PAYPAL-AUTH-ALGO": "SHA256withRSA",
            "PAYPAL-CERT-URL": cert_url or self.cert_url}

    def notify(self, base_url: str, refund_id: str,
               event: str = "PAYMENT.CAPTURE.REFUNDED", **options: Any) -> int:
        """Post a signed webhook about `refund_id` to RefundDesk at `base_url` (loopback);
        RefundDesk's HTTP status."""
        if urlsplit(base_url).hostname not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("the stand-in only notifies RefundDesk on this machine")
        body, headers = self.signed_notification(refund_id, event, **options)
        answer = requests.post(base_url.rstrip("/") + "/gateways/paypal/notify", data=body,
                               headers=headers, timeout=5)
        return answer.status_code

    def settlement_report(self, refund_ids: list[str] | None = None,
                          day: datetime | None = None) -> bytes:
        """PayPal's settlement report (STL, CSV) listing the completed refunds."""
        from tests.payouts.paypal_reports import settlement_report

        with self.changed:
            refunds = [dict(r) for r in self.refunds.values()
                       if (refund_ids is None or r["id"] in refund_ids)
                       and r["status"] == "COMPLETED"]
        return settlement_report(refunds, day=day)


    # -- PayPal's side ----------------------------------------------------------------

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> Answer | bytes:
        with self.changed:
            self.request_count += 1
            self.changed.notify_all()
        url = urlsplit(path)
        if method == "GET" and url.path == CERT_PATH:
            with self.changed:
                self.certificate_requests += 1
            return self.certificate_pem
        if method == "POST" and url.path == "/v1/oauth2/token":
            return self._token(headers, body.decode())
        authorization = headers.get("Authorization") or ""
        if not (authorization.startswith("Bearer ")
                and authorization[7:] in self.tokens):
            return error(401, "AUTHENTICATION_FAILURE", "Authentication failed due to "
                         "invalid authentication credentials or a missing Authorization "
                         "header.")
        parts = url.path.strip("/").split("/")
        if (method == "POST" and len(parts) == 5 and parts[:3] == ["v2", "payments",
                                                                    "captures"]
                and parts[4] == "refund"):
            return self._refund(parts[3], headers.get("PayPal-Request-Id") or "", body)
        if method == "GET" and len(parts) == 4 and parts[:3] == ["v2", "payments", "refunds"]:
            with self.changed:
                refund = self.refunds.get(parts[3])
                if refund is None:
                    return error(404, "RESOURCE_NOT_FOUND", "The specified resource does "
                                 "not exist.", "INVALID_RESOURCE_ID", "Specified resource "
                                 "ID does not exist. Please check the resource ID and try "
                                 "again.")
                return 200, _public(refund), {}
        return error(404, "NOT_FOUND", f"No such endpoint: {method} {url.path}")

    def _token(self, headers: Any, form: str) -> Answer:
        with self.changed:
            self.token_requests += 1
        expected = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode())
        params = dict(parse_qsl(form))
        if (headers.get("Authorization") or "") != "Basic " + expected.decode():
            return 401, {"error": "invalid_client",
                         "error_description": "Client Authentication failed"}, {}
        if params.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type",
                         "error_description": "Grant Type is NULL"}, {}
        token = "A21AA" + secrets.token_urlsafe(24)
        with self.changed:
            self.tokens.add(token)
        return 200, {"scope": "https://uri.paypal.com/services/payments/refund",
                     "access_token": token, "token_type": "Bearer",
                     "app_id": "APP-STANDIN", "expires_in": 32400,
                     "nonce": secrets.token_hex(8)}, {}

    def _refund(self, capture_id: str, key: str, raw: bytes) -> Answer:
        try:
            params = json.loads(raw or b"{}")
        except ValueError:
            return error(400, "INVALID_REQUEST", "Request is not well-formed, syntactically "
                         "incorrect, or violates schema.", "MALFORMED_REQUEST_JSON")
        with self.changed:
            if key:
                self.requests_by_key[key] += 1
                self.changed.notify_all()
            capture = self.captures.get(capture_id)
            if capture is not None and not capture.has_answered_once and \
                    capture.behaviour in ("in_progress_409_once", "rate_limited_once"):
                capture.has_answered_once = True
                if capture.behaviour == "rate_limited_once":
                    return error(429, "RATE_LIMIT_REACHED", "Too many requests. Blocked due "
                                 "to rate limiting.")
                return error(409, "RESOURCE_CONFLICT", "The server has detected a conflict "
                             "while processing this request.", "PREVIOUS_REQUEST_IN_PROGRESS",
                             "A previous request on this resource is currently in progress.")
            remembered = self.remembered.get(key) if key else None
            if remembered is not None:
                if remembered.status is None:
                    return error(409, "RESOURCE_CONFLICT", "The server has detected a "
                                 "conflict while processing this request.",
                                 "PREVIOUS_REQUEST_IN_PROGRESS", "A previous request on "
                                 "this resource is currently in progress.")
                assert remembered.body is not None
                body = remembered.body
                if body.get("id") in self.refunds:  # the refund as it is now
                    body = _public(self.refunds[body["id"]])
                return remembered.status, body, {}
            if key:
                remembered = self.remembered[key] = Remembered()
            status, body = self._execute(capture, capture_id, params, key)
            behaviour = capture.behaviour if capture is not None and status < 300 else ""
            if status >= 400 and key:
                # A refusal is judged again next time (after finance topped up the
                # account, say): only a refund made is answered again for its key.
                del self.remembered[key]
                remembered = None
            if remembered is not None and behaviour != "slow":
                remembered.status, remembered.body = status, body
                self.changed.notify_all()
        if behaviour == "slow":
            self.stopping.wait(self.slow_seconds)
            with self.changed:
                if remembered is not None:
                    remembered.status, remembered.body = status, body
                self.changed.notify_all()
        if behaviour == "error_500_after_refund":
            return error(500, "INTERNAL_SERVER_ERROR", "An internal server error has "
                         "occurred.")
        return status, body, {}

    def _execute(self, capture: Capture | None, capture_id: str, params: dict[str, Any],
                 key: str) -> tuple[int, dict[str, Any]]:
        if capture is None:
            _, body, _ = error(404, "RESOURCE_NOT_FOUND", "The specified resource does not "
                               "exist.", "INVALID_RESOURCE_ID", "Specified resource ID does "
                               "not exist. Please check the resource ID and try again.")
            return 404, body
        if capture.behaviour in REFUSALS:
            issue, description = REFUSALS[capture.behaviour]
            return 422, error(422, "UNPROCESSABLE_ENTITY", "The requested action could not "
                              "be performed, semantically incorrect, or failed business "
                              "validation.", issue, description)[1]
        amount = params.get("amount") or {}
        currency = str(amount.get("currency_code") or "")
        value = minor(str(amount.get("value") or ""), currency)
        unprocessable = "The requested action could not be performed, semantically " \
                        "incorrect, or failed business validation."
        if currency != capture.currency:
            return 422, error(422, "UNPROCESSABLE_ENTITY", unprocessable,
                              "REFUND_CAPTURE_CURRENCY_MISMATCH", "Refund must be in the "
                              "same currency as the capture")[1]
        if value is None:
            return 422, error(422, "UNPROCESSABLE_ENTITY", unprocessable,
                              "DECIMALS_NOT_SUPPORTED" if currency in WHOLE_UNITS_ONLY
                              else "DECIMAL_PRECISION", "The value is not valid.")[1]
        invoice = str(params.get("invoice_id") or "")
        if invoice and invoice in self.invoice_ids:
            return 422, error(422, "UNPROCESSABLE_ENTITY", unprocessable,
                              "DUPLICATE_INVOICE_ID", "Invoice ID was previously used to "
                              "refund a capture.")[1]
        left = capture.amount - sum(r["minor"] for r in self.refunds.values()
                                    if r["capture_id"] == capture.id
                                    and r["status"] not in NOT_COUNTING)
        if left <= 0:
            return 422, error(422, "UNPROCESSABLE_ENTITY", unprocessable,
                              "CAPTURE_FULLY_REFUNDED", "The capture has already been "
                              "fully refunded")[1]
        if value > left:
            return 422, error(422, "UNPROCESSABLE_ENTITY", unprocessable,
                              "REFUND_AMOUNT_EXCEEDED", "The refund amount must be less "
                              "than or equal to the capture amount that has not yet been "
                              "refunded.")[1]
        status = {"pending": "PENDING", "fail": "FAILED"}.get(capture.behaviour, "COMPLETED")
        refund_id = paypal_id()
        refund: dict[str, Any] = {
            "id": refund_id, "amount": {"currency_code": currency,
                                        "value": str(amount.get("value"))},
            "invoice_id": invoice, "custom_id": str(params.get("custom_id") or ""),
            "note_to_payer": str(params.get("note_to_payer") or ""), "status": status,
            "create_time": _now(), "update_time": _now(), "capture_id": capture.id,
            "minor": value,
            "links": [{"href": f"{self.url}/v2/payments/refunds/{refund_id}",
                       "rel": "self", "method": "GET"},
                      {"href": f"{self.url}/v2/payments/captures/{capture.id}",
                       "rel": "up", "method": "GET"}],
        }
        if status == "PENDING":
            refund["status_details"] = {"reason": "ECHECK"}
        if status == "FAILED":
            refund["status_details"] = {"reason": "BUYER_ACCOUNT_CLOSED"}
        self.refunds[refund_id] = refund
        if invoice:
            self.invoice_ids.add(invoice)
        if key:
            self.refunds_made_by_key[key] += 1
        return 201, _public(refund)


def _public(refund: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in refund.items() if name not in ("capture_id",
                                                                          "minor")}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")



class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def _answer(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        standin: PayPalStandIn = self.server.standin  # type: ignore[attr-defined]
        answer = standin.handle(method, self.path, self.headers, body)
        if isinstance(answer, bytes):
            status, data, headers = 200, answer, {"Content-Type": "application/x-pem-file"}
        else:
            status, payload, headers = answer
            data = json.dumps(payload).encode()
            headers = {"Content-Type": "application/json", **headers}
        try:
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Paypal-Debug-Id", secrets.token_hex(6))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out: as at PayPal, the refund stands all the same

    def log_message(self, format: str, *args: Any) -> None:
        pass
