"""A local stand-in of Alipay's OpenAPI gateway (`gateway.do`) for the two refund calls, so
tests drive our client's real signing and verification over HTTP.

It runs in a thread (ThreadingHTTPServer on 127.0.0.1, a free port) and behaves like Alipay
where the adapter depends on it:

- Requests are form-encoded; the app id, the timestamp format and the merchant's RSA2
  signature are checked first, and a failure is answered as Alipay's gateway does: code
  40002 (isv.invalid-app-id, isv.invalid-signature, …), unsigned.
- Every other answer is signed with "Alipay's" own key, over the exact text of the
  response object (written with spaces after separators and unescaped Chinese, so a
  client that verifies a re-serialisation fails).
- Refunds are kept per (trade, out_request_no): the same number with the same amount
  returns the refund made (fund_change N, as Alipay), with another amount
  ACQ.DISCORDANT_REPEAT_REQUEST; more than the trade has left ACQ.REFUND_AMT_NOT_EQUAL_TOTAL.
- Payments are registered by the test, each with a scripted behaviour (BEHAVIOURS).

State is open to the tests: `refunds_of()`, `refunds_made`, `requests_by_number`,
`settle()`, `received`. Keys are made once per process (RSA key generation is slow).
"""

from __future__ import annotations

import json
import secrets
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from refunddesk.payouts.gateways.alipay_client import (
    BEIJING,
    TIMESTAMP_FORMAT,
    is_valid_signature,
    load_public_key,
    response_key,
    sign,
    signing_text,
)
from refunddesk.policy.money import MoneyError, format_amount, parse_amount
from tests.payouts.standin_server import StandInServer

APP_ID = "2021000000000001"
REFUND = "alipay.trade.refund"
QUERY = "alipay.trade.fastpay.refund.query"

# succeed: refunded at once (fund_change Y) · pending: fund_change N and the query says
# nothing of success until settle() · system_error_once: the first request gets
# ACQ.SYSTEM_ERROR and makes no refund · system_error_after_refund: the refund is made,
# the answer is ACQ.SYSTEM_ERROR (an answer lost) · trade_finished: past the contract's
# refund period · not_allow_refund · balance_not_enough_once: the first request gets
# ACQ.SELLER_BALANCE_NOT_ENOUGH · rate_limited_once: the first request gets 40005 · slow:
# the refund is made and the answer comes `slow_seconds` later · forged_answer: the refund
# is made and the answer is signed with a key that is not Alipay's.
BEHAVIOURS = frozenset({
    "succeed", "pending", "system_error_once", "system_error_after_refund",
    "trade_finished", "not_allow_refund", "balance_not_enough_once", "rate_limited_once",
    "slow", "forged_answer"})


@cache
def key_pair(role: str) -> rsa.RSAPrivateKey:
    """One RSA key per role ("alipay", "merchant", "forger") for the whole test process."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def public_pem(key: rsa.RSAPrivateKey) -> str:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@dataclass
class Payment:
    reference: str
    trade_no: str
    out_trade_no: str
    amount_minor: int
    currency: str
    behaviour: str
    errors_given: set[str] = field(default_factory=set)


@dataclass
class Refund:
    trade_no: str
    out_request_no: str
    amount_minor: int
    currency: str
    status: str  # success | processing
    gmt_refund_pay: str = ""


def failure(code: str, msg: str, sub_code: str, sub_msg: str) -> dict[str, Any]:
    return {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg}


def business_failure(sub_code: str, sub_msg: str) -> dict[str, Any]:
    return failure("40004", "Business Failed", sub_code, sub_msg)


def beijing_now() -> str:
    return datetime.now(BEIJING).strftime(TIMESTAMP_FORMAT)


class AlipayStandIn(StandInServer):
    def __init__(self, app_id: str = APP_ID, slow_seconds: float = 3.0):
        super().__init__(_Handler, "alipay-standin")
        self.app_id, self.slow_seconds = app_id, slow_seconds
        self.alipay_key, self.merchant_key = key_pair("alipay"), key_pair("merchant")
        self.merchant_public = load_public_key(public_pem(self.merchant_key))
        self.payments: dict[str, Payment] = {}
        self.by_trade_no: dict[str, Payment] = {}
        self.by_out_trade_no: dict[str, Payment] = {}
        self.refunds: dict[tuple[str, str], Refund] = {}
        self.refunds_made: Counter[str] = Counter()  # per out_request_no: must stay ≤ 1
        self.requests_by_number: Counter[str] = Counter()  # refund calls per out_request_no
        self.queries_by_number: Counter[str] = Counter()
        self.received: list[tuple[str, dict[str, Any]]] = []  # (method, biz_content)
        self.request_count = 0
        self.changed = threading.Condition()

    # -- the test's side --------------------------------------------------------------

    def add_payment(self, reference: str, amount_minor: int, currency: str = "CNY",
                    behaviour: str = "succeed", out_trade_no: str | None = None) -> None:
        """A paid trade. A reference of digits is Alipay's trade number (trade_no), any
        other the merchant's order number (out_trade_no), as the adapter takes them."""
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"unknown behaviour {behaviour!r}")
        if reference.isdigit():
            trade_no, merchant_no = reference, out_trade_no or f"RD{reference}"
        else:
            trade_no = "2026" + "".join(secrets.choice("0123456789") for _ in range(24))
            merchant_no = reference
        with self.changed:
            payment = Payment(reference, trade_no, merchant_no, amount_minor, currency.upper(),
                              behaviour)
            self.payments[reference] = self.by_trade_no[trade_no] = payment
            self.by_out_trade_no[merchant_no] = payment

    def settle(self, out_request_no: str) -> None:
        """A refund in progress (behaviour pending) arrives."""
        with self.changed:
            for refund in self.refunds.values():
                if refund.out_request_no == out_request_no:
                    refund.status, refund.gmt_refund_pay = "success", beijing_now()
            self.changed.notify_all()

    def refunds_of(self, reference: str) -> list[Refund]:
        with self.changed:
            payment = self.payments[reference]
            return [Refund(**vars(refund)) for refund in self.refunds.values()
                    if refund.trade_no == payment.trade_no]

    def wait_for(self, condition: Callable[[], bool], timeout: float = 5.0) -> None:
        with self.changed:
            if not self.changed.wait_for(condition, timeout):
                raise TimeoutError("the Alipay stand-in never got there")

    @property
    def url(self) -> str:
        return self.address + "/gateway.do"

    def gateway_options(self, timeout: float = 2.0) -> dict[str, Any]:
        """OPTIONS for settings.REFUNDDESK_GATEWAYS["alipay"] pointing here."""
        return {"app_id": self.app_id, "private_key": private_pem(self.merchant_key),
                "alipay_public_key": public_pem(self.alipay_key), "server_url": self.url,
                "timeout": timeout, "rate_per_second": 100, "refund_window_days": 365}

    def environment(self, directory: Path, timeout: float = 2.0) -> dict[str, str]:
        """Environment variables that make a `refunddesk worker` use this stand-in, the
        keys written to files in `directory`."""
        directory.mkdir(parents=True, exist_ok=True)
        private, public = directory / "alipay-app-private.pem", directory / "alipay-public.pem"
        private.write_text(private_pem(self.merchant_key), encoding="utf-8")
        public.write_text(public_pem(self.alipay_key), encoding="utf-8")
        return {"ALIPAY_APP_ID": self.app_id, "ALIPAY_PRIVATE_KEY": "",
                "ALIPAY_PRIVATE_KEY_FILE": str(private), "ALIPAY_PUBLIC_KEY": "",
                "ALIPAY_PUBLIC_KEY_FILE": str(public), "ALIPAY_SERVER_URL": self.url,
                "ALIPAY_TIMEOUT_SECONDS": str(timeout)}


    # -- Alipay's side ----------------------------------------------------------------

    def handle(self, path: str, body: str) -> tuple[str, bytes]:
        """(response key, the answer's bytes) for one POST."""
        with self.changed:
            self.request_count += 1
            self.changed.notify_all()
        params = dict(parse_qsl(urlsplit(path).query, keep_blank_values=True))
        params.update(parse_qsl(body, keep_blank_values=True))
        method = params.get("method", "")
        if method not in (REFUND, QUERY):
            return self._render("error_response", failure(
                "40002", "Invalid Arguments", "isv.invalid-method", "不存在的方法名"), None)
        refused = self._gateway_check(params)
        if refused is not None:
            return self._render(response_key(method), refused, None)
        try:
            biz = json.loads(params.get("biz_content") or "")
        except ValueError:
            return self._render(response_key(method), failure(
                "40002", "Invalid Arguments", "isv.illegal-json", "非法的json格式"), None)
        with self.changed:
            self.received.append((method, biz))
        key: rsa.RSAPrivateKey | None = self.alipay_key
        delay = 0.0
        if method == REFUND:
            answer, key, delay = self._refund(biz)
        else:
            answer = self._query(biz)
        if delay:
            self.stopping.wait(delay)
        return self._render(response_key(method), answer, key)

    def _gateway_check(self, params: dict[str, str]) -> dict[str, Any] | None:
        def invalid(sub_code: str, sub_msg: str) -> dict[str, Any]:
            return failure("40002", "Invalid Arguments", sub_code, sub_msg)

        if params.get("app_id") != self.app_id:
            return invalid("isv.invalid-app-id", "无效的AppID参数")
        if params.get("sign_type") != "RSA2":
            return invalid("isv.invalid-signature-type", "无效的签名类型")
        try:
            datetime.strptime(params.get("timestamp", ""), TIMESTAMP_FORMAT)
        except ValueError:
            return invalid("isv.invalid-timestamp", "非法的时间戳参数")
        if params.get("charset", "").lower() != "utf-8" or params.get("version") != "1.0":
            return invalid("isv.invalid-parameter", "参数无效")
        if not is_valid_signature(signing_text(params).encode("utf-8"), params.get("sign", ""),
                                  self.merchant_public):
            return invalid("isv.invalid-signature", "验签出错，建议检查签名字符串或签名私钥与"
                           "应用公钥是否匹配")
        return None

    def _payment_of(self, biz: dict[str, Any]) -> Payment | None:
        if biz.get("trade_no"):
            return self.by_trade_no.get(str(biz["trade_no"]))
        return self.by_out_trade_no.get(str(biz.get("out_trade_no") or ""))

    def _once(self, payment: Payment, what: str) -> bool:
        if what in payment.errors_given:
            return False
        payment.errors_given.add(what)
        return True

    def _refund(self, biz: dict[str, Any]
                ) -> tuple[dict[str, Any], rsa.RSAPrivateKey | None, float]:
        """(the answer, the key signing it or None for an unsigned gateway error, how long
        to wait before answering)."""
        key = self.alipay_key
        with self.changed:
            number = str(biz.get("out_request_no") or "")
            if number:
                self.requests_by_number[number] += 1
            self.changed.notify_all()
            payment = self._payment_of(biz)
            if payment is None:
                return business_failure("ACQ.TRADE_NOT_EXIST", "交易不存在"), key, 0.0
            behaviour = payment.behaviour
            if behaviour == "rate_limited_once" and self._once(payment, "rate"):
                return failure("40005", "Call Limited", "isv.method-call-limited",
                               "API调用次数超限"), None, 0.0
            try:
                amount = parse_amount(str(biz.get("refund_amount")), payment.currency)
            except MoneyError:
                return business_failure("ACQ.INVALID_PARAMETER", "参数无效"), key, 0.0
            currency = biz.get("refund_currency") or "CNY"
            if not number or amount <= 0 or currency != payment.currency:
                return business_failure("ACQ.INVALID_PARAMETER", "参数无效"), key, 0.0
            existing = self.refunds.get((payment.trade_no, number))
            if existing is not None:
                if existing.amount_minor != amount:
                    return business_failure("ACQ.DISCORDANT_REPEAT_REQUEST",
                                            "不一致的请求"), key, 0.0
                return self._refunded(payment, existing, fund_change="N"), key, 0.0
            if behaviour == "trade_finished":
                return business_failure("ACQ.TRADE_HAS_FINISHED", "交易已完结"), key, 0.0
            if behaviour == "not_allow_refund":
                return business_failure("ACQ.TRADE_NOT_ALLOW_REFUND",
                                        "当前交易不允许退款"), key, 0.0
            if behaviour == "system_error_once" and self._once(payment, "system"):
                return business_failure("ACQ.SYSTEM_ERROR", "系统错误"), key, 0.0
            if behaviour == "balance_not_enough_once" and self._once(payment, "balance"):
                return business_failure("ACQ.SELLER_BALANCE_NOT_ENOUGH",
                                        "卖家余额不足"), key, 0.0
            if amount > payment.amount_minor - self._refunded_total(payment):
                return business_failure("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL",
                                        "退款金额超限"), key, 0.0
            pending = behaviour == "pending"
            refund = Refund(payment.trade_no, number, amount, payment.currency,
                            "processing" if pending else "success",
                            "" if pending else beijing_now())
            self.refunds[(payment.trade_no, number)] = refund
            self.refunds_made[number] += 1
            self.changed.notify_all()
            answer = self._refunded(payment, refund, fund_change="N" if pending else "Y")
        if behaviour == "system_error_after_refund" and self._once(payment, "system"):
            return business_failure("ACQ.SYSTEM_ERROR", "系统错误"), key, 0.0
        if behaviour == "forged_answer":
            return answer, key_pair("forger"), 0.0
        return answer, key, self.slow_seconds if behaviour == "slow" else 0.0

    def _refunded_total(self, payment: Payment) -> int:
        return sum(refund.amount_minor for refund in self.refunds.values()
                   if refund.trade_no == payment.trade_no)

    def _refunded(self, payment: Payment, refund: Refund, *, fund_change: str
                  ) -> dict[str, Any]:
        answer = {"code": "10000", "msg": "Success", "trade_no": payment.trade_no,
                  "out_trade_no": payment.out_trade_no, "buyer_logon_id": "159****5620",
                  "fund_change": fund_change,
                  "refund_fee": format_amount(self._refunded_total(payment), payment.currency),
                  "buyer_user_id": "2088102177846880"}
        if refund.gmt_refund_pay:
            answer["gmt_refund_pay"] = refund.gmt_refund_pay
        return answer

    def _query(self, biz: dict[str, Any]) -> dict[str, Any]:
        with self.changed:
            number = str(biz.get("out_request_no") or "")
            self.queries_by_number[number] += 1
            payment = self._payment_of(biz)
            if payment is None:
                return business_failure("ACQ.TRADE_NOT_EXIST", "交易不存在")
            if not number:
                return business_failure("ACQ.INVALID_PARAMETER", "参数无效")
            answer: dict[str, Any] = {"code": "10000", "msg": "Success"}
            refund = self.refunds.get((payment.trade_no, number))
            if refund is None:
                return answer  # Alipay: nothing to say about a number it does not know
            answer.update({
                "trade_no": payment.trade_no, "out_trade_no": payment.out_trade_no,
                "out_request_no": number,
                "total_amount": format_amount(payment.amount_minor, payment.currency),
                "refund_amount": format_amount(refund.amount_minor, refund.currency)})
            if refund.status == "success":
                answer["refund_status"] = "REFUND_SUCCESS"
                if "gmt_refund_pay" in (biz.get("query_options") or []):
                    answer["gmt_refund_pay"] = refund.gmt_refund_pay
            return answer

    def _render(self, name: str, answer: dict[str, Any], key: rsa.RSAPrivateKey | None
                ) -> tuple[str, bytes]:
        # Spaces after separators and unescaped Chinese: the signature covers this text
        # exactly, which a compact re-serialisation would not reproduce.
        text = json.dumps(answer, ensure_ascii=False)
        body = f'{{"{name}": {text}'
        if key is not None:
            body += f', "sign": "{sign(text, key)}"'
        return name, (body + "}").encode("utf-8")



class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8") if length else ""
        standin: AlipayStandIn = self.server.standin  # type: ignore[attr-defined]
        _, data = standin.handle(self.path, body)
        try:
            self.send_response(200)  # Alipay's gateway answers 200, errors included
            self.send_header("Content-Type", "text/html;charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out: as at Alipay, the refund stands all the same

    def log_message(self, format: str, *args: Any) -> None:
        pass
