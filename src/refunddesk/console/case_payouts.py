"""A case's payouts as staff read them on the case page: every payout the case ever had,
those finance replaced included and marked, with what the gateway said; and the words of
the payout events in the audit timeline."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from refunddesk.cases.models import RefundCase
from refunddesk.payouts import permissions
from refunddesk.payouts.models import (
    OUTSIDE_GATEWAY,
    Destination,
    FallbackReason,
    Payout,
    PayoutState,
)
from refunddesk.payouts.presenting import method_label


def payout_detail_labels() -> dict[str, str]:
    return {
        "payout": _("payout"), "replaces": _("replaces payout"), "amount": _("amount"),
        "destination": _("destination"), "gateway": _("gateway"),
        "reference": _("reference"), "error": _("error code"),
    }


def gateway_label(name: str) -> str:
    """The gateway's name as staff read it: a provider keeps its own name (stripe,
    alipay), the desk's own routes get words."""
    labels = {"balance": _("Account balance"), OUTSIDE_GATEWAY: _("Paid outside RefundDesk"),
              "alipay": method_label("alipay"), "wechat_pay": method_label("wechat_pay"),
              "paypal": method_label("paypal")}
    return labels.get(name, name)


def destination_name(code: str) -> str:
    try:
        return str(Destination(code).label)
    except ValueError:
        return code


def payout_url(payout_id: int) -> str:
    """The payout's own page, or "" while the console has none (the page is optional to
    this one: the case page renders either way)."""
    try:
        return reverse("console:payout", args=[payout_id])
    except NoReverseMatch:
        return ""


@dataclass
class PayoutRow:
    payout: Payout
    state_label: str
    destination: str
    paid_by: str
    fallback: str
    replaced_by: int | None
    url: str

    @property
    def is_replaced(self) -> bool:
        return self.replaced_by is not None

    @property
    def is_failed(self) -> bool:
        return self.payout.state == PayoutState.FAILED


def state_name(code: str) -> str:
    try:
        return str(PayoutState(code).label)
    except ValueError:
        return code


def fallback_name(code: str) -> str:
    try:
        return str(FallbackReason(code).label)
    except ValueError:
        return code


def payout_rows(case: RefundCase, user: Any) -> list[PayoutRow]:
    """Every payout of the case, oldest first. The link to a payout's page is offered to
    those who may open it (the page checks again)."""
    payouts = list(case.payouts.select_related("payment").order_by("created_at", "id"))
    replaced_by = {payout.replaces_id: payout.pk for payout in payouts
                   if payout.replaces_id is not None}
    linked = permissions.can_view(user)
    rows = []
    for payout in payouts:
        payment = payout.payment
        rows.append(PayoutRow(
            payout=payout, state_label=state_name(payout.state),
            destination=destination_name(payout.destination),
            paid_by=f"{method_label(payment.method)} ({payment.payment_id})",
            fallback=fallback_name(payout.fallback_reason) if payout.fallback_reason else "",
            replaced_by=replaced_by.get(payout.pk),
            url=payout_url(payout.pk) if linked else ""))
    return rows
