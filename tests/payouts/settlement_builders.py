"""Payouts paid out (or refused) through the sandbox and settlement files about them, for
the reconciliation tests and the console's payout pages."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from refunddesk.cases import actions
from refunddesk.cases.actors import customer_of
from refunddesk.payouts.models import Payout, PayoutState
from refunddesk.payouts.runner import run_pass
from tests.portal.builders import vpn_order
from tests.staff import staff_member

COLUMNS = ("refund_id", "amount", "currency", "settled_at", "status")


def paid_out_case(order_id: str):
    """A first VPN purchase refunded under the 30-day guarantee and paid out by the worker
    through the sandbox gateway. An order id containing `expired_card` makes the sandbox
    refuse the refund for good."""
    order = vpn_order(order_id, f"acct-{order_id}", f"{order_id.lower()}@example.com")
    case = actions.submit(account=order.account, order=order, line_ids=["1"],
                          actor=customer_of(order.account),
                          channel="portal", language="en")
    run_pass(case_ids=[case.pk])
    case.refresh_from_db()
    return case


def succeeded_payout(order_id: str = "VPN-PAID-1") -> Payout:
    payout = paid_out_case(order_id).payouts.get()
    assert payout.state == PayoutState.SUCCEEDED and payout.gateway == "sandbox"
    return payout


def failed_payout(order_id: str = "VPN-expired_card-1") -> Payout:
    payout = paid_out_case(order_id).payouts.get()
    assert payout.state == PayoutState.FAILED
    return payout


def settlement_csv(rows: list[dict[str, str]], *, columns: tuple[str, ...] = COLUMNS,
                   name: str = "settlement.csv", bom: bool = False) -> SimpleUploadedFile:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    data = ("\ufeff" if bom else "") + out.getvalue()
    return SimpleUploadedFile(name, data.encode("utf-8"), content_type="text/csv")


def row_for(payout: Payout, **changes: str) -> dict[str, str]:
    """The row a provider's file has for our payout, as it settled."""
    settled = payout.settled_at or timezone.now()
    row = {"refund_id": payout.gateway_refund_id, "amount": "300.00",
           "currency": payout.currency, "settled_at": settled.isoformat(),
           "status": "succeeded"}
    row.update(changes)
    return row


def finance(username: str = "finance-1"):
    return staff_member(username, "finance")


def snapshot() -> list[tuple[Any, ...]]:
    return list(Payout.objects.order_by("pk").values_list(
        "pk", "state", "amount_minor", "gateway_refund_id", "settled_at", "updated_at",
        "next_attempt_at", "attempts"))


def text_file(text: str, name: str = "settlement.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")
