"""The account's own ledger as a gateway: balance, gift and voucher credit.

Its "provider" is our database, so a credit settles at once. Exactly once is the
BalanceEntry's unique (account, reference) with the payout's idempotency key as reference:
a second credit for the same payout is refused by the database, and the first one is
returned instead, as a provider replays an idempotent request.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.db import IntegrityError, transaction

from refunddesk.billing.models import BalanceEntry, BalanceEntryKind, CreditFund
from refunddesk.payouts.gateways.base import (
    Gateway,
    RefundRequest,
    RefundStatus,
    RetryableError,
)

# Cash goes to the spendable balance; gift and voucher credit come back as what they were.
FUND_OF_DESTINATION = {"original": CreditFund.BALANCE, "balance": CreditFund.BALANCE,
                       "gift": CreditFund.GIFT, "voucher": CreditFund.VOUCHER}


def _status(entry: BalanceEntry) -> RefundStatus:
    return RefundStatus("succeeded", f"balance-entry-{entry.pk}", settled_at=entry.created_at)


class BalanceGateway(Gateway):
    def __init__(self, name: str, *, clock: Callable[[], float] = time.time, **options: Any):
        super().__init__(name, **options)
        # The ledger's own clock (seconds since the epoch), like the sandbox provider's: the
        # demo's history credits refunds at moments in the past (cases/demo_history.py).
        self.clock = clock

    def refund(self, request: RefundRequest) -> RefundStatus:
        try:
            with transaction.atomic():
                entry = BalanceEntry.objects.create(
                    account_id=request.account_pk, currency=request.currency,
                    amount_minor=request.amount_minor, kind=BalanceEntryKind.REFUND,
                    fund=FUND_OF_DESTINATION[request.destination],
                    reference=request.idempotency_key,
                    memo=f"refund {request.case}"[:200],
                    created_at=datetime.fromtimestamp(self.clock(), UTC))
        except IntegrityError:
            return self.fetch(request)
        return _status(entry)

    def fetch(self, request: RefundRequest) -> RefundStatus:
        entry = BalanceEntry.objects.filter(account_id=request.account_pk,
                                            reference=request.idempotency_key).first()
        if entry is None:
            raise RetryableError("resource_missing", "no credit was written for this payout")
        return _status(entry)
