"""How a case of the demo's history goes once it is in review (demo_history.py writes it):
approved in full, in part or above the assessment, rejected (and perhaps appealed), asked
for material, withdrawn, or escalated to the reviewers. Each step is an action at a moment
of the past; `Work` knows the desk's hours and the staff."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from refunddesk.cases import actions, permissions
from refunddesk.cases.actors import DEADLINES
from refunddesk.cases.demo_work import Story, Work
from refunddesk.cases.models import RefundCase
from refunddesk.cases.states import State

STORIES = (("approve", 32), ("partial", 12), ("override", 5), ("reject", 17), ("ask", 12),
           ("ask_unanswered", 5), ("withdraw", 7), ("escalate", 7))
# Why staff refuse a request that had money due, and one that had none.
REJECTIONS = (("insufficient_evidence", 4), ("service_consumed", 3), ("not_eligible", 3),
              ("duplicate_request", 2), ("abuse", 1), ("other", 1))
NOTHING_DUE = ("outside_window", "service_consumed", "not_eligible")
APPEAL_SHARE, OVERTURN_SHARE = 0.45, 0.5
# (document kind, question in Chinese, in English)
QUESTIONS = (
    ("payment_proof", "请上传付款凭证（支付宝或银行账单截图即可）。",
     "Please send proof of the payment (a screenshot of the statement will do)."),
    ("usage_records", "请提供服务的使用记录，以便核实可退金额。",
     "Please send records of your use of the service, so we can check the amount."),
    ("problem_evidence", "请提供故障的截图或日志。",
     "Please send screenshots or logs of the problem."),
    ("account_verification", "请上传证明您是账户所有人的材料。",
     "Please send something that shows the account is yours."),
)


def pick_story(rng: random.Random, case: RefundCase, special: str) -> Story:
    name = rng.choices([n for n, _ in STORIES], weights=[w for _, w in STORIES])[0]
    if special in ("expired_card", "four_eyes"):
        name = "approve"  # chosen for what paying them shows
    elif case.assessed_total_minor == 0 and name not in ("withdraw", "ask_unanswered"):
        name = "reject"
    return Story(name)


def live(work: Work) -> None:
    """The case's life after its submission: paid when its policy approved it at once, else
    its story played in review."""
    if work.case.state == State.APPROVED:
        work.pay()
    elif work.case.state == State.IN_REVIEW:
        play(work)


def play(work: Work) -> None:
    name, rng, desk = work.story.name, work.rng, work.desk
    if name == "withdraw" and rng.random() < 0.4:  # changed their mind before any answer
        work.at = desk.customer_after(work.at, 0.5, 6)
        actions.withdraw(work.case, actor=work.customer, now=work.at)
        return
    if name in ("ask", "ask_unanswered"):
        _ask(work, answered=name == "ask")
        return
    work.first_answer()
    if name == "withdraw":
        work.at = desk.customer_after(work.at, 2, 40)
        actions.withdraw(work.case, actor=work.customer, now=work.at)
        return
    if name == "escalate":
        work.at = desk.desk_hours_after(work.at, rng.uniform(0.5, 4))
        actions.escalate(work.case, actor=desk.agent, now=work.at,
                         assignee=rng.choice([None, *desk.reviewers]),
                         reason=work.say("客户对用量记录有异议，请复核。",
                                         "The customer disputes the usage figures; please "
                                         "review."))
        name = rng.choice(("approve", "partial", "reject"))
    work.decision_time()
    _decide(work, name)


def _decide(work: Work, name: str) -> None:
    case, rng = work.reload(), work.rng
    if name == "reject" or case.assessed_total_minor == 0:
        _reject(work)
    elif name == "override":
        reviewer = work.desk.reviewer_other_than()
        amounts = _more(case, rng.uniform(0.1, 0.3))
        work.approve(reviewer, amounts=amounts, justification=work.say(
            "我方服务中断两天，额外补偿中断期间的费用。",
            "Our service was down for two days; the outage is refunded on top.")
            if amounts else "")
    elif name == "partial":
        amounts = _partial(case, rng)
        work.approve(_hand_up(work, sum(amounts.values())), amounts=amounts, note=work.say(
            "按实际使用情况部分退款。", "Refunded in part, for the use made."))
    else:
        work.approve(_hand_up(work, case.assessed_total_minor))


def _hand_up(work: Work, total: int) -> Any:
    """Who decides; an agent who took the case and may not approve this much escalates it
    to the reviewers first."""
    decider = work.decider(total)
    case, agent = work.reload(), work.desk.agent
    limit = permissions.approval_limit(agent, case.currency)
    if (decider.pk != agent.pk and case.assignee_id == agent.pk and case.escalated_at is None
            and limit is not None and total > limit):
        actions.escalate(case, actor=agent, now=work.at, reason=work.say(
            "超出我的审批额度，请审核员审批。", "Above my approval limit; for a reviewer."))
        work.at = work.desk.desk_hours_after(work.at, work.rng.uniform(1, 6))
    return decider


def _reject(work: Work) -> None:
    case, rng, desk = work.reload(), work.rng, work.desk
    if case.assessed_total_minor == 0:
        code = rng.choice(NOTHING_DUE)
    else:
        code = rng.choices([c for c, _ in REJECTIONS], weights=[w for _, w in REJECTIONS])[0]
    agent = desk.agent
    by_agent = (case.opened_by_id != agent.pk and case.escalated_at is None
                and rng.random() < 0.6)
    decided_by = agent if by_agent else desk.reviewer_other_than()
    work.reject(decided_by, code)
    case = work.reload()
    closes = case.appeal_closes_at
    if rng.random() < APPEAL_SHARE:
        work.at = desk.customer_after(work.at, 5, 24 * 6)
        if closes is None or work.at < closes:
            _appeal(work, decided_by, code)
            return
    if closes is not None:  # the deadline sweep makes the rejection final
        work.at = desk.check(closes + timedelta(minutes=rng.uniform(1, 9)))
        actions.close_after_appeal_window(work.case, actor=DEADLINES, now=work.at)


def _appeal(work: Work, decided_by: Any, code: str) -> None:
    rng, desk = work.rng, work.desk
    actions.appeal(work.case, actor=work.customer, now=work.at, uploads=[_evidence(work)],
                   text=work.say("我认为这个决定不合理，附上使用记录，请重新审核。",
                                 "I think this decision is wrong; my usage log is attached. "
                                 "Please look again."))
    hearer = desk.reviewer_other_than(decided_by)
    work.at = desk.desk_hours_after(work.at, rng.uniform(3, 24))
    if rng.random() >= OVERTURN_SHARE:
        work.reject(hearer, code)  # upheld: the case closes
        return
    case = work.reload()
    if case.assessed_total_minor > 0:
        work.approve(hearer, note=work.say("复核后同意退款。", "Approved on appeal."))
        return
    amounts = _more(case, rng.uniform(0.3, 0.5))
    if amounts is None:
        work.reject(hearer, code)
        return
    work.approve(hearer, amounts=amounts, justification=work.say(
        "复核后确认服务存在问题，按未使用部分退款。",
        "On appeal: the service did fail; the unused part is refunded."))


def _ask(work: Work, *, answered: bool) -> None:
    rng, desk = work.rng, work.desk
    late = rng.random() < work.story.late_answer
    work.at = desk.desk_hours_after(work.at, rng.uniform(11, 16) if late
                                    else rng.uniform(0.3, 4))
    asker = (desk.agent if work.case.opened_by_id != desk.agent.pk
             else desk.reviewer_other_than())
    kind, zh, en = rng.choice(QUESTIONS)
    due = work.at + timedelta(days=5)
    actions.request_info(work.case, actor=asker, documents=[kind], questions=work.say(zh, en),
                         due=due, now=work.at)
    if not answered:  # the deadline sweep closes it
        work.at = desk.check(due + timedelta(minutes=rng.uniform(1, 9)))
        actions.close_after_info_deadline(work.case, actor=DEADLINES, now=work.at)
        return
    work.at = desk.customer_after(work.at, 2, 72)
    actions.supplement(work.case, actor=work.customer, now=work.at,
                       documents={kind: [_document(kind)]},
                       message=work.say("材料已上传，请查收。", "Here it is."))
    work.decision_time(1, 12)
    _decide(work, rng.choices(("approve", "partial", "reject"), weights=(65, 15, 20))[0])


def _partial(case: RefundCase, rng: random.Random) -> dict[str, int]:
    share = rng.uniform(0.4, 0.85)
    return {line.order_line.line_id: min(line.assessed_minor,
                                         max(100, int(line.assessed_minor * share) // 100 * 100))
            for line in case.lines.select_related("order_line") if line.assessed_minor > 0}


def _more(case: RefundCase, share: float) -> dict[str, int] | None:
    """Each line's assessed amount plus `share` of what the policy kept back; None when it
    kept back nothing."""
    amounts, is_more = {}, False
    for line in case.lines.select_related("order_line"):
        kept = line.order_line.amount_paid_minor - line.assessed_minor
        extra = int(kept * share) // 100 * 100 if kept >= 200 else 0
        amounts[line.order_line.line_id] = line.assessed_minor + extra
        is_more = is_more or extra > 0
    return amounts if is_more else None


def _evidence(work: Work) -> SimpleUploadedFile:
    log = "\n".join(f"{(work.at - timedelta(days=back)):%Y-%m-%d} 09:00 connection failed, "
                    "0 B transferred" for back in (3, 2, 1))
    return SimpleUploadedFile("usage-log.txt", f"{log}\n".encode(), content_type="text/plain")


PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


def _document(kind: str) -> SimpleUploadedFile:
    if kind == "payment_proof":
        return SimpleUploadedFile("payment.pdf", PDF, content_type="application/pdf")
    return SimpleUploadedFile(f"{kind}.txt", f"{kind}: see attached notes\n".encode(),
                              content_type="text/plain")
