"""The policy lab's simulations in the console: asked for by an admin, run by the worker
(a simulation of a quarter reads thousands of cases), their figures kept with the text that
was simulated. The figures come from policies/simulation.py; this module stores and reads
them.

The stored figures are minor units per currency; every changed case keeps both sides'
figures and the draft's explanation steps, so the drill-down shows both explanations in
the viewer's language without assessing again."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from refunddesk.policies import permissions
from refunddesk.policies.models import PolicySimulation, SimulationState
from refunddesk.policies.simulation import Figures, Simulation, simulate
from refunddesk.policy.money import Money
from refunddesk.policy.schema import Policy, PolicyError, policy_from_toml

log = logging.getLogger(__name__)

# Changed cases kept for the drill-down; the counts and totals cover every case.
KEPT_CHANGES = 2000


def request_simulation(policy: Policy, source: str, *, start: date, end: date, tz: ZoneInfo,
                       product: str, actor: object, now: datetime | None = None
                       ) -> PolicySimulation:
    """Record a simulation and leave it to the worker."""
    actor = permissions.require_write(actor)
    if end < start:
        raise ValueError("the period ends before it starts")
    with transaction.atomic():
        simulation = PolicySimulation.objects.create(
            policy_id=policy.id, ref=policy.ref, source=source, start=start, end=end,
            time_zone=tz.key, product=product, requested_by=actor,
            requested_at=now or timezone.now())
        run_simulation.enqueue(simulation.pk)
    return simulation


@task()
def run_simulation(simulation_id: int) -> str:
    """Idempotent: a simulation already done is left as it is; one interrupted is run
    again from the start (it writes nothing but its own row)."""
    claimed = (PolicySimulation.objects
               .filter(pk=simulation_id,
                       state__in=[SimulationState.QUEUED, SimulationState.RUNNING])
               .update(state=SimulationState.RUNNING, cases_done=0))
    simulation = PolicySimulation.objects.get(pk=simulation_id)
    if not claimed:
        return simulation.state

    def progress(done: int, total: int) -> None:
        PolicySimulation.objects.filter(pk=simulation_id).update(cases_done=done,
                                                                 cases_total=total)

    try:
        policy = policy_from_toml(simulation.source)
        result = simulate(policy, start=simulation.start, end=simulation.end,
                          tz=ZoneInfo(simulation.time_zone), product=simulation.product,
                          progress=progress)
    except (PolicyError, ValueError) as error:
        _finish(simulation_id, SimulationState.FAILED, error=str(error))
        return SimulationState.FAILED
    except Exception as error:
        log.exception("policy simulation %s failed", simulation_id)
        _finish(simulation_id, SimulationState.FAILED,
                error=f"{type(error).__name__}: {error}"[:2000])
        return SimulationState.FAILED
    _finish(simulation_id, SimulationState.DONE, result=stored(result),
            cases=result.cases)
    return SimulationState.DONE


def _finish(simulation_id: int, state: str, *, result: dict[str, Any] | None = None,
            error: str = "", cases: int | None = None) -> None:
    fields: dict[str, Any] = {"state": state, "error": error, "finished_at": timezone.now()}
    if result is not None:
        fields["result"] = result
    if cases is not None:
        fields.update(cases_done=cases, cases_total=cases)
    PolicySimulation.objects.filter(pk=simulation_id).update(**fields)


def stored(result: Simulation) -> dict[str, Any]:
    """The figures as kept on the row (JSON)."""
    return {
        "cases": result.cases, "changed": result.changed,
        "failed": sum(1 for change in result.changes if change.error),
        "totals": {currency: figures for currency, figures in sorted(result.totals.items())},
        "rules": [[currency, rule, before, after]
                  for (currency, rule), (before, after) in sorted(result.rules.items())],
        "changes": [
            {"case": change.case_id, "tracking_number": change.tracking_number,
             "currency": change.currency, "before": _figures(change.before),
             "after": _figures(change.after) if change.after is not None else None,
             "steps": ([[code, params] for code, params
                        in change.assessment.plain_steps()] if change.assessment else []),
             "error": change.error}
            for change in result.changes[:KEPT_CHANGES]],
    }


def _figures(figures: Figures) -> dict[str, Any]:
    return {"outcome": figures.outcome, "rule": figures.rule, "total": figures.total,
            "lines": [list(line) for line in figures.lines]}


# -- reading the figures back -------------------------------------------------------------

@dataclass(frozen=True)
class Total:
    currency: str
    before: Money
    after: Money

    @property
    def difference(self) -> Money:
        return self.after - self.before


@dataclass(frozen=True)
class RuleTotal:
    currency: str
    rule: str
    before: Money
    after: Money

    @property
    def difference(self) -> Money:
        return self.after - self.before


def totals(result: dict[str, Any]) -> list[Total]:
    return [Total(currency, Money(before, currency), Money(after, currency))
            for currency, (before, after) in result["totals"].items()]


def rule_totals(result: dict[str, Any]) -> list[RuleTotal]:
    return [RuleTotal(currency, rule, Money(before, currency), Money(after, currency))
            for currency, rule, before, after in result["rules"]]


def change_of(simulation: PolicySimulation, case_id: int) -> dict[str, Any] | None:
    for change in (simulation.result or {}).get("changes", []):
        if change["case"] == case_id:
            return dict(change)
    return None
