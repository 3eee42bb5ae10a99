"""What the payouts' states mean for their case: approved → paying once money is on its
way, paying → refunded once every payout arrived, → payout_failed when a gateway refused
for good. Called in the transaction that recorded the payouts' new states, with the case
rows locked, so the case and its payouts never disagree in the database.

The worker settles a whole batch of cases at once: their events are written together and
their new states with one UPDATE per state, which is most of what paying costs. The
webhooks of a batch (payouts that arrived or were refused, cases refunded) look at the
endpoints once and are written together, in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from refunddesk.cases.actions.base import event, move
from refunddesk.cases.actors import PAYOUT_RUNNER
from refunddesk.cases.events import EVENT_FOR_TRANSITION
from refunddesk.cases.models import CaseEvent, RefundCase
from refunddesk.cases.states import State
from refunddesk.inbox.models import NoticeKind
from refunddesk.inbox.recipients import finance
from refunddesk.inbox.telling import tell
from refunddesk.notifications.outbox import notify
from refunddesk.notifications.webhook_events import emit_settled
from refunddesk.payouts.models import Payout, PayoutState
from refunddesk.policy.money import format_amount


def current_payouts(case_ids: Iterable[int]) -> dict[int, list[Payout]]:
    """Each case's payouts that count: those not replaced by finance."""
    by_case: dict[int, list[Payout]] = defaultdict(list)
    for payout in Payout.objects.filter(case_id__in=list(case_ids),
                                        replaced_by__isnull=True).order_by("id"):
        by_case[payout.case_id].append(payout)
    return by_case


def payout_details(payout: Payout) -> dict[str, str]:
    """What a case event says about a payout (the console's timeline shows it)."""
    return {"payout": str(payout.pk), "amount": format_amount(payout.amount_minor,
                                                              payout.currency),
            "destination": payout.destination, "gateway": payout.gateway}


@dataclass
class Settling:
    """The changes of settled cases, written together by `write`."""

    now: datetime
    events: list[CaseEvent] = field(default_factory=list)
    states: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    paid: list[RefundCase] = field(default_factory=list)
    # Payouts that reached succeeded or failed in this transaction: their webhooks.
    ended: list[Payout] = field(default_factory=list)

    def write(self) -> None:
        CaseEvent.objects.bulk_create(self.events)
        for state, case_ids in self.states.items():
            RefundCase.objects.filter(pk__in=case_ids).update(state=state, updated_at=self.now)
        for case in self.paid:
            notify(case, "paid")
        failed = [payout for payout in self.ended if payout.state == PayoutState.FAILED]
        if failed:
            staff = list(finance())
            for payout in failed:
                tell(staff, NoticeKind.PAYOUT_FAILED, payout=payout, now=self.now, data={
                    "amount": f"{format_amount(payout.amount_minor, payout.currency)} "
                              f"{payout.currency}",
                    "error": payout.last_error_code or payout.last_error_message[:80]})
        emit_settled(ended=self.ended, refunded=self.paid, now=self.now)


def settle_cases(case_ids: list[int], *, now: datetime, ended: Iterable[Payout] = ()) -> None:
    if not case_ids:
        return
    cases = list(RefundCase.objects.select_for_update().filter(pk__in=case_ids)
                 .select_related("account").order_by("pk"))
    payouts = current_payouts(case_ids)
    settling = Settling(now, ended=list(ended))
    for case in cases:
        settle(case, payouts.get(case.pk, []), settling)
    settling.write()


def settle_one(case: RefundCase, *, now: datetime, ended: Iterable[Payout] = ()) -> None:
    """Settle one locked case (after finance replaced one of its payouts)."""
    settling = Settling(now, ended=list(ended))
    settle(case, current_payouts([case.pk]).get(case.pk, []), settling)
    settling.write()


def settle(case: RefundCase, payouts: list[Payout], settling: Settling) -> None:
    """Move a locked case to where its payouts say it is; an event for every move."""
    if not payouts:
        return
    now, before_all = settling.now, case.state
    states = [payout.state for payout in payouts]

    def moved(action: str, data: dict[str, str] | None = None) -> None:
        before = move(case, action)
        settling.events.append(event(case, EVENT_FOR_TRANSITION[action], actor=PAYOUT_RUNNER,
                                     before=before, now=now, data=data))

    if case.state == State.APPROVED and any(state != PayoutState.PENDING for state in states):
        moved("payouts_submitted")
    failed = [payout for payout in payouts if payout.state == PayoutState.FAILED]
    if case.state == State.PAYING and failed:
        moved("payout_failed", {**payout_details(failed[0]), "error": failed[0].last_error_code})
    elif case.state == State.PAYING and all(state == PayoutState.SUCCEEDED for state in states):
        moved("all_settled", {"total": format_amount(sum(p.amount_minor for p in payouts),
                                                     case.currency)})
        settling.paid.append(case)
    if case.state != before_all:
        settling.states[case.state].append(case.pk)
