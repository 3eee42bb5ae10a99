"""What the payouts' states mean for their case: approved → paying once money is on its
way, paying → refunded once every payout arrived, → payout_failed when a gateway refused
for good. Called in the transaction that recorded the payouts' new states, with the case
rows locked, so the case and its payouts never disagree in the database.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from refunddesk.cases.actions._base import move, record
from refunddesk.cases.models import RefundCase
from refunddesk.cases.states import State
from refunddesk.notifications.outbox import notify
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


def settle_cases(case_ids: list[int], *, now: datetime) -> None:
    if not case_ids:
        return
    cases = list(RefundCase.objects.select_for_update().filter(pk__in=case_ids)
                 .select_related("account").order_by("pk"))
    payouts = current_payouts(case_ids)
    for case in cases:
        settle(case, payouts.get(case.pk, []), now=now)


def settle(case: RefundCase, payouts: list[Payout], *, now: datetime) -> None:
    """Move a locked case to where its payouts say it is; an event for every move."""
    if not payouts:
        return
    states = [payout.state for payout in payouts]
    changed = False
    if case.state == State.APPROVED and any(state != PayoutState.PENDING for state in states):
        before = move(case, "payouts_submitted")
        record(case, "payouts_submitted", actor=None, before=before, now=now)
        changed = True
    failed = [payout for payout in payouts if payout.state == PayoutState.FAILED]
    if case.state == State.PAYING and failed:
        before = move(case, "payout_failed")
        payout = failed[0]
        record(case, "payout_failed", actor=None, before=before, now=now,
               data={**payout_details(payout), "error": payout.last_error_code})
        changed = True
    elif case.state == State.PAYING and all(state == PayoutState.SUCCEEDED
                                            for state in states):
        before = move(case, "all_settled")
        record(case, "all_settled", actor=None, before=before, now=now,
               data={"total": format_amount(sum(p.amount_minor for p in payouts),
                                            case.currency)})
        notify(case, "paid")
        changed = True
    if changed:
        case.save(update_fields=["state", "updated_at"])
