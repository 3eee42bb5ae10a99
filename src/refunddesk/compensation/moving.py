"""How a compensation run moves: the row locked, the move through the state table
(states.py), one RunEvent written in the same transaction. The people's steps
(actions.py) and the run's worker (running.py) both move a run this way; the worker's own
two steps, finish and fail, are here, below the worker, because actions.py starts the
worker (queue_run) and the worker must not import it back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from refunddesk.cases.actors import SystemActor
from refunddesk.compensation import permissions
from refunddesk.compensation.events import EVENT_FOR_TRANSITION, RunEventType
from refunddesk.compensation.models import CompensationRun, ItemState, RunEvent
from refunddesk.compensation.states import RunState, next_state
from refunddesk.policy.money import format_amount


def locked(run: CompensationRun) -> CompensationRun:
    return CompensationRun.objects.select_for_update().get(pk=run.pk)


def audit(run: CompensationRun, kind: RunEventType, *, actor: object, before: str,
          now: datetime, details: dict[str, Any] | None = None) -> RunEvent:
    return RunEvent.objects.create(
        run=run, at=now, kind=RunEventType(kind),
        actor=actor if isinstance(actor, User) else None,
        actor_name=actor.name if isinstance(actor, SystemActor) else "",
        from_state=before, to_state=run.state, details=details or {})


def move(run: CompensationRun, action: str, *, actor: object, now: datetime,
         details: dict[str, Any] | None = None, fields: tuple[str, ...] = ()) -> RunEvent:
    before = run.state
    run.state = next_state(before, action)
    run.save(update_fields=["state", *fields])
    return audit(run, EVENT_FOR_TRANSITION[action], actor=actor, before=before, now=now,
                 details=details)


def finish(run: CompensationRun, *, actor: object, now: datetime | None = None
           ) -> CompensationRun | None:
    """The run's worker (`actor`: the COMPENSATION system actor) found nothing left to do:
    the run is finished. None when it was not running any more (paused meanwhile) or lines
    are still to do."""
    now = now or timezone.now()
    actor = permissions.require_system(actor, "compensation.finish")
    with transaction.atomic():
        run = locked(run)
        if run.state != RunState.RUNNING or run.items.filter(
                state=ItemState.PENDING).exists():
            return None
        run.finished_at, run.next_attempt_at = now, None
        move(run, "finish", actor=actor, now=now, details=outcome(run),
             fields=("finished_at", "next_attempt_at"))
    return run


def fail(run: CompensationRun, *, actor: object, error: str, now: datetime | None = None
         ) -> CompensationRun | None:
    """The run's worker met an error it cannot get past; an admin may resume once the cause
    is dealt with. None when the run was not running any more."""
    now = now or timezone.now()
    actor = permissions.require_system(actor, "compensation.fail")
    with transaction.atomic():
        run = locked(run)
        if run.state != RunState.RUNNING:
            return None
        run.error, run.next_attempt_at = error[:2000], None
        move(run, "fail", actor=actor, now=now, details={**progress(run), "error": error[:500]},
             fields=("error", "next_attempt_at"))
    return run


def progress(run: CompensationRun) -> dict[str, Any]:
    return {"customers_done": run.customers_done, "customers": run.customers_total,
            "cases_opened": run.cases_opened}


def outcome(run: CompensationRun) -> dict[str, Any]:
    """What the run did: its cases, lines compensated and skipped, money per currency."""
    done = (run.items.filter(state=ItemState.DONE).values("currency")
            .annotate(total=Sum("amount_minor"), lines=Count("pk")).order_by("currency"))
    return {**progress(run),
            "lines_done": sum(row["lines"] for row in done),
            "lines_skipped": run.items.filter(state=ItemState.SKIPPED).count(),
            "totals": {row["currency"]: format_amount(row["total"], row["currency"])
                       for row in done if row["total"]}}
