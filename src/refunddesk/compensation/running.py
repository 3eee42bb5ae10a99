"""The worker's side of a compensation run: customer after customer, open their cases for
the run's pending lines, each customer in one transaction.

Exactly once per line, whatever happens to the worker:
- the run's items are its queue. A customer's transaction opens their cases and marks
  their lines done (with the case) together, so a worker killed at any moment leaves
  each customer either untouched or wholly compensated, and a run taken up again skips
  the lines that are done;
- a worker takes the run as every outbox row is taken (core/leasing.py): claimed when
  due, its attempt count the claim's fencing token, `next_attempt_at` its lease. Each
  customer's transaction locks the run row and goes on only while the run is running and
  the claim is still the latest (and moves the lease on): a paused run stops after the
  customer at hand, and a worker that lost the run (its lease ran out, another took it)
  stops too;
- a worker that died leaves its lease to run out; the periodic sweep (`resume_stalled`,
  core/periodic.py) then queues the run again, and the first worker to take it has it;
- the order lines are locked before they are compensated and checked against the other
  runs' compensated lines: two runs over overlapping outages never both compensate a line.

The money then goes the way every approved refund goes: the payouts planned with each case
are paid by the payout runner (payouts/runner.py), exactly once by their own protocol.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from refunddesk.billing.models import OrderLine
from refunddesk.cases.actions.compensating import CompensatedLine, open_compensation_case
from refunddesk.cases.actors import COMPENSATION
from refunddesk.cases.errors import CaseError
from refunddesk.cases.models import RefundCase
from refunddesk.compensation import remedies
from refunddesk.compensation.explaining import LineFacts, customer_language, sentence
from refunddesk.compensation.models import CompensationItem, CompensationRun, ItemState
from refunddesk.compensation.moving import fail, finish
from refunddesk.compensation.planning import compensated_elsewhere
from refunddesk.compensation.remedies import Outcome
from refunddesk.compensation.states import RunState
from refunddesk.core import leasing
from refunddesk.policies.store import current_policy
from refunddesk.policy.schema import Policy, PolicyError

log = logging.getLogger(__name__)

# Customers read from the queue at a time (each is still compensated in its own
# transaction).
CUSTOMERS_PER_READ = 100
# A case the run could not open (the order's payments were refunded meanwhile, …): its
# lines are skipped with the refusal's words.
REFUSED = "refused"


def lease() -> timedelta:
    """How long a worker holds a run without news (each customer renews it); also how long
    a run waits, due, for the task queued for it before the sweep queues another."""
    return timedelta(seconds=settings.REFUNDDESK_COMPENSATION_LEASE_SECONDS)


@task()
def run_compensation(run_id: int) -> str:
    """Compensate the run's pending lines; idempotent and safe to run twice (a run already
    taken is not due; a later claim fences an earlier one out)."""
    claim = claim_run(run_id, timezone.now())
    if claim is None:
        return "not running"
    try:
        # Read once a task: the policies by id, and the approver the cases name.
        policies: dict[str, Policy | None] = {}
        approved_by = (CompensationRun.objects.filter(pk=run_id)
                       .values_list("approved_by__username", flat=True).first()) or ""
        while True:
            customers = next_customers(run_id)
            if not customers:
                break
            for account_id in customers:
                if not compensate_customer(run_id, account_id, claim=claim,
                                           policies=policies, approved_by=approved_by,
                                           now=timezone.now()):
                    return "stopped"
        finished = finish(CompensationRun(pk=run_id), actor=COMPENSATION,
                          now=timezone.now())
        return "finished" if finished is not None else "stopped"
    except Exception as error:
        log.exception("compensation run %s failed", run_id)
        fail(CompensationRun(pk=run_id), actor=COMPENSATION,
             error=f"{type(error).__name__}: {error}", now=timezone.now())
        return "failed"


def queue_run(run: CompensationRun, now: datetime) -> None:
    """Make the run due and queue its task (the caller saves `next_attempt_at`)."""
    # Written in the step's transaction (django-tasks' database backend stores the task
    # as a row): a step that rolls back starts nothing, a committed one is never lost.
    run.next_attempt_at = now
    run_compensation.enqueue(run.pk)


def claim_run(run_id: int, now: datetime) -> leasing.Claim | None:
    """Take the run for this worker; None when it is not running, or another worker holds
    it (it is not due)."""
    running = CompensationRun.objects.filter(pk=run_id, state=RunState.RUNNING)
    claimed = leasing.claim_due(running, now=now, lease=lease(), limit=1)
    return leasing.Claim.of(claimed[0]) if claimed else None


def next_customers(run_id: int, limit: int = CUSTOMERS_PER_READ) -> list[int]:
    return list(CompensationItem.objects.filter(run_id=run_id, state=ItemState.PENDING)
                .order_by("account_id").values_list("account_id", flat=True)
                .distinct()[:limit])


def _policy(policy_id: str, policies: dict[str, Policy | None]) -> Policy | None:
    if policy_id not in policies:
        try:
            policies[policy_id] = (current_policy(policy_id, at=timezone.now()) if policy_id
                                  else None)
        except PolicyError:
            policies[policy_id] = None
    return policies[policy_id]


def facts_of(item: CompensationItem) -> LineFacts:
    line = item.order_line
    assert line.service_start is not None  # selection.py takes only lines that started
    return LineFacts(line.order.external_id, line.line_id, line.sku, line.product.name_zh,
                     line.product.name_en, line.order.currency, line.amount_paid_minor,
                     line.service_start, line.service_end)


def outcome_of(item: CompensationItem) -> Outcome:
    return Outcome(item.affected, amount=item.amount_minor, extended_to=item.extended_to,
                   excluded=item.reason)


def compensate_customer(run_id: int, account_id: int, *, claim: leasing.Claim,
                        policies: dict[str, Policy | None], now: datetime,
                        approved_by: str | None = None) -> bool:
    """One customer's pending lines, in one transaction: their cases opened (one per order
    and refund policy, grouped as one submission with one e-mail), the lines marked done.
    False when the run is not this worker's to go on with (paused, or claimed since)."""
    with transaction.atomic():
        run = leasing.still_claimed(CompensationRun, [claim]).get(run_id)
        if run is None or run.state != RunState.RUNNING:
            return False
        items = list(CompensationItem.objects.select_for_update(of=("self",))
                     .filter(run_id=run_id, account_id=account_id, state=ItemState.PENDING)
                     .select_related("order_line__order__account", "order_line__product")
                     .order_by("order_line__order_id", "order_line__position",
                               "order_line_id"))
        if approved_by is None:
            approved_by = run.approved_by.get_username() if run.approved_by is not None else ""
        if items:  # none: done already (by this worker's earlier claim, say)
            run.customers_done += 1
            run.cases_opened += _compensate(run, items, policies, approved_by, now)
        run.next_attempt_at = now + lease()
        run.save(update_fields=["customers_done", "cases_opened", "next_attempt_at"])
    return True


def _compensate(run: CompensationRun, items: list[CompensationItem],
                policies: dict[str, Policy | None], approved_by: str, now: datetime) -> int:
    line_ids = [item.order_line_id for item in items]
    # Locked, so a run over an overlapping outage compensating the same line waits here and
    # then sees this one's lines done.
    list(OrderLine.objects.select_for_update().filter(pk__in=line_ids).order_by("pk")
         .values_list("pk", flat=True))
    elsewhere = dict(compensated_elsewhere(Q(order_line_id__in=line_ids), run.window, run.pk)
                     .filter(state=ItemState.DONE).values_list("order_line_id", "run_id"))
    groups: dict[tuple[int, str], list[CompensationItem]] = defaultdict(list)
    for item in items:
        if item.order_line_id in elsewhere:
            _skip([item], remedies.ALREADY_COMPENSATED, str(elsewhere[item.order_line_id]))
            continue
        groups[(item.order_line.order_id, item.order_line.product.policy_id)].append(item)
    remedy = run.remedy_spec
    language = customer_language(
        RefundCase.objects.filter(account_id=items[0].account_id)
        .order_by("-submitted_at").values_list("language", flat=True).first())
    message = (run.message_en or run.message_zh) if language == "en" else (
        run.message_zh or run.message_en)
    submission, opened = uuid.uuid4(), 0
    for (_order_id, policy_id), group in groups.items():
        policy = _policy(policy_id, policies)
        if policy is None:
            _skip(group, remedies.NO_POLICY)
            continue
        sentences = [sentence(facts_of(item), outcome_of(item), remedy, language=language,
                              is_capped=item.is_capped) for item in group]
        english = [sentence(facts_of(item), outcome_of(item), remedy, language="en",
                            is_capped=item.is_capped) for item in group]
        try:
            with transaction.atomic():
                case = open_compensation_case(
                    order=group[0].order_line.order,
                    lines=[CompensatedLine(item.order_line, item.amount_minor,
                                           item.extended_to) for item in group],
                    policy=policy, credit_to=remedy.credit_to if remedy.is_credit else None,
                    actor=COMPENSATION,
                    run={"run": run.pk, "approved_by": approved_by, "message": message},
                    language=language, note="\n".join(sentences),
                    explanation=english, submission=submission,
                    tells_customer=opened == 0, now=now)
        except CaseError as refusal:
            _skip(group, REFUSED, str(refusal.message)[:200])
            continue
        opened += 1
        for item in group:
            item.state, item.case = ItemState.DONE, case
        CompensationItem.objects.bulk_update(group, ["state", "case"])
    return opened


def _skip(items: list[CompensationItem], reason: str, ref: str = "") -> None:
    for item in items:
        item.state, item.reason, item.reason_ref = ItemState.SKIPPED, reason, ref
    CompensationItem.objects.bulk_update(items, ["state", "reason", "reason_ref"])


def resume_stalled(now: datetime | None = None) -> int:
    """Queue again the running runs due for longer than a lease: their worker died, or
    their task was lost (a run queued a moment ago waits for its task). Each stays due,
    from now, so the first worker to run a task takes it, and the next sweep waits."""
    now = now or timezone.now()
    queued = 0
    stalled = CompensationRun.objects.filter(
        Q(next_attempt_at__lte=now - lease()) | Q(next_attempt_at__isnull=True),
        state=RunState.RUNNING)
    for run_id in stalled.values_list("pk", flat=True):
        with transaction.atomic():
            run = stalled.select_for_update().filter(pk=run_id).first()
            if run is None:  # taken or paused meanwhile
                continue
            queue_run(run, now)
            run.save(update_fields=["next_attempt_at"])
            queued += 1
    return queued
