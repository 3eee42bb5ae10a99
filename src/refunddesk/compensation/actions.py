"""Every step of a compensation run: one function each, keyword-only `actor`, one
transaction, the run row locked (select_for_update), the move through the state table
(states.py), one RunEvent written in the same transaction. Views, the API and the task call
these; they never save a run themselves. Bad input raises RunError (or NotPermitted) and
changes nothing.

create → dry_run (again, as often as wanted) → approve by a second admin (or decline) →
start → pause ⇄ resume → finish (the run's worker) or fail (the same, with the error).
The worker's own two steps, and how every step moves the run, are in moving.py, below the
worker (running.py) that the steps here start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from refunddesk.billing.models import Product
from refunddesk.cases.errors import NotPermitted  # noqa: F401 (re-exported)
from refunddesk.compensation import permissions
from refunddesk.compensation.events import RunEventType
from refunddesk.compensation.models import (
    CompensationItem,
    CompensationRun,
    ItemState,
    Source,
)
from refunddesk.compensation.moving import audit, locked, move, progress
from refunddesk.compensation.planning import plan
from refunddesk.compensation.remedies import Remedy, Window
from refunddesk.compensation.running import queue_run
from refunddesk.compensation.selection import Selection
from refunddesk.compensation.states import (
    RunError,
    next_state,
)
from refunddesk.policy.money import format_amount

ITEM_BATCH = 1000


class RunChanged(RunError):
    """The dry run is not the one the approver was shown."""

    code = "run_changed"


@dataclass(frozen=True)
class RunSpec:
    """What a new run is to do."""

    selection: Selection
    window: Window
    remedy: Remedy
    message_en: str = ""
    message_zh: str = ""


def describe(spec: RunSpec) -> dict[str, Any]:
    """The run's choices as its audit keeps them."""
    remedy = spec.remedy
    return {"products": list(spec.selection.products), "skus": list(spec.selection.skus),
            "flags": list(spec.selection.flags),
            "outage_start": spec.window.start.isoformat(),
            "outage_end": spec.window.end.isoformat(), "remedy": remedy.kind,
            "percent_hundredths": remedy.percent_hundredths,
            "fixed": {currency: format_amount(minor, currency)
                      for currency, minor in remedy.fixed.items()},
            "credit_to": remedy.credit_to if remedy.is_credit else "",
            "extension_days": remedy.extension_days}


def check_spec(spec: RunSpec, *, now: datetime) -> None:
    """What the actions refuse of a run's choices, whatever channel sent them."""
    if spec.selection.is_empty:
        raise RunError(_("Choose the affected lines: at least a product, a SKU or a flag."))
    unknown = sorted(set(spec.selection.products)
                     - set(Product.objects.filter(code__in=spec.selection.products)
                           .values_list("code", flat=True)))
    if unknown:
        raise RunError(_("There is no product %(codes)s.") % {"codes": ", ".join(unknown)})
    if spec.window.end > now:
        raise RunError(_("The outage must be over: its end cannot be in the future."))


def create_run(spec: RunSpec, *, actor: object, source: str = Source.CONSOLE,
               now: datetime | None = None) -> CompensationRun:
    """A new run, a draft until its dry run is worked out."""
    now = now or timezone.now()
    actor = permissions.require_compensate(actor)
    check_spec(spec, now=now)
    remedy = spec.remedy
    with transaction.atomic():
        run = CompensationRun.objects.create(
            products=list(spec.selection.products), skus=list(spec.selection.skus),
            flags=list(spec.selection.flags), outage_start=spec.window.start,
            outage_end=spec.window.end, remedy=remedy.kind,
            percent_hundredths=remedy.percent_hundredths or None,
            fixed_amounts=dict(remedy.fixed), credit_to=remedy.credit_to if remedy.is_credit
            else "", extension_days=remedy.extension_days,
            message_en=spec.message_en.strip(), message_zh=spec.message_zh.strip(),
            source=source, created_by=actor, created_at=now)
        audit(run, RunEventType.CREATED, actor=actor, before="", now=now,
              details=describe(spec))
    return run


def selection_of(run: CompensationRun) -> Selection:
    return Selection(tuple(run.products), tuple(run.skus), tuple(run.flags))


def dry_run(run: CompensationRun, *, actor: object, now: datetime | None = None
            ) -> CompensationRun:
    """Work out (again) which lines the run would compensate and with what, and keep it as
    the run's items: what a second admin approves, and exactly what the run will do."""
    now = now or timezone.now()
    actor = permissions.require_compensate(actor)
    next_state(run.state, "dry_run")  # a clear refusal before the work
    worked_out = plan(selection_of(run), run.window, run.remedy_spec, now=now, run_id=run.pk)
    figures = worked_out.figures()
    figures["samples"] = worked_out.samples()
    with transaction.atomic():
        run = locked(run)
        run.items.all().delete()
        items = [CompensationItem(
            run=run, order_line_id=line.line_id, account_id=line.account_id,
            currency=line.currency, amount_minor=line.outcome.amount,
            affected=line.outcome.affected, extended_to=line.outcome.extended_to,
            is_capped=line.is_capped,
            state=ItemState.PENDING if line.is_included else ItemState.EXCLUDED,
            reason=line.outcome.excluded, reason_ref=line.reason_ref)
            for line in worked_out.lines]
        CompensationItem.objects.bulk_create(items, batch_size=ITEM_BATCH)
        run.figures, run.planned_at = figures, now
        run.customers_total = figures["customers"]
        move(run, "dry_run", actor=actor, now=now,
             details={key: value for key, value in figures.items() if key != "samples"},
             fields=("figures", "planned_at", "customers_total"))
    return run


def stamp(run: CompensationRun) -> str:
    """What names the dry run a person was shown (it changes with every dry run)."""
    return run.planned_at.astimezone(UTC).isoformat() if run.planned_at else ""


def approve(run: CompensationRun, *, actor: object, seen: str | None = None,
            now: datetime | None = None) -> CompensationRun:
    """The second pair of eyes: an admin other than the creator approves the dry run they
    were shown (`seen`, its stamp); from then on the run's lines are fixed."""
    now = now or timezone.now()
    actor = permissions.require_compensate(actor)
    with transaction.atomic():
        run = locked(run)
        next_state(run.state, "approve")
        permissions.require_second_admin(actor, run.created_by_id)
        if seen is not None and seen != stamp(run):
            raise RunChanged(_("The dry run has been worked out again since you opened the "
                               "page. Nothing was approved: read it again."))
        if not run.figures.get("lines"):
            raise RunError(_("The dry run found nothing to compensate: there is nothing to "
                             "approve."))
        run.approved_by, run.approved_at = actor, now
        move(run, "approve", actor=actor, now=now,
             details={"planned_at": stamp(run), "customers": run.figures.get("customers"),
                      "lines": run.figures.get("lines"),
                      "totals": run.figures.get("totals", {})},
             fields=("approved_by", "approved_at"))
    return run


def decline(run: CompensationRun, *, actor: object, reason: str = "",
            now: datetime | None = None) -> CompensationRun:
    """The second admin says no, with a reason; or the creator withdraws their run."""
    now = now or timezone.now()
    actor = permissions.require_compensate(actor)
    with transaction.atomic():
        run = locked(run)
        next_state(run.state, "decline")
        if actor.pk != run.created_by_id and not reason.strip():
            raise RunError(_("Say why you decline this compensation run."))
        move(run, "decline", actor=actor, now=now, details={"reason": reason.strip()})
    return run


def start(run: CompensationRun, *, actor: object, now: datetime | None = None
          ) -> CompensationRun:
    """Hand the approved run to the worker."""
    now = now or timezone.now()
    actor = permissions.require_compensate(actor)
    with transaction.atomic():
        run = locked(run)
        next_state(run.state, "start")
        run.started_at = now
        queue_run(run, now)
        move(run, "start", actor=actor, now=now, details=progress(run),
             fields=("started_at", "next_attempt_at"))
    return run


def pause(run: CompensationRun, *, actor: object, now: datetime | None = None
          ) -> CompensationRun:
    """Stop after the customer being compensated now; nothing is half done."""
    now = now or timezone.now()
    actor = permissions.require_compensate(actor)
    with transaction.atomic():
        run = locked(run)
        next_state(run.state, "pause")
        run.next_attempt_at = None
        move(run, "pause", actor=actor, now=now, details=progress(run),
             fields=("next_attempt_at",))
    return run


def resume(run: CompensationRun, *, actor: object, now: datetime | None = None
           ) -> CompensationRun:
    """Go on where it stopped (paused, or failed once the cause is dealt with): the lines
    already compensated are not touched again."""
    now = now or timezone.now()
    actor = permissions.require_compensate(actor)
    with transaction.atomic():
        run = locked(run)
        next_state(run.state, "resume")
        run.error = ""
        queue_run(run, now)
        move(run, "resume", actor=actor, now=now, details=progress(run),
             fields=("error", "next_attempt_at"))
    return run
