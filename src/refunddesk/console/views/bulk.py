"""The queue's bulk actions: the ticked cases claimed, assigned or rejected, each through its
own action (console/bulk.py), with a page that says per case what was done and what was
refused and why. Rejecting tells every customer, so it asks for a confirmation first.

Nothing selected, or too many, is said on the queue the agent came from; any other mistake
in the input is shown on this page with the selection kept, and changes nothing."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from refunddesk.cases import permissions
from refunddesk.cases.models import RefundCase
from refunddesk.console import bulk
from refunddesk.console.access import console_view
from refunddesk.console.bulk_forms import BulkForm
from refunddesk.console.case_presenting import state_label
from refunddesk.console.views.queue import queue_address
from refunddesk.core.money import format_money

works = console_view(check=permissions.can_work,
                     message=gettext_lazy("Your role does not handle refund cases."))


def _selected(numbers: list[str], form: BulkForm | None = None) -> list[dict[str, Any]]:
    """The selected cases as the confirmation lists them, in the order they were ticked,
    with the message each customer would read when `form` is a rejection to confirm."""
    found = (RefundCase.objects.select_related("account", "assignee")
             .in_bulk(numbers, field_name="tracking_number"))
    rows = []
    for number in numbers:
        case = found.get(number)
        rows.append({"tracking_number": number, "case": case,
                     "state": state_label(case.state) if case else "",
                     "amount": (format_money(case.assessed_total_minor, case.currency)
                                if case else ""),
                     "message": form.message_for(case) if form and case else ""})
    return rows


def _run(form: BulkForm, actor: Any) -> bulk.BulkResult:
    data = form.cleaned_data
    numbers = data["case"]
    if data["action"] == bulk.CLAIM:
        return bulk.claim(numbers, actor=actor)
    if data["action"] == bulk.ASSIGN:
        return bulk.assign(numbers, actor=actor, assignee=data["assignee"])
    return bulk.reject(numbers, actor=actor, reason=data["reason"], message=form.message_for)


@works
@require_POST
def bulk_action(request: HttpRequest) -> HttpResponse:
    back = queue_address(request)
    form = BulkForm(request.POST, language=request.LANGUAGE_CODE)
    if not form.is_valid() and form.is_selection_error:
        for error in form.errors["case"]:
            # Read from an ErrorList, each is its message already (ErrorList.__getitem__);
            # the stubs type it as the ValidationError it may be stored as.
            messages.error(request, str(error))
        return redirect(back)
    context: dict[str, Any] = {"form": form, "next": back}
    if not form.is_valid():
        context["selected"] = _selected(form.cleaned_data["case"])
        return render(request, "console/queue/bulk.html", context, status=400)
    if form.needs_confirmation:
        context["selected"] = _selected(form.cleaned_data["case"], form)
        context["confirming"] = True
        context["reason_name"] = form.cleaned_data["reason"].name_for(request.LANGUAGE_CODE)
        return render(request, "console/queue/bulk.html", context)
    context["result"] = _run(form, request.user)
    return render(request, "console/queue/bulk.html", context)


urls = [
    path("queue/bulk", bulk_action, name="queue_bulk"),
]
