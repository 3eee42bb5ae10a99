"""Finance's settlement files: the upload form with the earlier imports, and the result of
one import grouped by outcome, what needs looking into first. Importing goes through
payouts/reconcile.py, which checks the role again and never changes a payout."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from refunddesk.cases.errors import NotPermitted
from refunddesk.console.access import console_view
from refunddesk.console.case_payouts import gateway_label
from refunddesk.console.views.payouts import gateway_choices
from refunddesk.core.money import format_money
from refunddesk.payouts import permissions
from refunddesk.payouts.models import Settlement, SettlementLine, SettlementOutcome
from refunddesk.payouts.reconcile import (
    MAX_BYTES,
    MAX_PROBLEMS,
    MAX_ROWS,
    SettlementFileError,
    describe,
    import_settlement,
)

IMPORTS_PER_PAGE = 50
LINES_SHOWN = 200  # per outcome on the result page; "show all" pages through the rest
LINES_PER_PAGE = 200

# What needs looking into comes first; matched lines are only counted, unless opened.
OUTCOME_ORDER = (SettlementOutcome.MISSING, SettlementOutcome.DIFFERS,
                 SettlementOutcome.UNKNOWN, SettlementOutcome.MATCHED)

reconciler = console_view(check=permissions.can_reconcile,
                          message=gettext_lazy("Only finance can import settlement files."))


class UploadForm(forms.Form):
    gateway = forms.ChoiceField(label=gettext_lazy("Gateway"))
    file = forms.FileField(
        label=gettext_lazy("Settlement file"),
        help_text=gettext_lazy("Alipay, WeChat Pay and PayPal: the provider's own file as "
                               "downloaded (Alipay's csv.zip bill, WeChat Pay's refund bill, "
                               "PayPal's settlement report). Other gateways: a UTF-8 CSV whose "
                               "first line names the columns refund_id, amount, currency, "
                               "settled_at and status, in any order."))

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        gateway = self.fields["gateway"]
        assert isinstance(gateway, forms.ChoiceField)  # declared so above
        gateway.choices = [("", _("Choose the gateway")), *gateway_choices()]


@dataclass
class LineView:
    line: SettlementLine
    amount: str
    differences: list[str]


def present_line(line: SettlementLine) -> LineView:
    amount = format_money(line.amount_minor, line.currency) if line.amount_minor is not None else ""
    return LineView(line=line, amount=amount,
                    differences=[describe(item) for item in line.differences or []])


def _imports_page(request: HttpRequest) -> Any:
    settlements = Settlement.objects.select_related("imported_by").order_by("-imported_at",
                                                                            "-id")
    return Paginator(settlements, IMPORTS_PER_PAGE).get_page(request.GET.get("page"))


def _reconcile_page(request: HttpRequest, form: UploadForm, *,
                    problems: list[str] | None = None, status: int = 200) -> HttpResponse:
    problems = problems or []
    imports = _imports_page(request)
    return render(request, "console/payouts/reconcile.html", {
        "form": form, "imports": imports,
        "problems": problems, "has_more_problems": len(problems) >= MAX_PROBLEMS,
        "max_megabytes": MAX_BYTES // (1024 * 1024), "max_rows": f"{MAX_ROWS:,}",
    }, status=status)


@reconciler
@require_http_methods(["GET", "HEAD", "POST"])
def reconcile(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _reconcile_page(request, UploadForm())
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _reconcile_page(request, form, status=400)
    try:
        settlement = import_settlement(form.cleaned_data["file"],
                                       gateway=form.cleaned_data["gateway"],
                                       actor=request.user)
    except NotPermitted as refused:
        form.add_error(None, str(refused.message))
        return _reconcile_page(request, form, status=403)
    except SettlementFileError as refused:
        form.add_error(None, _("The file was not imported: %(reason)s")
                       % {"reason": refused.message})
        return _reconcile_page(request, form, problems=refused.problems, status=400)
    counts = settlement.counts
    messages.success(request, _(
        "Settlement file %(name)s is imported: %(matched)s match, %(differs)s differ, "
        "%(missing)s missing from the file, %(unknown)s not ours.") % {
        "name": settlement.file_name, **{outcome: counts.get(outcome, 0)
                                         for outcome in SettlementOutcome.values}})
    return redirect("console:settlement", settlement_id=settlement.pk)


@reconciler
@require_safe
def settlement_result(request: HttpRequest, settlement_id: int) -> HttpResponse:
    settlement = get_object_or_404(Settlement.objects.select_related("imported_by"),
                                   pk=settlement_id)
    lines = (SettlementLine.objects.filter(settlement=settlement)
             .select_related("payout__case").order_by("line_number", "id"))
    context: dict[str, Any] = {"settlement": settlement,
                               "gateway": gateway_label(settlement.gateway)}
    chosen = request.GET.get("outcome", "")
    if chosen in SettlementOutcome.values:
        page = Paginator(lines.filter(outcome=chosen), LINES_PER_PAGE).get_page(
            request.GET.get("page"))
        context.update(outcome=chosen, outcome_label=SettlementOutcome(chosen).label,
                       page=page, lines=[present_line(line) for line in page])
        return render(request, "console/payouts/settlement.html", context)
    groups = []
    for outcome in OUTCOME_ORDER:
        count = settlement.counts.get(outcome, 0)
        shown = ([present_line(line) for line in lines.filter(outcome=outcome)[:LINES_SHOWN]]
                 if count else [])
        groups.append({"outcome": outcome, "label": SettlementOutcome(outcome).label,
                       "count": count, "lines": shown, "is_cut": count > len(shown),
                       "is_open": outcome != SettlementOutcome.MATCHED})
    context["groups"] = groups
    context["needs_look"] = sum(group["count"] for group in groups
                                if group["outcome"] != SettlementOutcome.MATCHED)
    return render(request, "console/payouts/settlement.html", context)


urls = [
    path("payouts/reconcile/", reconcile, name="reconcile"),
    path("payouts/reconcile/<int:settlement_id>/", settlement_result, name="settlement"),
]
