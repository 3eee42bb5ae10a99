"""Cases that end in each way a customer can meet (a final "no" after an appeal or after the
appeal window, a first "no", withdrawn, closed for missing information, refunded), built
through the real import path and actions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from refunddesk.cases import actions
from refunddesk.cases.actors import DEADLINES
from refunddesk.cases.models import RefundCase
from tests.portal.builders import customer_for, pdf, vpn_order
from tests.staff import rejection_reason, staff_member


def reviewed_case(order_id: str = "VPN-FINAL-1", *, language: str = "en",
                  placed_days_ago: float = 45) -> RefundCase:
    """A VPN year bought 45 days ago (past the 30-day guarantee, so reviewed), applied for
    by its customer, who has a portal login."""
    account_id = f"acct-{order_id.lower()}"
    order = vpn_order(order_id, account_id, f"{account_id}@example.com",
                      placed_days_ago=placed_days_ago)
    customer = customer_for(order.account)
    return actions.submit(account=order.account, order=order, line_ids=["1"], actor=customer,
                          channel="portal", language=language)


def _staff(username: str, role: str) -> Any:
    from django.contrib.auth import get_user_model

    found = get_user_model().objects.filter(username=username).first()
    return found or staff_member(username, role)


def rejected(case: RefundCase, *, days_ago: float = 0) -> RefundCase:
    return actions.reject(case, actor=_staff("agent-first", "agent"),
                          reason=rejection_reason(), message="使用时间超过 30 天。",
                          now=timezone.now() - timedelta(days=days_ago))


def closed_after_appeal(case: RefundCase) -> RefundCase:
    """Rejected, appealed with a document, rejected again by a reviewer: closed."""
    case = rejected(case)
    case = actions.appeal(case, actor=case.account.user, text="服务一直无法连接。",
                          uploads=[pdf("日志.pdf")])
    case = actions.reject(case, actor=_staff("reviewer-second", "reviewer"),
                          reason=rejection_reason(), message="复核后维持原决定。")
    assert case.state == "closed"
    return case


def closed_after_appeal_window(case: RefundCase) -> RefundCase:
    """Rejected 31 days ago (the VPN policy gives 30 to appeal), then the deadline sweep."""
    case = rejected(case, days_ago=31)
    assert actions.close_after_appeal_window(case, actor=DEADLINES, now=timezone.now())
    case = RefundCase.objects.get(pk=case.pk)
    assert case.state == "closed"
    return case


def closed_after_info_deadline(case: RefundCase) -> RefundCase:
    case = actions.request_info(case, actor=_staff("agent-first", "agent"),
                                questions="收据？", due=timezone.now() + timedelta(days=1))
    assert actions.close_after_info_deadline(case, actor=DEADLINES,
                                             now=timezone.now() + timedelta(days=2))
    return RefundCase.objects.get(pk=case.pk)


def withdrawn(case: RefundCase) -> RefundCase:
    return actions.withdraw(case, actor=case.account.user)
