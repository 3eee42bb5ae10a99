"""Apply for a refund: choose lines of an order, see the live quote, give a reason and
evidence, submit; then the confirmation with the tracking number."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from refunddesk.applying.forms import ApplyForm, QuoteForm
from refunddesk.applying.lines import line_rows
from refunddesk.applying.quoting import quote_context
from refunddesk.billing.models import Order
from refunddesk.cases import actions
from refunddesk.cases.uploads import UploadRefused
from refunddesk.portal.permissions import (
    case_for_customer,
    customer,
    customer_account,
    customer_required,
    order_for_customer,
)


def _page(request: HttpRequest, order: Order, form: ApplyForm, *, status: int = 200
          ) -> HttpResponse:
    # A bound form is bound to request.POST (_form), which has every line chosen.
    chosen = request.POST.getlist("lines") if form.is_bound else []
    lines = line_rows(list(order.lines.select_related("product")), request.LANGUAGE_CODE)
    return render(request, "portal/apply.html", {
        "order": order, "form": form, "lines": lines, "chosen": chosen,
        **quote_context(order, [c for c in chosen if c not in form.taken],
                        request.LANGUAGE_CODE),
    }, status=status)


def _form(request: HttpRequest, order: Order, *, bound: bool) -> ApplyForm:
    lines = list(order.lines.select_related("product"))
    taken = {row.line.line_id: row.case.tracking_number
             for row in line_rows(lines, request.LANGUAGE_CODE) if row.case is not None}
    if bound:
        return ApplyForm(request.POST, request.FILES, lines=lines, taken=taken,
                         language=request.LANGUAGE_CODE)
    return ApplyForm(lines=lines, taken=taken, language=request.LANGUAGE_CODE)


@require_http_methods(["GET", "POST"])
@customer_required
def apply(request: HttpRequest, order_id: str) -> HttpResponse:
    order = order_for_customer(request.user, order_id)
    if request.method == "GET":
        return _page(request, order, _form(request, order, bound=False))
    form = _form(request, order, bound=True)
    if request.POST.get("action") == "quote":  # the quote without JavaScript
        return _page(request, order, form)
    if not form.is_valid():
        return _page(request, order, form, status=400)
    try:
        cases = actions.open_cases(
            account=customer_account(request.user), order=order,
            line_ids=form.cleaned_data["lines"], actor=customer(request), channel="portal",
            reason_category=form.cleaned_data["reason_category"],
            reason_text=form.cleaned_data["reason_text"].strip(),
            uploads=form.cleaned_data["attachments"], language=request.LANGUAGE_CODE)
    except UploadRefused as refused:
        form.add_error("attachments", refused.as_validation_error())
        return _page(request, order, form, status=400)
    except actions.CaseError as error:
        form.add_error(None, str(error.message))
        return _page(request, order, form, status=409)
    # The confirmation of the first case lists every case the submission opened.
    return redirect("portal:received", tracking_number=cases[0].tracking_number)


@require_POST
@customer_required
def quote(request: HttpRequest, order_id: str) -> HttpResponse:
    """The quote panel alone, for htmx: posted whenever the choice of lines changes."""
    order = order_for_customer(request.user, order_id)
    lines = list(order.lines.all())
    form = QuoteForm(request.POST, lines=lines)
    line_ids = form.cleaned_data["lines"] if form.is_valid() else []
    return render(request, "portal/quote.html", {
        "order": order, **quote_context(order, line_ids, request.LANGUAGE_CODE)})


@require_safe
@customer_required
def received(request: HttpRequest, tracking_number: str) -> HttpResponse:
    case = case_for_customer(request.user, tracking_number)
    return render(request, "portal/received.html", {
        "case": case, "cases": case.submitted_together()})
