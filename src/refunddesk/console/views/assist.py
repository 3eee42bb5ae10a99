"""Apply for a caller: an agent on the phone or in chat finds the customer, chooses the
order and lines with the live quote in front of them, checks who is calling, and opens the
case (channel `agent`) through cases/actions/assisted.py.

The account's e-mail and phone are shown masked and payment references not at all: they
are what the caller has to tell the agent, so the page must not tempt anyone to read them
out to the caller.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q, QuerySet, Value
from django.db.models.functions import Replace
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from refunddesk.applying.forms import QuoteForm
from refunddesk.applying.lines import OrderRow, line_rows
from refunddesk.applying.quoting import quote_context
from refunddesk.billing.models import Account, Order
from refunddesk.cases import actions, permissions
from refunddesk.cases.actions.assisted import phone_matches
from refunddesk.cases.uploads import UploadRefused
from refunddesk.console.access import console_view, staff_member
from refunddesk.console.assist_forms import AssistForm, CustomerSearchForm

ACCOUNTS_PER_PAGE = 20
ORDERS_PER_PAGE = 10
PHONE_MIN_DIGITS = 7
PHONE_LIKE = re.compile(r"^\+?[\d\s().-]+$")


def can_open_cases(user: Any) -> bool:
    return permissions.has(user, "open_case_for_customer")


assist_view = console_view(
    check=can_open_cases,
    message=gettext_lazy("Your role does not open cases for customers."))


def masked_email(email: str) -> str:
    local, _at, domain = email.partition("@")
    return f"{local[:1]}•••@{domain}" if domain else "•••"


def masked_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    return f"••• {digits[-4:]}" if digits else ""


def accounts_by_phone(query: str) -> list[int]:
    """Accounts whose phone is the number typed, with or without a country code, however
    either is spaced: the same comparison the identity check makes."""
    digits = re.sub(r"\D", "", query)
    if not PHONE_LIKE.match(query) or len(digits) < PHONE_MIN_DIGITS:
        return []
    phone_digits: Any = "phone"
    for separator in (" ", "-", "(", ")", "+", "."):
        phone_digits = Replace(phone_digits, Value(separator), Value(""))
    candidates = (Account.objects.exclude(phone="").annotate(phone_digits=phone_digits)
                  .filter(phone_digits__contains=digits[-PHONE_MIN_DIGITS:])
                  .values_list("pk", "phone"))
    return [pk for pk, phone in candidates if phone_matches(query, phone)]


def find_accounts(query: str) -> QuerySet[Account]:
    """By e-mail, phone, account id, name or order id; never by what the caller must prove
    (a payment reference)."""
    orders = Order.objects.filter(external_id__icontains=query).values("account_id")
    condition = (Q(email__icontains=query) | Q(external_id__icontains=query)
                 | Q(name__icontains=query) | Q(pk__in=orders))
    by_phone = accounts_by_phone(query)
    if by_phone:
        condition |= Q(pk__in=by_phone)
    return (Account.objects.filter(condition).annotate(order_count=Count("orders"))
            .order_by("name", "external_id"))


@require_safe
@assist_view
def assist(request: HttpRequest) -> HttpResponse:
    form = CustomerSearchForm(request.GET if "q" in request.GET else None)
    context: dict[str, Any] = {"form": form, "page": None}
    if form.is_valid():
        query = form.cleaned_data["q"]
        page = Paginator(find_accounts(query), ACCOUNTS_PER_PAGE).get_page(
            request.GET.get("page"))
        exact_order = Order.objects.filter(external_id__iexact=query).first()
        context.update(query=query, page=page, results=[
            {"account": account, "email": masked_email(account.email),
             "phone": masked_phone(account.phone),
             "order": exact_order.external_id
             if exact_order and exact_order.account_id == account.pk else ""}
            for account in page])
    return render(request, "console/assist/search.html", context,
                  status=400 if form.is_bound and not form.is_valid() else 200)


def customer_language(account: Account) -> str:
    """The language of the customer's last case, else the desk's default."""
    last = (account.refund_cases.order_by("-submitted_at")
            .values_list("language", flat=True).first())
    return last or settings.LANGUAGE_CODE


def _form(request: HttpRequest, account: Account, order: Order, *, bound: bool) -> AssistForm:
    lines = list(order.lines.select_related("product"))
    taken = {row.line.line_id: row.case.tracking_number
             for row in line_rows(lines, request.LANGUAGE_CODE) if row.case is not None}
    kwargs: dict[str, Any] = dict(lines=lines, taken=taken, language=request.LANGUAGE_CODE)
    if bound:
        return AssistForm(request.POST, request.FILES, **kwargs)
    return AssistForm(initial={"language": customer_language(account)}, **kwargs)


def _account_context(account: Account) -> dict[str, Any]:
    return {"account": account, "email": masked_email(account.email),
            "phone": masked_phone(account.phone)}


def _order_list(request: HttpRequest, account: Account, *, status: int = 200) -> HttpResponse:
    orders = account.orders.order_by("-placed_at", "-pk").prefetch_related(
        "lines__product", "payments")
    page = Paginator(orders, ORDERS_PER_PAGE).get_page(request.GET.get("page"))
    lines = [line for order in page for line in order.lines.all()]
    rows = {row.line.pk: row for row in line_rows(lines, request.LANGUAGE_CODE)}
    return render(request, "console/assist/account.html", {
        **_account_context(account), "page": page,
        "orders": [OrderRow(order, [rows[line.pk] for line in order.lines.all()])
                   for order in page],
    }, status=status)


def _apply_page(request: HttpRequest, account: Account, order: Order, form: AssistForm, *,
                status: int = 200) -> HttpResponse:
    # A bound form is bound to request.POST (_form), which has every line chosen.
    chosen = request.POST.getlist("lines") if form.is_bound else []
    lines = line_rows(list(order.lines.select_related("product")), request.LANGUAGE_CODE)
    return render(request, "console/assist/apply.html", {
        **_account_context(account), "order": order, "form": form, "lines": lines,
        "chosen": chosen, "payments": order.payments.order_by("position", "pk"),
        **quote_context(order, [c for c in chosen if c not in form.taken],
                        request.LANGUAGE_CODE),
    }, status=status)


def _open_case(request: HttpRequest, account: Account, order: Order) -> HttpResponse:
    form = _form(request, account, order, bound=True)
    if request.POST.get("action") == "quote":  # the quote without JavaScript
        return _apply_page(request, account, order, form)
    if not form.is_valid():
        return _apply_page(request, account, order, form, status=400)
    data = form.cleaned_data
    identity = actions.IdentityCheck(
        contact=data["contact"], order_number=data["order_number"],
        payment_reference=data["payment_reference"],
        has_payment_receipt=data["has_payment_receipt"])
    try:
        cases = actions.open_for_customer(
            account=account, order=order, line_ids=data["lines"], actor=staff_member(request),
            identity=identity, reason_category=data["reason_category"],
            reason_text=data["reason_text"].strip(), uploads=data["attachments"],
            language=data["language"])
    except actions.IdentityNotConfirmed as refused:
        for problem, message in refused.problems.items():
            form.checklist_error(problem, message)
        form.add_error(None, _("The caller's answers do not match this account and order, "
                               "so no case was opened. Check the answers marked below."))
        return _apply_page(request, account, order, form, status=400)
    except UploadRefused as refused:
        form.add_error("attachments", refused.as_validation_error())
        return _apply_page(request, account, order, form, status=400)
    except actions.LinesAlreadyInCase as error:
        form.add_error("lines", str(error.message))
        return _apply_page(request, account, order, form, status=409)
    except actions.NotPermitted as error:
        form.add_error(None, str(error.message))
        return _apply_page(request, account, order, form, status=403)
    except actions.CaseError as error:
        form.add_error(None, str(error.message))
        return _apply_page(request, account, order, form, status=409)
    if len(cases) == 1:
        told = _("Case opened. Read the tracking number to the caller: %(number)s") % {
            "number": cases[0].tracking_number}
    else:
        told = _("%(count)d cases opened, one per refund policy of the lines. Read every "
                 "tracking number to the caller: %(numbers)s") % {
            "count": len(cases),
            "numbers": ", ".join(case.tracking_number for case in cases)}
    messages.success(request, told)
    return redirect("console:case", tracking_number=cases[0].tracking_number)


@require_http_methods(["GET", "POST"])
@assist_view
def assist_account(request: HttpRequest, account_id: str) -> HttpResponse:
    """Without an order: the account's orders to choose from. With one (`order` in the
    query or the form): its lines, the quote and the checklist; posting opens the case."""
    account = get_object_or_404(Account, external_id=account_id)
    order_id = (request.POST if request.method == "POST" else request.GET).get("order", "")
    if not order_id:
        if request.method == "POST":
            messages.error(request, _("Choose the order first."))
            return _order_list(request, account, status=400)
        only = list(account.orders.all()[:2])
        if len(only) != 1:
            return _order_list(request, account)
        order = only[0]
    else:
        order = get_object_or_404(Order, account=account, external_id=order_id)
    if request.method == "POST":
        return _open_case(request, account, order)
    return _apply_page(request, account, order, _form(request, account, order, bound=False))


@require_POST
@assist_view
def assist_quote(request: HttpRequest, account_id: str) -> HttpResponse:
    """The quote panel alone, for htmx: posted whenever the choice of lines changes."""
    account = get_object_or_404(Account, external_id=account_id)
    order = get_object_or_404(Order, account=account, external_id=request.POST.get("order", ""))
    lines = list(order.lines.select_related("product"))
    form = QuoteForm(request.POST, lines=lines)
    taken = {row.line.line_id for row in line_rows(lines, request.LANGUAGE_CODE) if row.case}
    line_ids = [c for c in form.cleaned_data["lines"] if c not in taken] if form.is_valid() else []
    return render(request, "console/assist/quote.html", {
        "order": order, **quote_context(order, line_ids, request.LANGUAGE_CODE)})


urls = [
    path("assist/", assist, name="assist"),
    path("assist/<str:account_id>/", assist_account, name="assist_account"),
    path("assist/<str:account_id>/quote/", assist_quote, name="assist_quote"),
]
