"""The policy lab: an admin simulates a version of a policy (or the editor's unsaved text)
over the requests of a period and sees what would change — cases, totals per currency and
per rule — with each changed case's two explanations side by side. The worker runs the
simulation (policies/lab.py); these pages ask for it, follow it and show its figures."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from refunddesk.cases.errors import NotPermitted
from refunddesk.cases.models import RefundCase
from refunddesk.console.access import console_view
from refunddesk.policies import lab, permissions
from refunddesk.policies.dryrun import OUTCOMES
from refunddesk.policies.lab_forms import SimulationForm
from refunddesk.policies.models import PolicySimulation
from refunddesk.policies.overview import name_of, policy_entry
from refunddesk.policies.store import policy_by_ref
from refunddesk.policy.explain import render as render_step
from refunddesk.policy.money import Money
from refunddesk.policy.schema import Policy, PolicyError, policy_from_toml

lab_user = console_view(check=permissions.can_write,
                        message=gettext_lazy("The policy lab is for admins."))

# Changed cases shown per page of a simulation's results.
PAGE = 100


def _locale() -> str:
    language = translation.get_language() or "en"
    return "zh-Hans" if language.lower().startswith("zh") else "en"


@require_http_methods(["GET", "POST"])
@lab_user
def simulate_policy(request: HttpRequest, policy_id: str) -> HttpResponse:
    language = translation.get_language() or "en"
    entry = policy_entry(policy_id, language, at=timezone.now())
    if entry is None:
        raise Http404(_("There is no policy %(policy)s.") % {"policy": policy_id})
    if request.method == "POST" and "from_editor" in request.POST:
        # The editor's "Simulate…" sends its unsaved text here: the form starts from it,
        # with the default period, for the admin to check before running.
        form = SimulationForm(initial={"source": request.POST.get("source", "")},
                              policy_id=policy_id, language=language)
    else:
        form = SimulationForm(request.POST or None, policy_id=policy_id, language=language)
        if not form.is_bound and request.GET.get("version") in form.versions:
            form.fields["version"].initial = request.GET["version"]  # from a version's page
    if request.method == "POST" and form.is_bound and form.is_valid():
        assert form.policy is not None
        try:
            simulation = lab.request_simulation(
                form.policy, form.cleaned_data["text"], start=form.cleaned_data["start"],
                end=form.cleaned_data["end"], tz=timezone.get_current_timezone(),
                product=form.cleaned_data["product"], actor=request.user)
        except NotPermitted as error:
            raise PermissionDenied(error.message) from None
        return redirect("console:policy_simulation", simulation.pk)
    recent = PolicySimulation.objects.filter(policy_id=policy_id).select_related(
        "requested_by")[:20]
    return render(request, "console/policies/simulate.html", {
        "entry": entry, "form": form, "recent": recent, "policy_id": policy_id})


@require_safe
@lab_user
def simulation_detail(request: HttpRequest, simulation_id: int) -> HttpResponse:
    simulation = get_object_or_404(PolicySimulation.objects.select_related("requested_by"),
                                   pk=simulation_id)
    if request.headers.get("HX-Request"):
        return render(request, "console/policies/_simulation_progress.html",
                      {"simulation": simulation})
    context: dict[str, Any] = {"simulation": simulation}
    if simulation.result is not None:
        result = simulation.result
        try:
            page = max(int(request.GET.get("page", "1")), 1)
        except ValueError:
            page = 1
        changes = result["changes"]
        shown = changes[(page - 1) * PAGE:page * PAGE]
        context.update(
            result=result, totals=lab.totals(result), rules=lab.rule_totals(result),
            changes=[_row(change) for change in shown], page=page,
            has_next=page * PAGE < len(changes), has_previous=page > 1,
            kept_fewer=len(changes) < result["changed"])
    return render(request, "console/policies/simulation.html", context)


@require_safe
@lab_user
def simulation_case(request: HttpRequest, simulation_id: int, case_id: int) -> HttpResponse:
    simulation = get_object_or_404(PolicySimulation, pk=simulation_id)
    change = lab.change_of(simulation, case_id)
    if change is None:
        raise Http404(_("This case is not among the simulation's changed cases."))
    case = get_object_or_404(RefundCase, pk=case_id)
    locale = _locale()
    draft = _draft(simulation)
    try:
        assessed_with: Policy | None = policy_by_ref(case.policy_ref)
    except PolicyError:
        assessed_with = None
    before_steps = [(step["code"], step["params"])
                    for step in case.assessment.get("steps", [])]
    return render(request, "console/policies/simulation_case.html", {
        "simulation": simulation, "case": case, "change": _row(change),
        "before_explanation": _explain(before_steps, assessed_with, locale),
        "after_explanation": _explain(change["steps"], draft, locale),
        "draft_name": name_of(draft, locale) if draft else simulation.ref,
    })


def _draft(simulation: PolicySimulation) -> Policy | None:
    try:
        return policy_from_toml(simulation.source)
    except PolicyError:
        return None


def _explain(steps: list[Any], policy: Policy | None, locale: str) -> list[str]:
    if policy is None:
        return []
    return [render_step(code, params, locale, policy) for code, params in steps]


def _row(change: dict[str, Any]) -> dict[str, Any]:
    currency = change["currency"]

    def side(figures: dict[str, Any] | None) -> dict[str, Any] | None:
        if figures is None:
            return None
        return {"outcome": str(OUTCOMES.get(figures["outcome"], figures["outcome"])),
                "rule": figures["rule"], "total": Money(figures["total"], currency)}

    before, after = side(change["before"]), side(change["after"])
    difference = (after["total"] - before["total"]) if after and before else None
    return {"case": change["case"], "tracking_number": change["tracking_number"],
            "currency": currency, "before": before, "after": after,
            "difference": difference, "error": change["error"]}


urls = [
    path("policies/<slug:policy_id>/simulate/", simulate_policy, name="policy_simulate"),
    path("policies/simulations/<int:simulation_id>/", simulation_detail,
         name="policy_simulation"),
    path("policies/simulations/<int:simulation_id>/cases/<int:case_id>/", simulation_case,
         name="policy_simulation_case"),
]
