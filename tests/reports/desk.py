"""A small desk with known answers, written straight into the tables.

Reports only read, and their figures must be checked against numbers worked out by hand:
seven cases whose every state change, time and amount is chosen here (times in China
Standard Time, across the Qingming holiday: 4, 5 and 6 April 2026 are days off), with their
events, lines and payouts. `NOW` is 10 April 2026, 12:00; the range is 1–10 April.

  A  portal CNY  submitted Fri 3 Apr 10:00, answered 12:00, approved in full 7 Apr 10:00
     (four eyes: proposed by the agent, its decider, confirmed by the reviewer), refunded
     8 Apr 10:00
  B  e-mail CNY  submitted Wed 1 Apr 09:00, asked for material 10:00, answered 2 Apr
     10:00, approved in part 14:00 by the agent (15,000 of 20,000), refunded 15:00
  C  portal USD  submitted Thu 2 Apr 09:00, rejected 21:00 by the agent, appealed 3 Apr
     09:00, approved on appeal 7 Apr 09:00 by the reviewer above the assessment (60.00 of
     50.00); its first payout failed (expired_card), the second still on its way
  D  agent CNY   submitted Sun 5 Apr 10:00, withdrawn 11:00
  E  portal CNY  submitted Thu 9 Apr 10:00, first response due 12:00 and not given: overdue
  F  api USD     submitted 20 Mar (before the range), in review since
  G  portal CNY  submitted Mon 6 Apr 10:00 (a holiday), rejected 7 Apr 10:00, appealed 8 Apr
     10:00, appeal refused 9 Apr 10:00 (closed)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model

from refunddesk.billing.models import Payment
from refunddesk.cases.events import CaseEventType
from refunddesk.cases.models import CaseEvent, CaseLine, ReasonCategory, RefundCase
from refunddesk.cases.tracking import new_tracking_number
from refunddesk.payouts.models import Payout
from refunddesk.reports.filters import ReportFilters
from refunddesk.reports.sections import Context
from tests.console import queue_builders
from tests.staff import rejection_reason

CST = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 4, 10, 12, 0, tzinfo=CST)
FIRST, LAST = date(2026, 4, 1), date(2026, 4, 10)


def at(day: int, hour: int, month: int = 4) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=CST)


@dataclass
class Desk:
    cases: dict[str, RefundCase]
    agent: object
    reviewer: object

    def context(self, **filters: object) -> Context:
        return Context(ReportFilters(start=FIRST, end=LAST, tz=CST, **filters), NOW, "en")


def _event(case: RefundCase, when: datetime, action: str, before: str, after: str,
           actor: object = None, **data: object) -> None:
    CaseEvent.objects.create(case=case, at=when, actor=actor,
                             actor_kind="staff" if actor else "customer", action=action,
                             from_state=before, to_state=after, data=data)


def _case(name: str, *, product: str = "cvm", currency: str = "CNY", channel: str = "portal",
          submitted: datetime, state: str, assessed: int, outcome: str = "full",
          approved: int | None = None, rule: str = "five_day_no_reason",
          **fields: object) -> RefundCase:
    order = queue_builders.order(products=(product,), currency=currency,
                                 external_id=f"DESK-{name}")
    case = RefundCase.objects.create(
        tracking_number=new_tracking_number(), account=order.account, order=order,
        channel=channel, state=state, policy_ref="tencent-cloud@1",
        assessment={"outcome": outcome}, currency=currency, assessed_total_minor=assessed,
        approved_total_minor=approved, submitted_at=submitted, language="en", **fields)
    CaseLine.objects.create(case=case, order_line=order.lines.get(), rule=rule,
                            assessed_minor=assessed, approved_minor=approved,
                            holds_line=False)
    _event(case, submitted, CaseEventType.SUBMITTED, "", "submitted")
    _event(case, submitted, CaseEventType.ROUTED_TO_REVIEW, "submitted", "in_review")
    return case


def _payout(case: RefundCase, amount: int, *, state: str, destination: str = "original",
            settled: datetime | None = None, created: datetime, error: str = "") -> Payout:
    payment, _ = Payment.objects.get_or_create(
        order=case.order, payment_id="P1",
        defaults=dict(method="alipay", funding="cash", amount_minor=10**7, gateway="sandbox"))
    payout = Payout.objects.create(
        case=case, payment=payment, destination=destination,
        gateway="sandbox" if destination == "original" else destination, amount_minor=amount,
        currency=case.currency, state=state, settled_at=settled, created_at=created,
        last_error_code=error)
    # Its last change (auto_now) at the time of the story, not of the test run.
    Payout.objects.filter(pk=payout.pk).update(updated_at=settled or created)
    return payout


def build() -> Desk:
    users = get_user_model().objects
    agent = users.create_user("desk-agent", is_staff=True)
    reviewer = users.create_user("desk-reviewer", is_staff=True)
    changed_mind = ReasonCategory.objects.create(code="changed_mind", name_zh="不想要了",
                                                 name_en="Changed my mind")
    not_working = ReasonCategory.objects.create(code="not_working", name_zh="服务不可用",
                                                name_en="The service did not work")
    not_eligible = rejection_reason("not_eligible")
    outside_window = rejection_reason("outside_window")
    cases = {}

    a = cases["A"] = _case("A", submitted=at(3, 10), state="refunded", assessed=10000,
                           approved=10000, reason_category=changed_mind,
                           first_responded_at=at(3, 12), first_response_due=at(3, 18),
                           review_due=at(8, 10), decided_at=at(7, 10), decided_by=agent)
    _event(a, at(7, 10), CaseEventType.APPROVED, "in_review", "approved", reviewer,
           proposed_by="desk-agent")
    _event(a, at(7, 10), CaseEventType.PAYOUTS_SUBMITTED, "approved", "paying")
    _event(a, at(8, 10), CaseEventType.ALL_SETTLED, "paying", "refunded")
    _payout(a, 10000, state="succeeded", settled=at(8, 10), created=at(7, 10))

    b = cases["B"] = _case("B", product="vpn", channel="email", submitted=at(1, 9),
                           state="refunded", assessed=20000, approved=15000, outcome="partial",
                           rule="money_back", reason_category=not_working,
                           first_responded_at=at(1, 10), first_response_due=at(1, 12),
                           review_due=at(2, 12), decided_at=at(2, 14), decided_by=agent)
    _event(b, at(1, 10), CaseEventType.INFORMATION_REQUESTED, "in_review", "awaiting_customer",
           agent)
    _event(b, at(2, 10), CaseEventType.SUPPLEMENTED, "awaiting_customer", "in_review")
    _event(b, at(2, 14), CaseEventType.APPROVED, "in_review", "approved", agent)
    _event(b, at(2, 14), CaseEventType.PAYOUTS_SUBMITTED, "approved", "paying")
    _event(b, at(2, 15), CaseEventType.ALL_SETTLED, "paying", "refunded")
    _payout(b, 15000, state="succeeded", destination="balance", settled=at(2, 15),
            created=at(2, 14))

    c = cases["C"] = _case("C", currency="USD", submitted=at(2, 9), state="paying",
                           assessed=5000, approved=6000, rule="normal_refund",
                           first_responded_at=at(2, 21), first_response_due=at(2, 17),
                           review_due=at(9, 9), decided_at=at(7, 9), decided_by=reviewer,
                           rejection_reason=not_eligible, appealed_at=at(3, 9))
    _event(c, at(2, 21), CaseEventType.REJECTED, "in_review", "rejected", agent)
    _event(c, at(3, 9), CaseEventType.APPEALED, "rejected", "appealed")
    _event(c, at(7, 9), CaseEventType.APPROVED, "appealed", "approved", reviewer,
           is_override=True)
    _event(c, at(7, 9), CaseEventType.PAYOUTS_SUBMITTED, "approved", "paying")
    _payout(c, 6000, state="failed", created=at(7, 9), error="expired_card")
    _payout(c, 6000, state="submitted", created=at(7, 11))

    d = cases["D"] = _case("D", channel="agent", submitted=at(5, 10), state="withdrawn",
                           assessed=3000)
    _event(d, at(5, 11), CaseEventType.WITHDRAWN, "in_review", "withdrawn")

    cases["E"] = _case("E", submitted=at(9, 10), state="in_review", assessed=4000,
                       first_response_due=at(9, 12), review_due=at(11, 10),
                       sla_due_at=at(9, 12))

    cases["F"] = _case("F", currency="USD", channel="api", submitted=at(20, 10, month=3),
                       state="in_review", assessed=7000)

    g = cases["G"] = _case("G", submitted=at(6, 10), state="closed", assessed=0,
                           outcome="none", approved=0, first_responded_at=at(7, 10),
                           first_response_due=at(7, 12), review_due=at(10, 10),
                           decided_at=at(9, 10), decided_by=reviewer,
                           rejection_reason=outside_window, appealed_at=at(8, 10))
    _event(g, at(7, 10), CaseEventType.REJECTED, "in_review", "rejected", reviewer)
    _event(g, at(8, 10), CaseEventType.APPEALED, "rejected", "appealed")
    _event(g, at(9, 10), CaseEventType.REJECTED, "appealed", "closed", reviewer)
    return Desk(cases, agent, reviewer)
