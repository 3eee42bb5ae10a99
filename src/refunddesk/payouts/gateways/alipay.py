"""The Alipay gateway: refunds by `alipay.trade.refund`, asked about by
`alipay.trade.fastpay.refund.query`, through our own small client (alipay_client.py says
why not an SDK).

Our payout's idempotency key is the refund's `out_request_no`, sent with the same amount
every time: Alipay makes one refund per (trade, out_request_no), answers a repeat with the
refund it made, and refuses the same number with another amount. Alipay gives a refund no
id of its own, so the request number is also the refund id we store; it is what Alipay's
bill lists in 退款批次号/请求号, so statement rows match (alipay_statement.py).

`alipay.trade.refund` sends no notification: an outcome still unknown is settled by
asking, which the runner does before sending again.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from refunddesk.payouts.gateways.alipay_client import (
    BEIJING,
    TIMESTAMP_FORMAT,
    AlipayClient,
    Answer,
    KeyProblem,
    TransportError,
    UntrustedAnswer,
    load_private_key,
    load_public_key,
)
from refunddesk.payouts.gateways.base import (
    Gateway,
    GatewayError,
    NeedsFinance,
    OutcomeUnknown,
    RateLimited,
    RefundRequest,
    RefundStatus,
    RetryableError,
    RouteClosed,
    TerminalError,
)
from refunddesk.policy.money import format_amount

log = logging.getLogger(__name__)

REFUND = "alipay.trade.refund"
QUERY = "alipay.trade.fastpay.refund.query"
SUCCESS = "10000"
NOT_CONFIGURED = "gateway_not_configured"

# Alipay's refusals by what they mean for the payout (docs/payouts.md#alipay).
UNKNOWN_OUTCOME = frozenset({"ACQ.SYSTEM_ERROR"})
ROUTE_CLOSED = frozenset({
    "ACQ.TRADE_HAS_FINISHED",  # past the refund period of the merchant's contract
    "ACQ.TRADE_NOT_ALLOW_REFUND",
})
NEEDS_FINANCE = frozenset({
    "ACQ.SELLER_BALANCE_NOT_ENOUGH",  # the merchant's Alipay balance is too low
    "ACQ.REASON_TRADE_BEEN_FREEZEN",  # the trade is frozen: finance takes it up with Alipay
})
# Refusals that only a mistake of ours can cause: the request number reused with another
# amount, more than the trade has left, a malformed request.
OUR_BUG = frozenset({
    "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "ACQ.DISCORDANT_REPEAT_REQUEST",
    "ACQ.INVALID_PARAMETER", "ACQ.REFUND_FEE_ERROR", "ACQ.REASON_TRADE_REFUND_FEE_ERR",
})
# Gateway codes of a configuration problem (app id, keys, permissions, the contract):
# payouts wait until an operator fixes it.
CONFIG_CODES = frozenset({"20001", "40001", "40002", "40003", "40006"})
CONFIG_SUB_CODES = frozenset({"ACQ.ACCESS_FORBIDDEN", "ACQ.PARTNER_ERROR"})
RATE_LIMITED = "40005"  # isv.app-call-limited, isv.method-call-limited
REFERENCE_KINDS = ("auto", "trade_no", "out_trade_no")


class AlipayGateway(Gateway):
    def __init__(self, name: str, *, app_id: str = "", private_key: str = "",
                 alipay_public_key: str = "",
                 server_url: str = "https://openapi.alipay.com/gateway.do",
                 timeout: float = 10.0, rate_per_second: float | None = None,
                 refund_window_days: int | None = None,
                 unavailable_methods: list[str] | None = None,
                 max_refunds_per_payment: int | None = None,
                 currencies: list[str] | tuple[str, ...] = ("CNY",),
                 payment_reference: str = "auto"):
        super().__init__(name, rate_per_second=rate_per_second, timeout=timeout,
                         refund_window_days=refund_window_days,
                         unavailable_methods=unavailable_methods,
                         max_refunds_per_payment=max_refunds_per_payment)
        self.currencies = frozenset(code.strip().upper() for code in currencies if code.strip())
        self.reference_kind = payment_reference
        self.client: AlipayClient | None = None
        self.not_configured = ""
        self.problems: list[str] = []
        if payment_reference not in REFERENCE_KINDS:
            self.problems.append(f"ALIPAY_PAYMENT_REFERENCE is {payment_reference!r}, not "
                                 f"one of {', '.join(REFERENCE_KINDS)}")
        if not self.currencies:
            self.problems.append("ALIPAY_CURRENCIES names no currency")
        # Without credentials the adapter is still made (planning asks it about refund
        # periods); its payouts wait until an operator sets them. Half of them is a
        # mistake `refunddesk check` names.
        credentials = {"ALIPAY_APP_ID": app_id, "ALIPAY_PRIVATE_KEY": private_key,
                       "ALIPAY_PUBLIC_KEY": alipay_public_key}
        missing = [setting for setting, value in credentials.items() if not value]
        if missing:
            self.not_configured = f"gateway {name!r} has no {', '.join(missing)}"
            if len(missing) < len(credentials):
                given = [setting for setting in credentials if setting not in missing]
                self.problems.append(f"{', '.join(missing)} not set, though "
                                     f"{', '.join(given)} is")
            return
        try:
            self.client = AlipayClient(
                app_id=app_id, private_key=load_private_key(private_key),
                alipay_key=load_public_key(alipay_public_key), server_url=server_url,
                timeout=self.timeout)
        except KeyProblem as error:
            self.not_configured = f"gateway {name!r}: {error}"
            self.problems.append(f"{error}")
            log.error("gateway %s: %s; payouts wait until it is fixed", name, error)
        if self.problems:
            self.client, self.not_configured = None, "; ".join(self.problems)

    def configuration_problems(self) -> list[str]:
        return list(self.problems)

    def _client(self) -> AlipayClient:
        if self.client is None:
            raise RetryableError(NOT_CONFIGURED, self.not_configured)
        return self.client

    def trade_of(self, reference: str) -> dict[str, str]:
        """Which of Alipay's two names of the payment the reference is: Alipay's own
        trade number (all digits, as Alipay makes them) or the merchant's order number."""
        if not reference:
            raise TerminalError("missing_payment_reference", "the payment has no Alipay "
                                "trade number or merchant order number")
        kind = self.reference_kind
        if kind == "auto":
            kind = "trade_no" if reference.isascii() and reference.isdigit() else "out_trade_no"
        return {kind: reference}

    def refund(self, request: RefundRequest) -> RefundStatus:
        client = self._client()
        currency = request.currency.upper()
        if currency not in self.currencies:
            raise TerminalError("currency_not_supported", (
                f"this Alipay account refunds in {', '.join(sorted(self.currencies))}; the "
                f"payout is in {currency}"))
        # The same parameters on every attempt: Alipay refuses a request number sent
        # again with another amount (ACQ.DISCORDANT_REPEAT_REQUEST).
        biz: dict[str, Any] = {
            **self.trade_of(request.payment_reference),
            "refund_amount": format_amount(request.amount_minor, currency),
            "out_request_no": request.idempotency_key,
        }
        if currency != "CNY":
            biz["refund_currency"] = currency
        if request.case:
            biz["refund_reason"] = request.case
        try:
            answer = client.call(REFUND, biz)
        except TransportError as error:
            if error.was_sent:
                raise OutcomeUnknown("no_answer", str(error)) from error
            raise RetryableError("unreachable", str(error)) from error
        except UntrustedAnswer as error:
            log.error("payout %s: Alipay's answer to the refund cannot be trusted: %s",
                      request.payout_id, error)
            raise OutcomeUnknown("untrusted_answer", str(error)) from error
        if answer.code != SUCCESS:
            raise self._refusal(answer, request, is_write=True)
        # code 10000 only says Alipay took the request: fund_change Y is the money moved;
        # N is a repeat of a refund made earlier or one still in progress — asked later.
        if answer.body.get("fund_change") == "Y":
            return RefundStatus("succeeded", request.idempotency_key,
                                settled_at=beijing_time(answer.body.get("gmt_refund_pay")))
        return RefundStatus("submitted", request.idempotency_key)

    def fetch(self, request: RefundRequest) -> RefundStatus:
        client = self._client()
        biz = {**self.trade_of(request.payment_reference),
               "out_request_no": request.idempotency_key, "query_options": ["gmt_refund_pay"]}
        try:
            answer = client.call(QUERY, biz)
        except TransportError as error:
            raise RetryableError("unreachable" if not error.was_sent else "no_answer",
                                 str(error)) from error
        except UntrustedAnswer as error:
            log.error("payout %s: Alipay's answer to a refund query cannot be trusted: %s",
                      request.payout_id, error)
            raise RetryableError("untrusted_answer", str(error)) from error
        if answer.code != SUCCESS:
            if answer.sub_code == "ACQ.TRADE_NOT_EXIST":
                raise RetryableError("resource_missing", "Alipay knows no such trade, so no "
                                     "refund of it either")
            raise self._refusal(answer, request, is_write=False)
        body = answer.body
        number = body.get("out_request_no") or ""
        if not number and not body.get("refund_amount"):
            # Alipay answers a request number it has no refund for with an empty success.
            raise RetryableError("resource_missing", "Alipay has no refund with request "
                                 f"number {request.idempotency_key}")
        if number and number != request.idempotency_key:
            raise RetryableError("mismatched_answer", f"Alipay answered about request number "
                                 f"{number}, not {request.idempotency_key}")
        if body.get("refund_status") == "REFUND_SUCCESS":
            return RefundStatus("succeeded", request.idempotency_key,
                                settled_at=beijing_time(body.get("gmt_refund_pay")))
        return RefundStatus("submitted", request.idempotency_key)

    def read_statement(self, data: bytes) -> list[Any]:
        """Alipay's bill (业务明细, a csv.zip of GBK text): its refund rows."""
        # Imported here: the reader needs reconciliation's rows and errors, which the
        # adapter's refund calls do not.
        from refunddesk.payouts.gateways.alipay_statement import read_bill
        return read_bill(data)

    def _refusal(self, answer: Answer, request: RefundRequest, *, is_write: bool
                 ) -> GatewayError:
        """Our error for Alipay's. A failed question says nothing about the refund: every
        read error is retryable. A failed write is unknown when Alipay may have made the
        refund, terminal when it refused for good."""
        code, sub_code = answer.code, answer.sub_code
        codes = f"{code} {sub_code}" if sub_code else code
        message = f"Alipay: {answer.message or 'no message'} ({codes})"
        if code == RATE_LIMITED:
            return RateLimited(sub_code or "rate_limited", message)
        if code in CONFIG_CODES or sub_code in CONFIG_SUB_CODES:
            log.error("the %s gateway is misconfigured: %s", self.name, message)
            return RetryableError(NOT_CONFIGURED, message)
        if not is_write:
            return RetryableError(sub_code or code or "provider_error", message)
        if code == "20000" or sub_code in UNKNOWN_OUTCOME:
            return OutcomeUnknown(sub_code or "service_unavailable", message)
        if sub_code in ROUTE_CLOSED:
            return RouteClosed(sub_code, message)
        if sub_code in NEEDS_FINANCE:
            return NeedsFinance(sub_code, message)
        if sub_code in OUR_BUG:
            log.error("payout %s: Alipay refused the refund as a mistake of RefundDesk's "
                      "(request number %s, %s %s): %s", request.payout_id,
                      request.idempotency_key, format_amount(request.amount_minor,
                                                             request.currency),
                      request.currency, message)
            return TerminalError(sub_code, message)
        if code == "40004":
            return TerminalError(sub_code or "refused", message)
        return OutcomeUnknown(sub_code or code or "unexpected_answer", message)


def beijing_time(text: Any) -> datetime:
    """Alipay's "2026-03-01 10:00:00" (Beijing time) as an aware time; the moment we
    learn of the refund when Alipay does not say."""
    if isinstance(text, str) and text:
        try:
            return datetime.strptime(text, TIMESTAMP_FORMAT).replace(tzinfo=BEIJING)
        except ValueError:
            log.warning("Alipay's refund time %r is not in its usual format", text)
    return datetime.now(UTC)
