"""A local stand-in of WeChat Pay API v3's refund endpoints and refund notifications.

It runs in a thread (ThreadingHTTPServer on 127.0.0.1, a free port) and behaves like WeChat
Pay where the gateway depends on it:

- It is "WeChat Pay" with a key pair of its own (public key id PUB_KEY_ID_0112…) and knows
  the merchant's public key: a request whose `Authorization` (WECHATPAY2-SHA256-RSA2048) does
  not verify over `METHOD\\nURL\\ntimestamp\\nnonce\\nbody\\n` gets 401 SIGN_ERROR, unsigned;
  every other answer is signed (`Wechatpay-Signature` over `timestamp\\nnonce\\nbody\\n`).
- `POST /v3/refund/domestic/refunds`: one refund per `out_refund_no` — the same number asked
  again returns that refund, never a second one; `amount.total` must be the payment's.
- `GET /v3/refund/domestic/refunds/{out_refund_no}`: the refund, or 404 RESOURCE_NOT_EXISTS.
- Payments are registered by the test, each with a scripted behaviour (BEHAVIOURS).
- `notify(base_url, out_refund_no)` posts a refund notification signed with its key and
  its resource encrypted with the API v3 key; `notification(...)` builds one for a test to
  post (or to forge).

State is open to the tests: `refunds`, `refunds_made`, `requests_by_number`, `settle()`.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import threading
import time
from base64 import b64decode, b64encode
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from tests.payouts.standin_server import StandInServer

MCHID = "1900000109"
APPID = "wxd678efh567hg6787"
PUBLIC_KEY_ID = "PUB_KEY_ID_0112000000000000000000000000000000"
CERT_SERIAL_NO = "3775B6A45ACD588826D15E583A95F5DD4A6F8F41"
APIV3_KEY = "a12d3924fd499edac8a5efc1f0e9b3d4"  # 32 bytes, as WeChat Pay's API v3 keys
BEIJING = ZoneInfo("Asia/Shanghai")

# succeed: SUCCESS at once · processing: PROCESSING until settle() · abnormal: ABNORMAL (the
# buyer's card cannot take it) · closed: CLOSED · system_error_after_refund: the refund is
# made, the answer is 500 SYSTEM_ERROR (an answer lost on its way back) ·
# frequency_limited_once: the first refund request gets 429 FREQUENCY_LIMITED ·
# not_enough_once: the first gets 403 NOT_ENOUGH (nothing made) · slow: the refund is made
# (SUCCESS), the answer comes `slow_seconds` later.
BEHAVIOURS = frozenset({"succeed", "processing", "abnormal", "closed",
                        "system_error_after_refund", "frequency_limited_once",
                        "not_enough_once", "slow"})
INITIAL_STATUS = {"processing": "PROCESSING", "abnormal": "ABNORMAL", "closed": "CLOSED"}
AUTHORIZATION = re.compile(r'WECHATPAY2-SHA256-RSA2048 (.+)')

Answer = tuple[int, dict[str, Any] | None, dict[str, str]]


@cache
def _key(name: str) -> rsa.RSAPrivateKey:
    """One key pair per role for the whole test run: making RSA keys is slow."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def rsa_sign(key: rsa.RSAPrivateKey, message: bytes) -> str:
    return b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(BEIJING).isoformat(timespec="seconds")


@dataclass
class Payment:
    transaction_id: str
    out_trade_no: str
    amount: int
    currency: str
    behaviour: str
    paid_at: datetime
    has_been_refused: bool = False


def error(status: int, code: str, message: str) -> Answer:
    return status, {"code": code, "message": message}, {}


class WeChatPayStandIn(StandInServer):
    def __init__(self, slow_seconds: float = 1.0):
        super().__init__(_Handler, "wechat-pay-standin")
        self.slow_seconds = slow_seconds
        self.wechat_key = _key("wechat_pay")  # WeChat Pay's own key pair
        self.merchant_key = _key("merchant")  # the merchant's API key pair
        self.payments: dict[str, Payment] = {}  # by transaction_id
        self.refunds: dict[str, dict[str, Any]] = {}  # by out_refund_no
        self.refunds_made: Counter[str] = Counter()  # refunds created per out_refund_no
        self.requests_by_number: Counter[str] = Counter()  # refund requests per number
        self.notify_urls: dict[str, str] = {}  # the notify_url each refund was asked with
        self.answered: set[str] = set()  # numbers whose refund request was answered
        self.request_count = 0
        self.forge_answers = False  # sign answers with a key that is not WeChat Pay's
        self.changed = threading.Condition()

    # -- the test's side ----------------------------------------------------------------

    def add_payment(self, reference: str, amount_minor: int, currency: str = "CNY",
                    behaviour: str = "succeed", paid_at: datetime | None = None) -> Payment:
        """A paid WeChat Pay order, known by `reference`: its transaction_id when that is 28
        digits, else the merchant's order number (out_trade_no)."""
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r}")
        if re.fullmatch(r"\d{28}", reference):
            transaction_id, out_trade_no = reference, f"ORDER{reference[-10:]}"
        else:
            transaction_id = "4200" + "".join(secrets.choice("0123456789") for _ in range(24))
            out_trade_no = reference
        payment = Payment(transaction_id, out_trade_no, amount_minor, currency.upper(),
                          behaviour, paid_at or datetime.now(UTC) - timedelta(days=1))
        with self.changed:
            self.payments[transaction_id] = payment
        return payment

    def settle(self, out_refund_no: str, status: str = "SUCCESS", *,
               send_notification: bool = False) -> dict[str, Any]:
        """WeChat Pay finishes a refund (SUCCESS, ABNORMAL or CLOSED); with
        `send_notification`, it then posts REFUND.<status> to the refund's notify_url."""
        with self.changed:
            refund = self.refunds[out_refund_no]
            refund["status"] = status
            if status == "SUCCESS":
                refund["success_time"] = rfc3339(datetime.now(UTC))
            self.changed.notify_all()
            settled, notify_url = dict(refund), self.notify_urls.get(out_refund_no, "")
        if send_notification:
            if not notify_url:
                raise ValueError(f"refund {out_refund_no} was asked for without a notify_url")
            self.post_notification(notify_url, out_refund_no, f"REFUND.{status}")
        return settled

    def make_refund(self, out_refund_no: str, transaction_id: str, amount_minor: int
                    ) -> dict[str, Any]:
        """A refund made by hand in WeChat Pay's merchant platform, not through the API."""
        with self.changed:
            return self._make(out_refund_no, self.payments[transaction_id], amount_minor, "")

    def refund(self, out_refund_no: str) -> dict[str, Any] | None:
        with self.changed:
            refund = self.refunds.get(out_refund_no)
            return dict(refund) if refund is not None else None

    def wait_for(self, condition: Any, timeout: float = 5.0) -> None:
        with self.changed:
            if not self.changed.wait_for(condition, timeout):
                raise TimeoutError("the WeChat Pay stand-in never got there")

    def gateway_options(self, **changes: Any) -> dict[str, Any]:
        """OPTIONS for settings.REFUNDDESK_GATEWAYS["wechat_pay"], pointing here."""
        return {"mchid": MCHID, "appid": APPID, "private_key": private_pem(self.merchant_key),
                "cert_serial_no": CERT_SERIAL_NO, "apiv3_key": APIV3_KEY,
                "public_key": public_pem(self.wechat_key), "public_key_id": PUBLIC_KEY_ID,
                "api_base": self.url, "notify_url": "", "timeout": 2.0,
                "rate_per_second": 50.0, "refund_window_days": 365, **changes}

    def environment(self, directory: Path) -> dict[str, str]:
        """Environment variables that make a `refunddesk worker` use this stand-in, the
        keys in files (as mounted secrets)."""
        directory.mkdir(parents=True, exist_ok=True)
        files = {"WECHATPAY_PRIVATE_KEY": private_pem(self.merchant_key),
                 "WECHATPAY_PUBLIC_KEY": public_pem(self.wechat_key),
                 "WECHATPAY_APIV3_KEY": APIV3_KEY}
        env = {"WECHATPAY_MCHID": MCHID, "WECHATPAY_APPID": APPID,
               "WECHATPAY_CERT_SERIAL_NO": CERT_SERIAL_NO,
               "WECHATPAY_PUBLIC_KEY_ID": PUBLIC_KEY_ID, "WECHATPAY_API_BASE": self.url,
               "WECHATPAY_TIMEOUT_SECONDS": "2"}
        for name, value in files.items():
            path = directory / f"{name.lower()}.pem"
            path.write_text(value, encoding="utf-8")
            os.chmod(path, 0o600)
            env[f"{name}_FILE"] = str(path)
        return env

    # -- notifications ------------------------------------------------------------------

    def notification(self, out_refund_no: str, event: str = "REFUND.SUCCESS", *,
                     notification_id: str | None = None, timestamp: int | None = None,
                     signing_key: rsa.RSAPrivateKey | None = None,
                     serial: str = PUBLIC_KEY_ID, apiv3_key: str = APIV3_KEY,
                     changes: dict[str, Any] | None = None) -> tuple[bytes, dict[str, str]]:
        """The body and headers of a refund notification as WeChat Pay sends it; the
        keyword arguments make forged or stale ones."""
        with self.changed:
            refund = dict(self.refunds[out_refund_no])
        status = event.removeprefix("REFUND.")
        resource = {
            "mchid": MCHID, "out_trade_no": refund["out_trade_no"],
            "transaction_id": refund["transaction_id"], "out_refund_no": out_refund_no,
            "refund_id": refund["refund_id"], "refund_status": status,
            "user_received_account": refund["user_received_account"],
            "amount": {"total": refund["amount"]["total"], "refund": refund["amount"]["refund"],
                       "payer_total": refund["amount"]["total"],
                       "payer_refund": refund["amount"]["refund"]},
            **({"success_time": refund.get("success_time") or rfc3339(datetime.now(UTC))}
               if status == "SUCCESS" else {}),
            **(changes or {}),
        }
        nonce, associated = secrets.token_hex(6), "refund"
        ciphertext = AESGCM(apiv3_key.encode()).encrypt(
            nonce.encode(), json.dumps(resource, ensure_ascii=False).encode(),
            associated.encode())
        now = datetime.now(UTC)
        summary = {"REFUND.SUCCESS": "退款成功", "REFUND.ABNORMAL": "退款异常",
                   "REFUND.CLOSED": "退款关闭"}.get(event, event)
        body = json.dumps({
            "id": notification_id or f"{secrets.token_hex(4)}-{secrets.token_hex(2)}-"
                                     f"{secrets.token_hex(2)}-{secrets.token_hex(6)}",
            "create_time": rfc3339(now), "resource_type": "encrypt-resource",
            "event_type": event, "summary": summary,
            "resource": {"original_type": "refund", "algorithm": "AEAD_AES_256_GCM",
                         "ciphertext": b64encode(ciphertext).decode(),
                         "associated_data": associated, "nonce": nonce},
        }, ensure_ascii=False).encode()
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        wechat_nonce = secrets.token_hex(16)
        signature = rsa_sign(signing_key or self.wechat_key,
                             stamp.encode() + b"\n" + wechat_nonce.encode() + b"\n" + body
                             + b"\n")
        headers = {"Wechatpay-Signature": signature, "Wechatpay-Timestamp": stamp,
                   "Wechatpay-Nonce": wechat_nonce, "Wechatpay-Serial": serial,
                   "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
                   "Content-Type": "application/json"}
        return body, headers

    def notify(self, base_url: str, out_refund_no: str, event: str = "REFUND.SUCCESS",
               **options: Any) -> requests.Response:
        """Post a signed refund notification to RefundDesk at `base_url`
        (…/gateways/wechat_pay/notify is added)."""
        return self.post_notification(base_url.rstrip("/") + "/gateways/wechat_pay/notify",
                                      out_refund_no, event, **options)

    def post_notification(self, url: str, out_refund_no: str,
                          event: str = "REFUND.SUCCESS", **options: Any) -> requests.Response:
        body, headers = self.notification(out_refund_no, event, **options)
        return requests.post(url, data=body, headers=headers, timeout=10)

    # -- lifecycle ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self.address


    # -- WeChat Pay's side --------------------------------------------------------------

    def handle(self, method: str, path: str, headers: Any, body: bytes) -> Answer:
        with self.changed:
            self.request_count += 1
            self.changed.notify_all()
        if not self._is_signed_by_merchant(method, path, headers, body):
            return error(401, "SIGN_ERROR", "签名错误，请检查后再试")
        url = urlsplit(path)
        if method == "POST" and url.path == "/v3/refund/domestic/refunds":
            try:
                params = json.loads(body)
            except ValueError:
                return error(400, "PARAM_ERROR", "请求体不是JSON")
            return self._create(params if isinstance(params, dict) else {})
        prefix = "/v3/refund/domestic/refunds/"
        if method == "GET" and url.path.startswith(prefix):
            refund = self.refund(url.path[len(prefix):])
            if refund is None:
                return error(404, "RESOURCE_NOT_EXISTS", "退款单不存在")
            return 200, refund, {}
        return error(404, "NOT_FOUND", "未找到该接口")

    def _is_signed_by_merchant(self, method: str, path: str, headers: Any, body: bytes
                               ) -> bool:
        match = AUTHORIZATION.fullmatch(headers.get("Authorization") or "")
        if match is None:
            return False
        fields = dict(re.findall(r'(\w+)="([^"]*)"', match.group(1)))
        if fields.get("mchid") != MCHID or fields.get("serial_no") != CERT_SERIAL_NO:
            return False
        message = (f"{method}\n{path}\n{fields.get('timestamp', '')}\n"
                   f"{fields.get('nonce_str', '')}\n").encode() + body + b"\n"
        try:
            self.merchant_key.public_key().verify(b64decode(fields.get("signature", "")),
                                                  message, padding.PKCS1v15(),
                                                  hashes.SHA256())
        except (InvalidSignature, ValueError):
            return False
        return True

    def _create(self, params: dict[str, Any]) -> Answer:
        number = str(params.get("out_refund_no") or "")
        amount = params.get("amount") if isinstance(params.get("amount"), dict) else {}
        if not number or not isinstance(amount.get("refund"), int) or amount["refund"] < 1 \
                or not isinstance(amount.get("total"), int):
            return error(400, "PARAM_ERROR", "输入源“/body/amount”映射到字段“退款金额”必填性"
                         "规则校验失败，此字段为必填项")
        if amount.get("currency", "CNY") != "CNY":
            return error(400, "PARAM_ERROR", "币种不支持")
        behaviour = ""
        with self.changed:
            self.requests_by_number[number] += 1
            self.changed.notify_all()
            payment = self._payment_of(params)
            if payment is None:
                return error(404, "RESOURCE_NOT_EXISTS", "订单不存在")
            # WeChat Pay's frequency limit comes before anything else is looked at.
            if payment.behaviour == "frequency_limited_once" and not payment.has_been_refused:
                payment.has_been_refused = True
                return error(429, "FREQUENCY_LIMITED", "请求频率过高，请降低频率后重试")
            existing = self.refunds.get(number)
            if existing is not None:
                if existing["amount"]["refund"] != amount["refund"]:
                    return error(400, "INVALID_REQUEST", "同一退款单号的退款金额与之前请求"
                                 "不一致，请核实后再试")
                return 200, dict(existing), {}
            if amount["total"] != payment.amount:
                return error(400, "INVALID_REQUEST", "订单金额与原订单金额不一致")
            if datetime.now(UTC) - payment.paid_at > timedelta(days=365):
                return error(400, "INVALID_REQUEST", "交易时间超过一年的订单无法提交退款")
            if payment.behaviour == "not_enough_once" and not payment.has_been_refused:
                payment.has_been_refused = True
                return error(403, "NOT_ENOUGH", "基本账户余额不足，请充值后重新发起")
            refunded = sum(r["amount"]["refund"] for r in self.refunds.values()
                           if r["transaction_id"] == payment.transaction_id
                           and r["status"] != "CLOSED")
            if refunded + amount["refund"] > payment.amount:
                return error(400, "INVALID_REQUEST", "申请退款金额超过订单可退金额")
            refund = self._make(number, payment, amount["refund"],
                                str(params.get("notify_url") or ""))
            behaviour = payment.behaviour
            if behaviour != "slow":
                self.answered.add(number)
        if behaviour == "slow":
            self.stopping.wait(self.slow_seconds)
            with self.changed:
                self.answered.add(number)
                self.changed.notify_all()
        if behaviour == "system_error_after_refund":
            return error(500, "SYSTEM_ERROR", "系统超时，请使用相同参数稍后重新调用")
        return 200, refund, {}

    def _payment_of(self, params: dict[str, Any]) -> Payment | None:
        if params.get("transaction_id"):
            return self.payments.get(str(params["transaction_id"]))
        return next((p for p in self.payments.values()
                     if p.out_trade_no == params.get("out_trade_no")), None)

    def _make(self, number: str, payment: Payment, refund_amount: int, notify_url: str
              ) -> dict[str, Any]:
        now = datetime.now(UTC)
        status = INITIAL_STATUS.get(payment.behaviour, "SUCCESS")
        refund: dict[str, Any] = {
            "refund_id": "50" + "".join(secrets.choice("0123456789") for _ in range(27)),
            "out_refund_no": number, "transaction_id": payment.transaction_id,
            "out_trade_no": payment.out_trade_no, "channel": "ORIGINAL",
            "user_received_account": "支付用户零钱", "create_time": rfc3339(now),
            "status": status, "funds_account": "AVAILABLE",
            "amount": {"total": payment.amount, "refund": refund_amount,
                       "payer_total": payment.amount, "payer_refund": refund_amount,
                       "settlement_refund": refund_amount,
                       "settlement_total": payment.amount, "discount_refund": 0,
                       "currency": "CNY", "refund_fee": 0},
        }
        self.notify_urls[number] = notify_url
        if status == "SUCCESS":
            refund["success_time"] = rfc3339(now)
        self.refunds[number] = refund
        self.refunds_made[number] += 1
        self.changed.notify_all()
        return dict(refund)

    def sign_answer(self, body: bytes) -> dict[str, str]:
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        key = _key("forger") if self.forge_answers else self.wechat_key
        return {"Wechatpay-Timestamp": timestamp, "Wechatpay-Nonce": nonce,
                "Wechatpay-Serial": PUBLIC_KEY_ID,
                "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
                "Wechatpay-Signature": rsa_sign(key, timestamp.encode() + b"\n"
                                                + nonce.encode() + b"\n" + body + b"\n")}



class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self._answer("GET")

    def do_POST(self) -> None:
        self._answer("POST")

    def _answer(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        standin: WeChatPayStandIn = self.server.standin  # type: ignore[attr-defined]
        status, payload, headers = standin.handle(method, self.path, self.headers, body)
        data = json.dumps(payload, ensure_ascii=False).encode() if payload is not None else b""
        # WeChat Pay signs an answer only to a request it could authenticate.
        signed = standin.sign_answer(data) if status != 401 else {}
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-ID", secrets.token_hex(16))
            for name, value in {**signed, **headers}.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out: as at WeChat Pay, the refund stands all the same

    def log_message(self, format: str, *args: Any) -> None:
        pass
