"""Mass compensation in the console, for admins: the runs, a new run (its selection, outage
and remedy; the dry run is worked out at once), the dry run to read and approve (by a
second admin) or decline, starting, pausing and resuming, and the progress while it runs.
Every step goes through refunddesk.compensation.actions, which checks the role and the four
eyes again and audits who did what."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from refunddesk.cases.errors import CaseError
from refunddesk.compensation import actions
from refunddesk.compensation.forms import DeclineForm, RunForm
from refunddesk.compensation.models import CompensationRun, Source
from refunddesk.compensation.permissions import can_compensate
from refunddesk.compensation.presenting import (
    REASON_LABELS,
    done_so_far,
    event_rows,
    reason_label,
    remedy_text,
    selection_text,
)
from refunddesk.compensation.states import RunState
from refunddesk.console.access import console_view

admins = console_view(check=can_compensate,
                      message=gettext_lazy("Mass compensations are run by admins."))

LISTED = 100


@admins
@require_safe
def compensation_list(request: HttpRequest) -> HttpResponse:
    runs = list(CompensationRun.objects.select_related("created_by", "approved_by")[:LISTED])
    return render(request, "console/compensation/list.html", {
        "runs": [(run, remedy_text(run)) for run in runs]})


@admins
@require_http_methods(["GET", "POST"])
def compensation_new(request: HttpRequest) -> HttpResponse:
    form = RunForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            run = actions.create_run(form.cleaned_data["spec"], actor=request.user,
                                     source=Source.CONSOLE)
        except CaseError as refusal:
            form.add_error(None, str(refusal.message))
        else:
            actions.dry_run(run, actor=request.user)
            messages.success(request, _("The run is planned and its dry run worked out. "
                                        "Another admin approves it."))
            return redirect("console:compensation_run", run.pk)
    return render(request, "console/compensation/new.html", {"form": form},
                  status=400 if form.is_bound else 200)


def _run_context(request: HttpRequest, run: CompensationRun, **extra: Any) -> dict[str, Any]:
    figures = run.figures or {}
    return {
        "run": run, "remedy": remedy_text(run), "selection": selection_text(run),
        "figures": figures,
        "totals": sorted((figures.get("totals") or {}).items()),
        "excluded": [(reason_label(code), count)
                     for code, count in (figures.get("excluded") or {}).items()],
        "samples": figures.get("samples") or [],
        "done": done_so_far(run), "events": event_rows(run),
        "reason_labels": REASON_LABELS, "stamp": actions.stamp(run),
        "is_creator": run.created_by_id == request.user.pk,
        "is_running": run.state == RunState.RUNNING,
        "decline_form": extra.pop("decline_form", None) or DeclineForm(),
        **extra}


@admins
@require_safe
def compensation_run(request: HttpRequest, run_id: int) -> HttpResponse:
    run = get_object_or_404(CompensationRun.objects.select_related("created_by",
                                                                   "approved_by"), pk=run_id)
    if request.headers.get("HX-Request"):
        return render(request, "console/compensation/_progress.html",
                      {"run": run, "done": done_so_far(run),
                       "is_running": run.state == RunState.RUNNING})
    return render(request, "console/compensation/run.html", _run_context(request, run))


def _step(request: HttpRequest, run_id: int, step: Any, done: str, **arguments: Any
          ) -> HttpResponse:
    run = get_object_or_404(CompensationRun, pk=run_id)
    try:
        step(run, actor=request.user, **arguments)
    except CaseError as refusal:
        messages.error(request, str(refusal.message))
    else:
        messages.success(request, done)
    return redirect("console:compensation_run", run_id)


@admins
@require_POST
def compensation_dry_run(request: HttpRequest, run_id: int) -> HttpResponse:
    return _step(request, run_id, actions.dry_run, _("The dry run is worked out again."))


@admins
@require_POST
def compensation_approve(request: HttpRequest, run_id: int) -> HttpResponse:
    return _step(request, run_id, actions.approve,
                 _("Approved. Start the run when you are ready."),
                 seen=request.POST.get("seen", ""))


@admins
@require_POST
def compensation_decline(request: HttpRequest, run_id: int) -> HttpResponse:
    form = DeclineForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The reason is at most 2,000 characters."))
        return redirect("console:compensation_run", run_id)
    return _step(request, run_id, actions.decline, _("The run is declined."),
                 reason=form.cleaned_data["reason"])


@admins
@require_POST
def compensation_start(request: HttpRequest, run_id: int) -> HttpResponse:
    return _step(request, run_id, actions.start,
                 _("The run has started: a worker compensates customer after customer."))


@admins
@require_POST
def compensation_pause(request: HttpRequest, run_id: int) -> HttpResponse:
    return _step(request, run_id, actions.pause,
                 _("The run is paused after the customer being compensated now."))


@admins
@require_POST
def compensation_resume(request: HttpRequest, run_id: int) -> HttpResponse:
    return _step(request, run_id, actions.resume,
                 _("The run goes on where it stopped."))


urls = [
    path("compensation/", compensation_list, name="compensation_list"),
    path("compensation/new/", compensation_new, name="compensation_new"),
    path("compensation/<int:run_id>/", compensation_run, name="compensation_run"),
    path("compensation/<int:run_id>/dry-run/", compensation_dry_run,
         name="compensation_dry_run"),
    path("compensation/<int:run_id>/approve/", compensation_approve,
         name="compensation_approve"),
    path("compensation/<int:run_id>/decline/", compensation_decline,
         name="compensation_decline"),
    path("compensation/<int:run_id>/start/", compensation_start, name="compensation_start"),
    path("compensation/<int:run_id>/pause/", compensation_pause, name="compensation_pause"),
    path("compensation/<int:run_id>/resume/", compensation_resume,
         name="compensation_resume"),
]
