"""The wechat_pay gateway (being built for issue 17): until its adapter lands, payouts routed to
it wait, as for any gateway without credentials."""

from __future__ import annotations

from typing import Any

from refunddesk.payouts.gateways.base import Gateway, RefundRequest, RefundStatus, RetryableError


class WeChatPayGateway(Gateway):
    def __init__(self, name: str, *, timeout: float = 10.0,
                 rate_per_second: float | None = None, refund_window_days: int | None = None,
                 unavailable_methods: list[str] | None = None, **credentials: Any):
        super().__init__(name, rate_per_second=rate_per_second, timeout=timeout,
                         refund_window_days=refund_window_days,
                         unavailable_methods=unavailable_methods)

    def refund(self, request: RefundRequest) -> RefundStatus:
        raise RetryableError("gateway_not_configured", f"gateway {self.name!r} is not built yet")

    def fetch(self, request: RefundRequest) -> RefundStatus:
        raise RetryableError("gateway_not_configured", f"gateway {self.name!r} is not built yet")
