"""Working a case of the demo's history (demo_history.py): the desk's hours and staff, and
the steps every story takes (demo_stories.py plays them), each an action at a moment of the
past."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import QuerySet

from refunddesk.calendars.reading import calendar_for
from refunddesk.cases import actions, permissions
from refunddesk.cases.actors import DEADLINES, customer_of
from refunddesk.cases.errors import CaseError
from refunddesk.cases.models import ReasonCategory, RefundCase, RejectionReason
from refunddesk.cases.states import State
from refunddesk.payouts.actions import redirect_to_balance
from refunddesk.payouts.gateways import gateway
from refunddesk.payouts.gateways.base import GatewayError
from refunddesk.payouts.models import FINAL_STATES, Payout, PayoutState
from refunddesk.payouts.runner import run_pass

# The desk works on the demo policies' calendar and clock (all four: CN, Asia/Shanghai).
DESK_ZONE = ZoneInfo("Asia/Shanghai")
DESK_CALENDAR = "CN"
DESK_OPENS, DESK_CLOSES = 9, 19


class NotYet(Exception):
    """The case's next step would come after the demo's `now`: it stays where it is."""


# -- who and when ---------------------------------------------------------------------------

class Desk:
    """The demo staff and the desk's working hours, for moments of the history."""

    def __init__(self, rng: random.Random, until: datetime, agent: Any,
                 reviewers: list[Any], finance: Any):
        self.rng, self.until = rng, until
        self.agent, self.reviewers, self.finance = agent, reviewers, finance
        self.calendar = calendar_for(DESK_CALENDAR)
        self.reasons = list(ReasonCategory.objects.filter(is_active=True))
        self.rejections = {reason.code: reason for reason in
                           RejectionReason.objects.filter(is_active=True)}

    def check(self, moment: datetime) -> datetime:
        if moment >= self.until:
            raise NotYet
        return moment

    def at_desk(self, moment: datetime) -> datetime:
        """`moment` if the desk is open then, else a little after it next opens."""
        local = moment.astimezone(DESK_ZONE)
        day = local.date()
        if self.calendar.is_business_day(day) and DESK_OPENS <= local.hour < DESK_CLOSES:
            return moment
        if not self.calendar.is_business_day(day) or local.hour >= DESK_CLOSES:
            day = self.calendar.next_business_day(day)
        opens = datetime.combine(day, time(DESK_OPENS), DESK_ZONE)
        return opens + timedelta(minutes=self.rng.uniform(5, 50))

    def desk_hours_after(self, moment: datetime, hours: float) -> datetime:
        """The moment `hours` of the desk's working time after `moment`."""
        moment, left = self.at_desk(moment), timedelta(hours=hours)
        while True:
            local = moment.astimezone(DESK_ZONE)
            closes = datetime.combine(local.date(), time(DESK_CLOSES), DESK_ZONE)
            if moment + left < closes:
                return self.check(moment + left)
            left -= closes - moment
            day = self.calendar.next_business_day(local.date())
            moment = datetime.combine(day, time(DESK_OPENS), DESK_ZONE)

    def customer_after(self, moment: datetime, low: float, high: float) -> datetime:
        """When a customer comes back, `low` to `high` hours later (not at night)."""
        later = moment + timedelta(hours=self.rng.uniform(low, high))
        local = later.astimezone(DESK_ZONE)
        if local.hour < 7:
            later += timedelta(hours=7 - local.hour + self.rng.uniform(0.5, 3))
        return self.check(later)

    def reviewer_other_than(self, *people: Any) -> Any:
        others = [user for user in self.reviewers
                  if all(user.pk != getattr(person, "pk", None) for person in people)]
        if not others:
            raise CaseError("no reviewer left to decide")
        return self.rng.choice(others)


# -- working a case -------------------------------------------------------------------------

@contextmanager
def provider_clocks(at: datetime) -> Iterator[None]:
    """The sandbox provider and the balance ledger keep clocks of their own; while the
    history pays, they read the moment being written, so refunds are made and arrive in
    that past."""
    stamp = at.timestamp()
    saved = []
    for name in ("sandbox", "balance"):
        try:
            adapter = gateway(name)
        except GatewayError:
            continue
        if hasattr(adapter, "clock"):
            saved.append((adapter, adapter.clock))
            adapter.clock = lambda: stamp
    try:
        yield
    finally:
        for adapter, clock in saved:
            adapter.clock = clock


@dataclass(frozen=True)
class Story:
    """Which story a case lives (demo_stories.py tells each)."""

    name: str
    late_answer: float = 0.12  # the chance the first answer misses its time
    late_decision: float = 0.12  # … and that the decision does


class Work:
    """One case's life after its submission, step by step at moments of the past."""

    def __init__(self, desk: Desk, case: RefundCase, story: Story, submitted: datetime):
        self.desk, self.case, self.story, self.at = desk, case, story, submitted
        self.rng = desk.rng
        self.customer = customer_of(case.account)
        self.is_chinese = case.language.startswith("zh")

    def say(self, zh: str, en: str) -> str:
        return zh if self.is_chinese else en

    def reload(self) -> RefundCase:
        self.case = RefundCase.objects.get(pk=self.case.pk)
        return self.case

    # -- steps every story uses --

    def first_answer(self) -> None:
        late = self.rng.random() < self.story.late_answer
        hours = self.rng.uniform(11, 16) if late else self.rng.uniform(0.3, 4)
        answered = self.desk.desk_hours_after(self.at, hours)
        self.sweep(until=answered)
        self.at = answered
        worker = self.desk.agent if self.case.opened_by_id != self.desk.agent.pk else None
        worker = worker or self.desk.reviewers[0]
        actions.claim(self.case, actor=worker, now=self.at)
        actions.post_message(self.case, actor=worker, now=self.at, body=self.say(
            "已收到您的退款申请，我们正在核实订单和使用情况。",
            "We have your refund request and are checking the order and its usage."))

    def decision_time(self, low: float = 2, high: float = 20) -> None:
        late = self.rng.random() < self.story.late_decision
        hours = self.rng.uniform(26, 40) if late else self.rng.uniform(low, high)
        decided = self.desk.desk_hours_after(self.at, hours)
        self.sweep(until=decided)
        self.at = decided

    def sweep(self, *, until: datetime) -> None:
        """The deadline sweep, run every few minutes, escalates a review whose clock runs
        out before `until`."""
        case = self.reload()
        if (case.state == State.IN_REVIEW and case.sla_due_at is not None
                and case.sla_due_at < until and case.escalated_at is None):
            overdue = case.sla_due_at + timedelta(minutes=self.rng.uniform(1, 9))
            self.at = self.desk.check(min(max(overdue, self.at), until))
            actions.escalate_overdue(case, actor=DEADLINES, now=self.at)

    def decider(self, total: int) -> Any:
        """The agent for what their limit covers, unless they opened the case for a caller or
        it went up to the reviewers; else a reviewer."""
        case, agent = self.reload(), self.desk.agent
        limit = permissions.approval_limit(agent, case.currency)
        if (case.opened_by_id == agent.pk or case.escalated_at is not None
                or (limit is not None and total > limit) or self.rng.random() < 0.3):
            return self.desk.reviewer_other_than(case.appeal_of_decision_by)
        return agent

    def approve(self, actor: Any, *, amounts: dict[str, int] | None = None,
                justification: str = "", note: str = "") -> None:
        case = actions.approve(self.case, actor=actor, amounts=amounts, note=note,
                               justification=justification, now=self.at)
        if case.proposal is not None:  # above the four-eyes threshold: a second person
            self.at = self.desk.desk_hours_after(self.at, self.rng.uniform(0.5, 5))
            confirmer = self.desk.reviewer_other_than(actor, case.appeal_of_decision_by)
            actions.confirm_approval(case, actor=confirmer, now=self.at)
        self.pay()

    def reject(self, actor: Any, code: str) -> None:
        reason = self.desk.rejections.get(code) or next(iter(self.desk.rejections.values()))
        actions.reject(self.case, actor=actor, reason=reason, now=self.at,
                       message=self.say(REJECTION_MESSAGES[code][0], REJECTION_MESSAGES[code][1]))

    def pay(self) -> None:
        """The payout runner sends the approved money minutes after the approval and finds
        it arrived when the sandbox says so; finance redirects most refused payouts."""
        self.at = self.desk.check(self.at + timedelta(minutes=self.rng.uniform(1, 6)))
        self._pass()
        if self._payouts().exclude(state__in=FINAL_STATES).exists():  # not at once: cash
            self.at = self.desk.check(self.at + timedelta(minutes=self.rng.uniform(15, 45)))
            self._pass()
        failed = list(self._payouts().filter(state=PayoutState.FAILED))
        if not failed or self.desk.finance is None or self.rng.random() < 0.3:
            return  # left for finance to see today
        self.at = self.desk.desk_hours_after(self.at, self.rng.uniform(2, 12))
        for payout in failed:
            redirect_to_balance(payout, actor=self.desk.finance, now=self.at)
        self.at = self.desk.check(self.at + timedelta(minutes=self.rng.uniform(1, 5)))
        self._pass()

    def _payouts(self) -> QuerySet[Payout]:
        return Payout.objects.filter(case=self.case, replaced_by__isnull=True)

    def _pass(self) -> None:
        with provider_clocks(self.at):
            run_pass(now=self.at, case_ids=[self.case.pk])


REJECTION_MESSAGES = {
    "outside_window": ("该订单已超出退款期限，无法退款。",
                       "This order is past its refund window, so it cannot be refunded."),
    "not_eligible": ("根据退款政策，该订单不符合退款条件。",
                     "Under the refund policy this order is not eligible for a refund."),
    "service_consumed": ("该服务已基本使用完毕，无可退金额。",
                         "The service has been used up; nothing is left to refund."),
    "duplicate_request": ("您已就该订单提交过退款申请，请查看之前的申请。",
                          "You already asked for a refund of this order; see that request."),
    "insufficient_evidence": ("您提供的材料不足以证明服务故障。",
                              "The material you sent does not show the service failing."),
    "abuse": ("该账户的退款申请异常频繁，本次申请不予受理。",
              "This account asks for refunds unusually often; this request is refused."),
    "other": ("经核实，本次申请不予退款。", "Having checked, we cannot refund this request."),
}
