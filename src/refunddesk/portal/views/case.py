"""A refund case as its customer sees it, and what the customer can do with it: write,
add material, answer a request for information, withdraw, appeal."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from refunddesk.cases import actions, sla
from refunddesk.cases.models import RefundCase
from refunddesk.cases.presenting import present
from refunddesk.cases.states import InvalidTransition, State, holds_lines, next_state
from refunddesk.cases.uploads import FileRefused, UploadRefused
from refunddesk.payouts.presenting import customer_payouts
from refunddesk.portal.answering import InformationRequest, information_request
from refunddesk.portal.forms import (
    AnswerForm,
    AppealForm,
    ConfirmForm,
    DocumentsForm,
    MessageForm,
)
from refunddesk.portal.permissions import (
    case_for_customer,
    customer,
    customer_account,
    customer_required,
)
from refunddesk.recourse.texts import final_no

CASES_PER_PAGE = 20
PAYOUT_STATES = (State.APPROVED, State.PAYING, State.PAYOUT_FAILED)


def can(state: str, action: str) -> bool:
    try:
        next_state(state, action)
    except InvalidTransition:
        return False
    return True


def appeal_is_open(case: RefundCase) -> bool:
    if not can(case.state, "appeal"):
        return False
    closes = sla.appeal_closes(case)
    return closes is None or timezone.now() <= closes


def takes_documents(case: RefundCase) -> bool:
    return holds_lines(case.state) and case.state != State.REFUNDED


@require_safe
@customer_required
def refunds(request: HttpRequest) -> HttpResponse:
    account = customer_account(request.user)
    cases = (RefundCase.objects.filter(account=account).select_related("order")
             .order_by("-submitted_at", "-pk"))
    page = Paginator(cases, CASES_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "portal/refunds.html", {"page": page})


def answer_form(case: RefundCase, asked: InformationRequest, *args: Any) -> AnswerForm:
    return AnswerForm(*args, kinds=case.requested_documents, uploaded=asked.uploaded_kinds)


def render_case(request: HttpRequest, case: RefundCase, *, status: int = 200,
                error: str = "", bound: Mapping[str, forms.Form] | None = None
                ) -> HttpResponse:
    """The case page; `bound` are the forms posted (by their context name), shown again
    with their errors instead of empty ones."""
    bound = bound or {}
    policy = sla.policy_of(case)
    can_supplement = case.state == State.AWAITING_CUSTOMER
    asked = information_request(case) if can_supplement else None
    payout_start = case.decided_at if case.state in PAYOUT_STATES else None
    payouts = customer_payouts(case)
    supplement_form = bound.get("supplement_form") or (
        answer_form(case, asked) if asked is not None else None)
    context: dict[str, Any] = {
        "case": case,
        "error": error,
        "events": case.events.filter(is_customer_visible=True),
        "messages_shown": case.messages.filter(is_internal=False).select_related("author"),
        "documents": case.documents.all(),
        "assessment": present(case.assessment, language=request.LANGUAGE_CODE, policy=policy,
                              payout_start=payout_start),
        # Once the approval planned its payouts they say where the money goes. Before (and
        # for a case approved before payouts were recorded) the assessment's split says
        # it, but only for the amount it assessed: not after a partial approval.
        "payouts": payouts,
        "shows_payout_dates": not payouts and payout_start is not None
        and case.approved_total_minor in (None, case.assessed_total_minor),
        "review_due": case.review_due if case.state == State.IN_REVIEW else None,
        "lines": case.lines.select_related("order_line__product"),
        "can_withdraw": can(case.state, "withdraw"),
        "can_supplement": can_supplement,
        "asked": asked,
        "can_appeal": appeal_is_open(case),
        "appeal_closes": sla.appeal_closes(case) if case.state == State.REJECTED else None,
        "final_no": final_no(case, request.LANGUAGE_CODE),
        "takes_documents": takes_documents(case),
        "message_form": bound.get("message_form") or MessageForm(),
        "documents_form": bound.get("documents_form") or DocumentsForm(),
        "supplement_form": supplement_form,
        # Each document asked for beside its upload field.
        "answer_slots": [(document, supplement_form[AnswerForm.field_name(document.kind)])
                         for document in asked.documents
                         if document.kind in supplement_form.kinds]
        if asked is not None and isinstance(supplement_form, AnswerForm) else [],
        "appeal_form": bound.get("appeal_form") or AppealForm(),
    }
    return render(request, "portal/case.html", context, status=status)


@require_safe
@customer_required
def case_page(request: HttpRequest, tracking_number: str) -> HttpResponse:
    return render_case(request, case_for_customer(request.user, tracking_number))


def _act(request: HttpRequest, case: RefundCase, form: forms.Form, form_key: str,
         file_field: str | None, act: Callable[[], Any], done: str) -> HttpResponse:
    """Validate, call the action, and either go back to the case page with `done`, or show
    the page again with the error on the form; nothing is changed on an error."""
    if not form.is_valid():
        return render_case(request, case, status=400, bound={form_key: form})
    try:
        act()
    except UploadRefused as refused:
        if isinstance(refused, FileRefused) and isinstance(form, AnswerForm):
            file_field = form.field_of_slot(refused.slot)
        form.add_error(file_field, refused.as_validation_error())
        return render_case(request, case, status=400, bound={form_key: form})
    except InvalidTransition:
        case.refresh_from_db()
        return render_case(request, case, status=409, error=_(
            "This cannot be done any more: the case is now “%(state)s”.")
            % {"state": case.state_label})
    except actions.CaseError as error:
        # Shown at the top: the form it came from may no longer be offered (an appeal
        # after its window).
        return render_case(request, case, status=409, error=str(error.message),
                           bound={form_key: form})
    messages.success(request, done)
    return redirect("portal:case", tracking_number=case.tracking_number)


@require_POST
@customer_required
def post_message(request: HttpRequest, tracking_number: str) -> HttpResponse:
    case = case_for_customer(request.user, tracking_number)
    form = MessageForm(request.POST)
    return _act(request, case, form, "message_form", None, lambda: actions.post_message(
        case, actor=customer(request), body=form.cleaned_data["body"]), _("Your message is sent."))


@require_POST
@customer_required
def add_documents(request: HttpRequest, tracking_number: str) -> HttpResponse:
    case = case_for_customer(request.user, tracking_number)
    form = DocumentsForm(request.POST, request.FILES)
    return _act(request, case, form, "documents_form", "files", lambda: actions.add_documents(
        case, actor=customer(request), uploads=form.cleaned_data["files"]),
        _("Your documents are added to the case."))


@require_POST
@customer_required
def supplement(request: HttpRequest, tracking_number: str) -> HttpResponse:
    case = case_for_customer(request.user, tracking_number)
    form = answer_form(case, information_request(case), request.POST, request.FILES)
    return _act(request, case, form, "supplement_form", "files", lambda: actions.supplement(
        case, actor=customer(request), message=form.cleaned_data["message"],
        uploads=form.cleaned_data["files"], documents=form.cleaned_data["documents"]),
        _("Thank you: your answer is sent and the case is back in review."))


@require_POST
@customer_required
def appeal(request: HttpRequest, tracking_number: str) -> HttpResponse:
    case = case_for_customer(request.user, tracking_number)
    form = AppealForm(request.POST, request.FILES)
    return _act(request, case, form, "appeal_form", "files", lambda: actions.appeal(
        case, actor=customer(request), text=form.cleaned_data["text"],
        uploads=form.cleaned_data["files"]),
        _("Your appeal is received: a different reviewer will decide again."))


@require_http_methods(["GET", "POST"])
@customer_required
def withdraw(request: HttpRequest, tracking_number: str) -> HttpResponse:
    case = case_for_customer(request.user, tracking_number)
    form = ConfirmForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            actions.withdraw(case, actor=customer(request))
        except InvalidTransition:
            case.refresh_from_db()
            return render_case(request, case, status=409, error=_(
                "This request can no longer be withdrawn: it is now “%(state)s”.")
                % {"state": case.state_label})
        messages.success(request, _("Your refund request is withdrawn."))
        return redirect("portal:case", tracking_number=case.tracking_number)
    if not can(case.state, "withdraw"):
        return render_case(request, case, status=409, error=_(
            "This request can no longer be withdrawn: it is now “%(state)s”.")
            % {"state": case.state_label})
    return render(request, "portal/withdraw.html", {"case": case, "form": ConfirmForm()})
