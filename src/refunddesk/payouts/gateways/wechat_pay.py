"""The WeChat Pay gateway: refunds through WeChat Pay API v3 (docs/payouts.md#wechat-pay).

Our payout's idempotency key is WeChat Pay's `out_refund_no`: "one refund number, one
refund, however often it is asked for", so a payout sent again after a lost answer gets
the refund made the first time. A refund WeChat Pay closed (CLOSED) needs a new number:
finance's retry makes a new payout, hence a new number.

Requests and answers go through our own signing client (wechat_pay_client.py), because
`wechatpayv3` cannot be pointed at another host without a private attribute. Its public
`WeChatPay.callback` checks and decrypts the refund notifications; we check first what it
does not (the key id, the signature type, the age), so it never has to look for a platform
certificate on the internet.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from wechatpayv3 import WeChatPay
from wechatpayv3.type import WeChatPayType

from refunddesk.payouts.gateways.base import (
    Acknowledgement,
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
from refunddesk.payouts.gateways.wechat_pay_client import (
    SCHEME,
    Answer,
    NoAnswer,
    Unreachable,
    Unverified,
    WeChatPayClient,
    load_private_key,
    load_public_key,
)

log = logging.getLogger(__name__)

NOT_CONFIGURED = "gateway_not_configured"
REFUNDS = "/v3/refund/domestic/refunds"
# A WeChat Pay order number (transaction_id) is 28 digits; anything else we hold as the
# payment's reference is the merchant's own order number (out_trade_no).
TRANSACTION_ID = re.compile(r"\d{28}")
# WeChat Pay's notifications are signed at sending; older ones are replays.
MAX_NOTIFICATION_AGE = 300
# FREQUENCY_LIMITED carries no Retry-After; WeChat Pay asks to "lower the frequency".
FREQUENCY_LIMITED_WAIT = 60.0

# WeChat Pay's refund status → our PayoutState values.
STATES = {
    "SUCCESS": "succeeded",
    "PROCESSING": "submitted",
    # The buyer's card or account cannot take the money; finance hands it over in WeChat
    # Pay's merchant platform (to another card, or back to the merchant). Not final.
    "ABNORMAL": "requires_action",
    "CLOSED": "failed",
}
EVENTS = {"REFUND.SUCCESS": "SUCCESS", "REFUND.ABNORMAL": "ABNORMAL",
          "REFUND.CLOSED": "CLOSED"}
ERROR_MESSAGES = {
    "ABNORMAL": "WeChat Pay could not return the money to the buyer's card or account; "
                "hand it over in WeChat Pay's merchant platform (退款异常).",
    "CLOSED": "WeChat Pay closed the refund; a retry is sent under a new refund number.",
}
# WeChat Pay's v3 refund API has no code of its own for "the payment is past the refund
# period" (API v2 had TRADE_OVERDUE): it answers INVALID_REQUEST with a message saying so.
TOO_OLD_CODES = frozenset({"TRADE_OVERDUE"})
TOO_OLD_WORDS = ("超过一年", "退款期限", "可退款的最大期限", "一年内")


class WeChatPayGateway(Gateway):
    def __init__(self, name: str, *, mchid: str = "", appid: str = "", private_key: str = "",
                 cert_serial_no: str = "", apiv3_key: str = "", public_key: str = "",
                 public_key_id: str = "", api_base: str = "https://api.mch.weixin.qq.com",
                 notify_url: str = "", timeout: float = 10.0,
                 rate_per_second: float | None = None, refund_window_days: int | None = 365,
                 unavailable_methods: list[str] | None = None,
                 max_refunds_per_payment: int | None = None):
        super().__init__(name, rate_per_second=rate_per_second, timeout=timeout,
                         refund_window_days=refund_window_days,
                         unavailable_methods=unavailable_methods,
                         max_refunds_per_payment=max_refunds_per_payment)
        self.mchid, self.notify_url, self.public_key_id = mchid, notify_url, public_key_id
        credentials = {"WECHATPAY_MCHID": mchid, "WECHATPAY_PRIVATE_KEY": private_key,
                       "WECHATPAY_CERT_SERIAL_NO": cert_serial_no,
                       "WECHATPAY_APIV3_KEY": apiv3_key, "WECHATPAY_PUBLIC_KEY": public_key,
                       "WECHATPAY_PUBLIC_KEY_ID": public_key_id}
        given = [setting for setting, value in credentials.items() if value]
        self.problems = ([f"{', '.join(sorted(set(credentials) - set(given)))} not set, "
                          f"though {', '.join(given)} is"]
                         if given and len(given) < len(credentials) else [])
        self.client: WeChatPayClient | None = None
        self.notices: WeChatPay | None = None
        # A key that does not load leaves the gateway unconfigured (payouts wait, the log
        # says why) rather than breaking every other gateway of the process.
        try:
            wechat_key = load_public_key(public_key) if public_key else None
            if wechat_key and mchid and private_key and cert_serial_no and public_key_id:
                self.client = WeChatPayClient(
                    mchid=mchid, cert_serial_no=cert_serial_no,
                    private_key=load_private_key(private_key), public_key=wechat_key,
                    public_key_id=public_key_id, api_base=api_base, timeout=self.timeout)
            if wechat_key and public_key_id and apiv3_key:
                # Public-key mode: constructed with WeChat Pay's public key and its id, the
                # SDK fetches no platform certificate.
                self.notices = WeChatPay(
                    wechatpay_type=WeChatPayType.NATIVE, mchid=mchid, private_key=None,
                    cert_serial_no=cert_serial_no, appid=appid, apiv3_key=apiv3_key,
                    public_key=public_key, public_key_id=public_key_id,
                    timeout=self.timeout)
        except Exception as error:  # the SDK raises bare Exceptions for unreadable keys
            log.error("gateway %s: its WeChat Pay keys cannot be read (%s); payouts wait "
                      "until they are fixed", name, error)
            self.client = self.notices = None
            self.problems.append(f"its keys cannot be read: {error}")

    def configuration_problems(self) -> list[str]:
        return list(self.problems)

    # -- refunds ------------------------------------------------------------------------

    def _client(self) -> WeChatPayClient:
        if self.client is None:
            raise RetryableError(NOT_CONFIGURED, f"gateway {self.name!r} has no WeChat Pay "
                                 "merchant id, API key or WeChat Pay public key")
        return self.client

    def refund(self, request: RefundRequest) -> RefundStatus:
        client = self._client()
        body = self._refund_body(request)
        try:
            answer = client.call("POST", REFUNDS, body)
        except Unreachable as error:
            raise RetryableError("unreachable", str(error)) from error
        except NoAnswer as error:
            raise OutcomeUnknown("no_answer", str(error)) from error
        except Unverified as error:
            # The refund may have been made: ask again (fetch) before anything else.
            log.error("gateway %s: payout %s: %s", self.name, request.payout_id, error)
            raise OutcomeUnknown("unverified_answer", str(error)) from error
        if 200 <= answer.status < 300:
            return status_of(answer.data)
        raise self._refund_error(answer)

    def _refund_body(self, request: RefundRequest) -> dict[str, Any]:
        if request.currency != "CNY":
            raise TerminalError("unsupported_currency", "WeChat Pay refunds domestic "
                                f"payments in CNY only, not {request.currency}")
        reference = request.payment_reference
        if not reference:
            raise TerminalError("missing_payment_reference", "the payment has no WeChat Pay "
                                "transaction_id or merchant order number")
        if request.payment_amount_minor is None:
            raise TerminalError("missing_payment_total", "WeChat Pay needs the original "
                                "payment's amount with every refund")
        if (self.refund_window is not None and request.paid_at is not None
                and datetime.now(UTC) - request.paid_at > self.refund_window):
            raise RouteClosed("too_old", "WeChat Pay refunds payments for "
                              f"{self.refund_window.days} days; this one is older")
        body: dict[str, Any] = {
            "out_refund_no": request.idempotency_key,
            "transaction_id" if TRANSACTION_ID.fullmatch(reference) else "out_trade_no":
                reference,
            # Fen are CNY's minor units: our amounts go as they are.
            "amount": {"refund": request.amount_minor, "total": request.payment_amount_minor,
                       "currency": "CNY"},
        }
        if self.notify_url:
            body["notify_url"] = self.notify_url
        return body

    def _refund_error(self, answer: Answer) -> GatewayError:
        """Our error for WeChat Pay's refusal of a refund request."""
        code, message, status = answer.code, answer.message, answer.status
        if status == 401:
            return RetryableError(NOT_CONFIGURED, f"WeChat Pay refused our signature: "
                                  f"{code} {message}")
        if status == 429 or code == "FREQUENCY_LIMITED":
            return RateLimited(code or "FREQUENCY_LIMITED", message,
                               retry_after=FREQUENCY_LIMITED_WAIT)
        if status >= 500:
            # SYSTEM_ERROR: WeChat Pay may have made the refund; ask, then send again with
            # the same out_refund_no and amount, as WeChat Pay asks.
            return OutcomeUnknown(code or "SYSTEM_ERROR", message)
        if code in ("NOT_ENOUGH", "NO_AUTH"):
            return NeedsFinance(code, message)
        if code == "MCH_NOT_EXISTS":
            return RetryableError(NOT_CONFIGURED, message)
        if code == "USER_ACCOUNT_ABNORMAL":
            # The buyer's WeChat account is closed: the original route is gone for good.
            return RouteClosed(code, message)
        if code in TOO_OLD_CODES or (code == "INVALID_REQUEST"
                                     and any(word in message for word in TOO_OLD_WORDS)):
            return RouteClosed(code, message)
        # PARAM_ERROR, INVALID_REQUEST, RESOURCE_NOT_EXISTS (no such paid order),
        # REQUEST_BLOCKED: sending the same again would be refused again.
        return TerminalError(code or f"http_{status}", message)

    def fetch(self, request: RefundRequest) -> RefundStatus:
        client = self._client()
        try:
            answer = client.call("GET", f"{REFUNDS}/{request.idempotency_key}")
        except (Unreachable, NoAnswer) as error:
            raise RetryableError("unreachable", str(error)) from error
        except Unverified as error:
            log.error("gateway %s: payout %s: %s", self.name, request.payout_id, error)
            raise RetryableError("unverified_answer", str(error)) from error
        if 200 <= answer.status < 300:
            return status_of(answer.data)
        if answer.status == 404 and answer.code == "RESOURCE_NOT_EXISTS":
            raise RetryableError("resource_missing", "WeChat Pay has no refund numbered "
                                 f"{request.idempotency_key}")
        if answer.status == 429:
            raise RateLimited(answer.code or "FREQUENCY_LIMITED", answer.message,
                              retry_after=FREQUENCY_LIMITED_WAIT)
        if answer.status == 401:
            raise RetryableError(NOT_CONFIGURED, f"WeChat Pay refused our signature: "
                                 f"{answer.code} {answer.message}")
        raise RetryableError(answer.code or f"http_{answer.status}", answer.message)

    # -- notifications ------------------------------------------------------------------

    def read_notification(self, body: bytes, headers: Mapping[str, str]) -> Notification:
        if self.notices is None:
            raise NotificationRejected("the gateway has no WeChat Pay public key or API v3 "
                                       "key to check notifications with")
        signed = wechatpay_headers(headers)
        if signed["Wechatpay-Serial"] != self.public_key_id:
            raise NotificationRejected(f"signed with key {signed['Wechatpay-Serial']!r}, not "
                                       f"WeChat Pay's public key {self.public_key_id!r}")
        if signed["Wechatpay-Signature-Type"] not in ("", SCHEME):
            raise NotificationRejected("signature type "
                                       f"{signed['Wechatpay-Signature-Type']!r}")
        signed["Wechatpay-Signature-Type"] = SCHEME
        timestamp = signed["Wechatpay-Timestamp"]
        if (not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 12
                or abs(time.time() - int(timestamp)) > MAX_NOTIFICATION_AGE):
            raise NotificationRejected(f"timestamp {timestamp!r} is not within "
                                       f"{MAX_NOTIFICATION_AGE} s of now (a replay?)")
        try:
            text = body.decode("utf-8")
            # The SDK checks the signature over `timestamp\nnonce\nbody\n` first, then
            # decrypts the resource (AEAD_AES_256_GCM with the API v3 key); None when
            # either fails.
            data = self.notices.callback(signed, text)
        except Exception as error:  # the SDK raises bare Exceptions
            raise NotificationRejected(f"unreadable: {error}") from error
        if not isinstance(data, dict) or not isinstance(data.get("resource"), dict):
            raise NotificationRejected("the signature does not hold or the resource cannot "
                                       "be decrypted with our API v3 key")
        return self._notification(data)

    def _notification(self, data: dict[str, Any]) -> Notification:
        resource: dict[str, Any] = data["resource"]
        if self.mchid and str(resource.get("mchid") or self.mchid) != self.mchid:
            raise NotificationRejected(f"about merchant {resource.get('mchid')!r}, not ours")
        event = str(data.get("event_type") or "")
        wechat_status = str(resource.get("refund_status") or EVENTS.get(event, ""))
        status = None
        if event in EVENTS:
            status = status_of({**resource, "status": wechat_status})
        amount = resource.get("amount") or {}
        refund = amount.get("refund") if isinstance(amount, dict) else None
        return Notification(
            notification_id=str(data.get("id") or ""), event=event, status=status,
            payout_key=str(resource.get("out_refund_no") or ""),
            refund_id=str(resource.get("refund_id") or ""),
            amount_minor=refund if isinstance(refund, int) else None,
            currency="CNY")

    def acknowledge(self, *, accepted: bool, reason: str = "") -> Acknowledgement:
        # WeChat Pay: 200 or 204 and no body when taken; 4xx/5xx with
        # {"code": "FAIL", "message": …} when not, and it sends the notification again.
        if accepted:
            return Acknowledgement(200, b"")
        body = json.dumps({"code": "FAIL", "message": reason or "refused"},
                          ensure_ascii=False).encode()
        return Acknowledgement(400, body, "application/json; charset=utf-8")

    # -- statements ---------------------------------------------------------------------

    def read_statement(self, data: bytes) -> list[Any] | None:
        # Imported here: the statement reader needs reconcile's rows and errors, which the
        # refund calls do not.
        from refunddesk.payouts.gateways.wechat_pay_statement import read_refund_bill
        return read_refund_bill(data)


def wechatpay_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """The Wechatpay-* headers of a notification under their canonical names, whatever
    the case they came in (Django's request.headers, a WSGI environ, a plain dict)."""
    names = ("Wechatpay-Signature", "Wechatpay-Timestamp", "Wechatpay-Nonce",
             "Wechatpay-Serial", "Wechatpay-Signature-Type")
    lowered = {str(key).lower().replace("_", "-").removeprefix("http-"): value
               for key, value in headers.items()}
    return {name: str(lowered.get(name.lower(), "")).strip() for name in names}


def status_of(refund: dict[str, Any]) -> RefundStatus:
    wechat_status = str(refund.get("status") or "")
    state = STATES.get(wechat_status)
    if state is None:
        log.warning("WeChat Pay refund %s has a status we do not know: %r; taken as "
                    "submitted", refund.get("refund_id"), wechat_status)
        state = "submitted"
    settled_at = None
    if state == "succeeded":
        settled_at = _time(refund.get("success_time")) or datetime.now(UTC)
    error_code = wechat_status if wechat_status in ERROR_MESSAGES else ""
    return RefundStatus(state, str(refund.get("refund_id") or ""), error_code=error_code,
                        error_message=ERROR_MESSAGES.get(wechat_status, ""),
                        settled_at=settled_at)


def _time(value: Any) -> datetime | None:
    """WeChat Pay's times are RFC 3339 with their offset (2026-03-01T10:00:00+08:00)."""
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.utcoffset() is not None else None
