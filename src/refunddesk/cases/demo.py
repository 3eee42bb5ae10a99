"""Refund cases for the demo, so the console's queue has work in it on first start.

Customers of the demo data apply for older orders over the last few days, through the
same actions as the portal; the demo staff then ask, approve and reject some of them. A
few cases end up overdue, some due today, some waiting for the customer, one appealed.
Deterministic for a given seed; run once, on a database without cases.
"""

from __future__ import annotations

import random
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.db.models import Exists, OuterRef

from refunddesk.billing.models import Order, OrderLine
from refunddesk.cases import actions
from refunddesk.cases.actors import customer_of
from refunddesk.cases.assessing import NoPolicy, assess_order
from refunddesk.cases.errors import CaseError
from refunddesk.cases.models import CaseLine, ReasonCategory, RefundCase, RejectionReason
from refunddesk.cases.states import State
from refunddesk.policy.assessment import AssessmentError

REASONS = ("服务器性能不满足需求", "业务调整，不再需要", "The VPN was too slow in my city.",
           "Bought the wrong plan.", "迁移到其他平台", "")


@dataclass
class DemoCases:
    opened: int = 0
    in_review: int = 0


def _candidates(now: datetime, count: int, rng: random.Random) -> list[Order]:
    # Semi-joins, not a DISTINCT over a join of four tables: PostgreSQL planned that one as
    # nested loops from stale statistics right after the bulk load and ran for minutes.
    open_case = CaseLine.objects.filter(order_line__order=OuterRef("pk"), holds_line=True)
    long_prepaid = OrderLine.objects.filter(
        order=OuterRef("pk"), billing="prepaid", service_end__gt=now + timedelta(days=30),
        product__code__in=["cvm", "vpn", "backup", "ssl"])
    orders = list(
        Order.objects.filter(account__user__isnull=False,
                             placed_at__lt=now - timedelta(days=12),
                             placed_at__gt=now - timedelta(days=150))
        .filter(Exists(long_prepaid)).exclude(Exists(open_case)).order_by("placed_at", "pk")
        .select_related("account")[:count * 6])
    rng.shuffle(orders)
    chosen: list[Order] = []
    nothing_due = 0
    for order in orders:
        if len(chosen) == count:
            break
        line_ids = _prepaid_lines(order)[:1]
        try:
            total = assess_order(order, line_ids, as_of=now)[1].total if line_ids else 0
        except (AssessmentError, NoPolicy):
            continue
        # Mostly requests with money at stake; a few with nothing due, to be rejected.
        if total == 0:
            if nothing_due == count // 8:
                continue
            nothing_due += 1
        chosen.append(order)
    return chosen


def _prepaid_lines(order: Order) -> list[str]:
    return [line.line_id for line in order.lines.all() if line.billing == "prepaid"]


def open_demo_cases(now: datetime, *, count: int = 48, seed: int = 2026,
                    after_history: bool = False) -> DemoCases:
    """Once, on a database without cases; or, `after_history`, right after the demo's
    history of the weeks before (demo_history.py), which the demo command writes first."""
    if RefundCase.objects.exists() and not after_history:
        return DemoCases()
    rng = random.Random(seed)
    users = get_user_model().objects
    agent = users.filter(username="demo-agent").first()
    reviewer = users.filter(username="demo-reviewer").first()
    reasons = list(ReasonCategory.objects.filter(is_active=True))
    rejection = RejectionReason.objects.filter(is_active=True).first()
    result = DemoCases()
    for index, order in enumerate(_candidates(now, count, rng)):
        # Spread over the last four days; the newest first few hours old.
        submitted = now - timedelta(hours=2 + rng.random() * 96)
        try:
            case = actions.submit(
                account=order.account, order=order, line_ids=_prepaid_lines(order)[:1],
                actor=customer_of(order.account), channel="portal",
                reason_category=rng.choice(reasons) if reasons else None,
                reason_text=rng.choice(REASONS), language=rng.choice(("zh-hans", "en")),
                now=submitted)
        except CaseError:
            continue
        result.opened += 1
        if case.state != State.IN_REVIEW or agent is None or reviewer is None:
            continue
        later = submitted + timedelta(minutes=30 + rng.random() * 120)
        if later >= now:
            result.in_review += 1
            continue
        # Refused (e.g. above the demo agent's limit): it stays in review, as it would.
        with suppress(CaseError):
            _work(case, index, agent=agent, reviewer=reviewer, rejection=rejection,
                  at=later, now=now)
        if RefundCase.objects.get(pk=case.pk).state == State.IN_REVIEW:
            result.in_review += 1
    return result


def _work(case: RefundCase, index: int, *, agent: User, reviewer: User,
          rejection: RejectionReason | None, at: datetime, now: datetime) -> None:
    """What the demo staff have already done with some of the cases."""
    kind = index % 8
    if kind == 0:
        actions.request_info(case, actor=agent, documents=["payment_proof"],
                             questions="请上传付款凭证（支付宝账单截图即可）。",
                             due=now + timedelta(days=3), now=at)
    elif kind == 1:
        actions.claim(case, actor=agent, now=at)
        actions.post_message(case, actor=agent, body="已收到您的申请，我们正在核实使用情况。",
                             now=at)
    elif kind == 2 and case.assessed_total_minor:
        actions.approve(case, actor=reviewer, note="Checked usage.", now=at)
    elif kind == 3 and rejection is not None:
        actions.reject(case, actor=reviewer, reason=rejection,
                       message="根据退款政策，该订单已超出可退款范围。", now=at)
    elif kind == 4:
        actions.claim(case, actor=agent, now=at)
        actions.post_message(case, actor=agent, body="Usage looks normal; refund prorated.",
                             is_internal=True, now=at)
