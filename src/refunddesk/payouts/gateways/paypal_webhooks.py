"""PayPal's webhooks, verified here rather than by asking PayPal (its "verify webhook
signature" call would make every notification depend on a second round trip, and the
server SDK has no webhook support).

PayPal signs `<transmission id>|<transmission time>|<webhook id>|<CRC32 of the raw body,
decimal>` with SHA256withRSA; the certificate's URL comes in the PAYPAL-CERT-URL header.
That header is the sender's word, so the certificate is fetched only from PayPal's own
certificate addresses (https, api.paypal.com or api.sandbox.paypal.com, under
/v1/notifications/certs/), and kept by URL: TLS to PayPal's host is what makes the key
PayPal's. The webhook id is ours (set when the webhook was created in PayPal's dashboard):
a notification signed for another webhook does not verify. A transmission time far from
our clock is a replay and is refused; one repeated within the tolerance is recognised by
its event id (notices.py).
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
import zlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from refunddesk.payouts.gateways.base import Notification, NotificationRejected
from refunddesk.payouts.gateways.paypal_refunds import minor_of, status_of

CERT_URL_PREFIXES = ("https://api.paypal.com/v1/notifications/certs/",
                     "https://api.sandbox.paypal.com/v1/notifications/certs/")
ALGORITHM = "SHA256withRSA"
MAX_CERTIFICATE_BYTES = 64 * 1024
CACHE_SIZE = 32

# Events about a refund we asked for; the resource is the refund itself.
REFUND_EVENTS = frozenset({"PAYMENT.CAPTURE.REFUNDED"})
# Events whose resource is a refund, but not one we ask for (PayPal takes money back
# after a dispute): verified and taken, matched to no payout unless it carries our key.
OTHER_REFUND_EVENTS = frozenset({"PAYMENT.CAPTURE.REVERSED"})

Fetcher = Callable[[str, float], bytes]


def fetch_over_https(url: str, timeout: float) -> bytes:
    """The certificate at `url`, at most MAX_CERTIFICATE_BYTES."""
    response = requests.get(url, timeout=timeout, stream=True, allow_redirects=False)
    try:
        response.raise_for_status()
        data = response.raw.read(MAX_CERTIFICATE_BYTES + 1, decode_content=True)
    finally:
        response.close()
    if len(data) > MAX_CERTIFICATE_BYTES:
        raise ValueError("the certificate is too large")
    return data


class CertificateCache:
    """PayPal's signing certificates by URL, fetched only from the allowed prefixes."""

    def __init__(self, allowed_prefixes: list[str] | tuple[str, ...] | None = None,
                 fetcher: Fetcher | None = None, timeout: float = 10.0):
        self.allowed = [urlsplit(prefix) for prefix in (allowed_prefixes or
                                                        CERT_URL_PREFIXES)]
        self.fetcher = fetcher or fetch_over_https
        self.timeout = timeout
        self.keys: dict[str, tuple[rsa.RSAPublicKey, datetime, datetime]] = {}
        self.lock = threading.Lock()

    def is_allowed(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return False
        if parts.username or parts.password or parts.query or parts.fragment:
            return False
        if ".." in parts.path or "//" in parts.path or "\\" in url:
            return False
        for prefix in self.allowed:
            if (parts.scheme == prefix.scheme and parts.hostname == prefix.hostname
                    and port == prefix.port and parts.path.startswith(prefix.path)
                    and len(parts.path) > len(prefix.path)):
                return True
        return False

    def key_for(self, url: str, now: datetime) -> rsa.RSAPublicKey:
        if not self.is_allowed(url):
            raise NotificationRejected(f"the certificate URL {url[:200]!r} is not one of "
                                       "PayPal's")
        with self.lock:
            known = self.keys.get(url)
        if known is None:
            try:
                data = self.fetcher(url, self.timeout)
                certificate = x509.load_pem_x509_certificate(data)
            except (requests.RequestException, ValueError) as error:
                raise NotificationRejected(f"PayPal's certificate could not be had: "
                                           f"{error}") from None
            key = certificate.public_key()
            if not isinstance(key, rsa.RSAPublicKey):
                raise NotificationRejected("PayPal's certificate has no RSA key")
            known = (key, certificate.not_valid_before_utc, certificate.not_valid_after_utc)
            with self.lock:
                if len(self.keys) >= CACHE_SIZE:
                    self.keys.pop(next(iter(self.keys)))
                self.keys[url] = known
        key, not_before, not_after = known
        if not not_before <= now <= not_after:
            raise NotificationRejected("PayPal's certificate is not valid at this time")
        return key


class WebhookVerifier:
    def __init__(self, webhook_id: str, *, allowed_prefixes: list[str] | None = None,
                 fetcher: Fetcher | None = None, timeout: float = 10.0,
                 tolerance_seconds: float = 300.0,
                 clock: Callable[[], datetime] | None = None):
        self.webhook_id = webhook_id
        self.certificates = CertificateCache(allowed_prefixes, fetcher, timeout)
        self.tolerance = float(tolerance_seconds)
        self.clock = clock or (lambda: datetime.now(UTC))

    def read(self, body: bytes, headers: Mapping[str, str]) -> Notification:
        self.verify(body, headers)
        return notification_of(body)

    def verify(self, body: bytes, headers: Mapping[str, str]) -> None:
        if not self.webhook_id:
            raise NotificationRejected("no PayPal webhook id is configured")
        values = {name: (headers.get(name) or "").strip() for name in (
            "PAYPAL-TRANSMISSION-ID", "PAYPAL-TRANSMISSION-TIME", "PAYPAL-TRANSMISSION-SIG",
            "PAYPAL-CERT-URL", "PAYPAL-AUTH-ALGO")}
        missing = [name for name, value in values.items() if not value]
        if missing:
            raise NotificationRejected(f"missing header(s): {', '.join(missing)}")
        if values["PAYPAL-AUTH-ALGO"] != ALGORITHM:
            raise NotificationRejected(f"unknown signature algorithm "
                                       f"{values['PAYPAL-AUTH-ALGO'][:40]!r}")
        sent = _time(values["PAYPAL-TRANSMISSION-TIME"])
        if sent is None:
            raise NotificationRejected("the transmission time is not a time")
        now = self.clock()
        if abs((now - sent).total_seconds()) > self.tolerance:
            raise NotificationRejected(f"sent at {sent.isoformat()}, too far from now: "
                                       "a replay or a wrong clock")
        try:
            signature = base64.b64decode(values["PAYPAL-TRANSMISSION-SIG"], validate=True)
        except (binascii.Error, ValueError):
            raise NotificationRejected("the signature is not base64") from None
        key = self.certificates.key_for(values["PAYPAL-CERT-URL"], now)
        message = "|".join((values["PAYPAL-TRANSMISSION-ID"],
                            values["PAYPAL-TRANSMISSION-TIME"], self.webhook_id,
                            str(zlib.crc32(body)))).encode()
        try:
            key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise NotificationRejected("the signature does not verify") from None


def notification_of(body: bytes) -> Notification:
    """The verified event in our words."""
    try:
        event = json.loads(body)
    except ValueError:
        raise NotificationRejected("the body is not JSON") from None
    if not isinstance(event, dict) or not event.get("id") or not event.get("event_type"):
        raise NotificationRejected("the body is not a PayPal event")
    event_type = str(event["event_type"])
    found = event.get("resource")
    resource: dict[str, Any] = found if isinstance(found, dict) else {}
    if event_type not in REFUND_EVENTS | OTHER_REFUND_EVENTS:
        # Verified, but nothing to do with our refunds: taken, so PayPal stops sending it.
        return Notification(str(event["id"]), event_type, None)
    key = str(resource.get("custom_id") or resource.get("invoice_id") or "")
    amount, currency = minor_of(resource.get("amount"))
    return Notification(
        notification_id=str(event["id"]), event=event_type,
        status=status_of(resource) if event_type in REFUND_EVENTS else None,
        payout_key=key if key.startswith("refunddesk-payout-") else "",
        refund_id=str(resource.get("id") or ""), amount_minor=amount, currency=currency)


def _time(text: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.utcoffset() is not None else None

