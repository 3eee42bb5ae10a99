"""What the payouts' states mean for their cases, as case actions: approved → paying once
money is on its way, paying → refunded once every payout arrived, → payout_failed when a
gateway refused for good. Each move writes its own CaseEvent, by the actor given (the
payout runner, PAYOUT_RUNNER, when the worker records a gateway's answer).

Both functions join the transaction that recorded the payouts' new states (the worker's,
a provider notification's, finance's), so a case and its payouts never disagree in the
database; called alone, each is one transaction of its own.

The worker settles a whole batch of cases at once: each case gets its events, and the
batch is written together (base.write_moves: the events in one INSERT, the new states with
one UPDATE per state), which is most of what paying costs. The webhooks of a batch
(payouts that arrived or were refused, cases refunded) look at the endpoints once and are
written together, in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction

from refunddesk.cases.actions.base import Moves, move
from refunddesk.cases.actors import Actor
from refunddesk.cases.events import EVENT_FOR_TRANSITION
from refunddesk.cases.models import RefundCase
from refunddesk.cases.states import State
from refunddesk.inbox.models import NoticeKind
from refunddesk.inbox.recipients import finance
from refunddesk.inbox.telling import tell
from refunddesk.notifications.outbox import notify_each
from refunddesk.notifications.webhook_events import emit_settled
from refunddesk.payouts.models import Payout, PayoutState
from refunddesk.policy.money import format_amount


def payout_details(payout: Payout) -> dict[str, str]:
    """What a case event says about a payout (the console's timeline shows it)."""
    return {"payout": str(payout.pk), "amount": format_amount(payout.amount_minor,
                                                              payout.currency),
            "destination": payout.destination, "gateway": payout.gateway}


@dataclass
class Settled:
    """What a settlement changed: the cases it moved, and those it moved to refunded."""

    moved: list[RefundCase] = field(default_factory=list)
    refunded: list[RefundCase] = field(default_factory=list)


def settle_cases(case_ids: Iterable[int], *, actor: Actor, now: datetime,
                 ended: Iterable[Payout] = ()) -> Settled:
    """Move each case to where its current payouts say it is, the case rows locked (in
    id order, as every batch locks them). `ended`: the payouts that reached succeeded or
    failed in the caller's transaction, whose webhooks and finance notices go with it."""
    case_ids = sorted(set(case_ids))
    ended = list(ended)
    with transaction.atomic(savepoint=False):
        cases = list(RefundCase.objects.select_for_update().filter(pk__in=case_ids)
                     .select_related("account").order_by("pk")) if case_ids else []
        return _settle(cases, actor=actor, now=now, ended=ended)


def settle_case(case: RefundCase, *, actor: Actor, now: datetime,
                ended: Iterable[Payout] = ()) -> Settled:
    """Settle one case the caller has locked already (finance replaced one of its
    payouts)."""
    with transaction.atomic(savepoint=False):
        return _settle([case], actor=actor, now=now, ended=list(ended))


def _settle(cases: list[RefundCase], *, actor: Actor, now: datetime,
            ended: list[Payout]) -> Settled:
    payouts = Payout.objects.current_for(case.pk for case in cases)
    moves, settled = Moves(now), Settled()
    for case in cases:
        before = case.state
        _move_by_payouts(case, payouts.get(case.pk, []), moves, actor=actor)
        if case.state != before:
            settled.moved.append(case)
            if case.state == State.REFUNDED:
                settled.refunded.append(case)
    moves.write()
    notify_each(settled.refunded, "paid")
    _tell_finance([payout for payout in ended if payout.state == PayoutState.FAILED], now)
    emit_settled(ended=ended, refunded=settled.refunded, now=now)
    return settled


def _move_by_payouts(case: RefundCase, payouts: list[Payout], moves: Moves, *,
                     actor: Actor) -> None:
    """Move a locked case along its payouts' states; an event for every move."""
    if not payouts:
        return
    states = [payout.state for payout in payouts]

    def moved(action: str, data: dict[str, str] | None = None) -> None:
        before = move(case, action)
        moves.add(case, EVENT_FOR_TRANSITION[action], actor=actor, before=before, data=data)

    if case.state == State.APPROVED and any(state != PayoutState.PENDING for state in states):
        moved("payouts_submitted")
    failed = [payout for payout in payouts if payout.state == PayoutState.FAILED]
    if case.state == State.PAYING and failed:
        moved("payout_failed", {**payout_details(failed[0]), "error": failed[0].last_error_code})
    elif case.state == State.PAYING and all(state == PayoutState.SUCCEEDED for state in states):
        moved("all_settled", {"total": format_amount(sum(p.amount_minor for p in payouts),
                                                     case.currency)})


def _tell_finance(failed: list[Payout], now: datetime) -> None:
    if not failed:
        return
    staff = list(finance())
    for payout in failed:
        tell(staff, NoticeKind.PAYOUT_FAILED, payout=payout, now=now, data={
            "amount_minor": payout.amount_minor, "currency": payout.currency,
            "error": payout.last_error_code or payout.last_error_message[:80]})
